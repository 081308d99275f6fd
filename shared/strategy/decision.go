package strategy

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/engagement"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
	"github.com/recoup-dev/recoup/shared/preference"
	"github.com/recoup-dev/recoup/shared/ranking"
)

// Input is what the engine knows of one customer when it plans: the ledger,
// what the person told us, the contact history and the models'
// recommendations. Everything is as of Now.
type Input struct {
	Tenant   ledger.TenantID
	Customer ledger.Customer
	// Invoices are the customer's invoices; those without an open balance
	// are ignored, and an invoice missing here counts as paid.
	Invoices []ledger.Invoice
	// Payments tell a kept promise from a broken one before the ledger
	// closes its invoices; optional.
	Payments []ledger.Payment
	Promises []ledger.PromiseToPay
	Disputes []ledger.Dispute
	// Flags are what the person told us that routes collection to a
	// person: hardship, bankruptcy, attorney... (dispatch.Standing.Flags).
	Flags []compliance.Flag
	// Contacts are earlier attempts of any channel, in any order.
	Contacts []Contact
	// Score is the ranking's rollup for the customer in its main
	// currency; nil when the model has not scored it (cold start).
	Score *ranking.CustomerScore
	// Preferred is the preference model's recommendation; zero when none.
	Preferred preference.Choice
	// Reachable are the channels the customer can be reached on (a contact
	// point on file with consent not revoked). None reachable: a person
	// finds a way.
	Reachable []consent.Channel
	// Blocked are channels the dispatch gate refused for a reason that
	// stands until the person's consent changes (no consent to text, a
	// medium refused). They are left out of Reachable, so the sequence
	// moves to a channel that can carry it instead of being refused again.
	Blocked []Block
	// Value is the worklist's expected value of acting now, when known. It
	// is recorded in the trace, not used: the models recommend, the engine
	// decides.
	Value *money.Amount
	// Now is the planning instant.
	Now time.Time
}

// Contact is one earlier attempt to reach the customer.
type Contact struct {
	At      time.Time
	Channel consent.Channel
	// Action and Step say what it was; a manual contact has no step and
	// counts as the first step of the sequence with the same action.
	Action Action
	Step   string
	// Result is the strongest signal it drew (replied, answered, paid,
	// promised, clicked are responses); empty while unknown.
	Result engagement.Signal
}

// Block is a channel the gate refused, the rule that refused it and when.
type Block struct {
	Channel consent.Channel `json:"channel"`
	Rule    string          `json:"rule"`
	At      time.Time       `json:"at"`
}

// responded reports whether the result is a useful response, as the
// preference model counts them: opens are not (privacy proxies open mail
// nobody reads), and neither are deliveries.
func (c Contact) responded() bool {
	switch c.Result {
	case engagement.SignalReplied, engagement.SignalClicked, engagement.SignalAnswered,
		engagement.SignalPaid, engagement.SignalPromised:
		return true
	}
	return false
}

// Outcome is the kind of decision.
type Outcome string

// Outcomes.
const (
	// OutcomeNone: nothing to do (nothing overdue, or the account was
	// handed off).
	OutcomeNone Outcome = "none"
	// OutcomeWait: the next step is not due yet; Action and Step name it
	// and When is when to plan again.
	OutcomeWait Outcome = "wait"
	// OutcomeAct: carry out Action at When.
	OutcomeAct Outcome = "act"
	// OutcomeFollowUp: a promise to pay is open; follow up on it at When
	// instead of any reminder.
	OutcomeFollowUp Outcome = "follow_up"
	// OutcomeEscalate: carry out Action at When, ahead of the sequence,
	// because a promise was broken or attempts got no response.
	OutcomeEscalate Outcome = "escalate"
	// OutcomeReview: a person must take the account and nothing is
	// planned to happen by itself. Action and Step, when set, name the step
	// the sequence would take (e.g. when no channel can carry it).
	OutcomeReview Outcome = "review"
)

// Approval reason codes. A compliance flag's reason has the flag's name as
// its code (hardship, bankruptcy, deceased, active_duty, attorney).
const (
	ApprovalDispute     = "dispute"
	ApprovalHighBalance = "high_balance"
	ApprovalKeyAccount  = "key_account_first_contact"
	ApprovalAction      = "action"
	ApprovalNoChannel   = "no_channel"
	ApprovalSequenceEnd = "sequence_ended"
	ApprovalInput       = "input_error"
)

// ApprovalReason is one reason a person must look before anything is sent.
type ApprovalReason struct {
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

// Decision is the engine's choice for one customer, with everything needed
// to explain and replay it.
type Decision struct {
	Tenant   ledger.TenantID `json:"tenant"`
	Customer string          `json:"customer"`
	Outcome  Outcome         `json:"outcome"`
	Action   Action          `json:"action,omitempty"`
	Step     string          `json:"step,omitempty"`
	Segment  string          `json:"segment,omitempty"`
	// Channel is empty for actions without a message.
	Channel consent.Channel `json:"channel,omitempty"`
	// When is in UTC, inside the tenant's business hours; zero for none
	// and review.
	When time.Time `json:"when,omitzero"`
	Tone Tone      `json:"tone,omitempty"`
	// DunningLevel is the step's 1-based position in its sequence.
	DunningLevel int `json:"dunning_level,omitempty"`
	// Invoices are the overdue invoices one message covers, sorted; a
	// disputed invoice is left out until its dispute is resolved.
	Invoices []string `json:"invoices,omitempty"`
	// Totals are their open balances per currency, by currency code.
	Totals           []Amount         `json:"totals,omitempty"`
	RequiresApproval bool             `json:"requires_approval"`
	Approval         []ApprovalReason `json:"approval_reasons,omitempty"`
	// Reason says it in a collector's words.
	Reason string `json:"reason"`
	// HandedOff is set when the sequence ended in a hand-off: nothing more
	// is this engine's to do for the account, whatever is still open.
	HandedOff bool  `json:"handed_off,omitempty"`
	Trace     Trace `json:"trace"`
}

// Trace is how the decision was reached: which config, which facts and
// which rules.
type Trace struct {
	ConfigVersion string `json:"config_version"`
	ConfigHash    string `json:"config_hash"` // Config.Hash
	Facts         Facts  `json:"facts"`
	// Path lists the rules taken, in order.
	Path []string `json:"path"`
}

// Facts are the inputs the decision used.
type Facts struct {
	Now             time.Time           `json:"now"`
	Kind            ledger.CustomerKind `json:"kind,omitempty"`
	KeyAccount      bool                `json:"key_account"`
	CustomerSegment string              `json:"customer_segment,omitempty"`
	// OverdueInvoices counts every open invoice past due, disputed ones
	// included; DaysPastDue is the oldest undisputed one's age.
	OverdueInvoices int               `json:"overdue_invoices"`
	DaysPastDue     int               `json:"days_past_due"`
	Disputed        []string          `json:"disputed_invoices,omitempty"`
	Flags           []compliance.Flag `json:"flags,omitempty"`
	// EpisodeStart is when the oldest overdue invoice fell due: contacts
	// before it belong to an earlier delinquency.
	EpisodeStart time.Time `json:"episode_start,omitzero"`
	// PayProbability is the ranking's probability of payment within
	// PayHorizonDays; absent on a cold start.
	PayProbability    *float64 `json:"pay_probability,omitempty"`
	PayHorizonDays    int      `json:"pay_horizon_days,omitempty"`
	ExpectedDaysToPay *float64 `json:"expected_days_to_pay,omitempty"`
	RiskBand          string   `json:"risk_band,omitempty"`
	BalanceBand       string   `json:"balance_band,omitempty"`
	// LastStep is the step the sequence stands at, with its last attempt,
	// how many attempts it had and whether any drew a response.
	LastStep         string            `json:"last_step,omitempty"`
	LastContact      time.Time         `json:"last_contact,omitzero"`
	Attempts         int               `json:"attempts,omitempty"`
	Responded        bool              `json:"responded,omitempty"`
	ContactsLastWeek int               `json:"contacts_last_week"`
	Promise          *PromiseFact      `json:"promise,omitempty"`
	Preferred        consent.Channel   `json:"preferred_channel,omitempty"`
	Reachable        []consent.Channel `json:"reachable,omitempty"`
	Blocked          []Block           `json:"blocked,omitempty"`
	Value            *Amount           `json:"value,omitempty"`
}

// PromiseState is a promise to pay as of the planning instant.
type PromiseState string

// Promise states: the ledger's kept and broken, and open promises read
// against the payments and the calendar.
const (
	PromisePending PromiseState = "pending"
	PromiseKept    PromiseState = "kept"
	PromiseBroken  PromiseState = "broken"
)

// PromiseFact is the promise that shaped the decision.
type PromiseFact struct {
	ID     string       `json:"id"`
	State  PromiseState `json:"state"`
	Due    time.Time    `json:"due"`
	Amount Amount       `json:"amount"`
	// BrokenAt is when it broke, or when it will count as broken if still
	// unpaid.
	BrokenAt time.Time `json:"broken_at,omitzero"`
}

// Amount is a money.Amount that writes itself as JSON: currency code, minor
// units and the decimal a person reads.
type Amount struct{ money.Amount }

// MarshalJSON writes {"currency":"USD","minor":123450,"decimal":"1234.50"}.
func (a Amount) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 64)
	b = append(b, `{"currency":`...)
	b = strconv.AppendQuote(b, a.Currency.Code())
	b = append(b, `,"minor":`...)
	b = strconv.AppendInt(b, a.Minor, 10)
	b = append(b, `,"decimal":`...)
	b = strconv.AppendQuote(b, a.Decimal())
	return append(b, '}'), nil
}

// UnmarshalJSON reads what MarshalJSON writes; the minor units are the
// amount, and a decimal that disagrees with them is refused.
func (a *Amount) UnmarshalJSON(data []byte) error {
	var v struct {
		Currency string `json:"currency"`
		Minor    int64  `json:"minor"`
		Decimal  string `json:"decimal"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	cur, err := money.ParseCurrency(v.Currency)
	if err != nil {
		return err
	}
	got := money.New(v.Minor, cur)
	if v.Decimal != "" && v.Decimal != got.Decimal() {
		return fmt.Errorf("%w: decimal %s disagrees with %d minor units of %s", money.ErrAmount, v.Decimal, v.Minor, cur)
	}
	a.Amount = got
	return nil
}
