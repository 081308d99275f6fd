package drafting

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/money"
)

// ErrFacts is returned when the facts cannot be drafted from: a draft built
// on incomplete facts could not be checked against them.
var ErrFacts = errors.New("invalid drafting facts")

// Tone is how the message sounds. It never licenses a threat.
type Tone string

// Tones.
const (
	ToneFriendly Tone = "friendly"
	ToneFirm     Tone = "firm"
	ToneFinal    Tone = "final" // the only tone that may call a message a final notice
)

// Level is the dunning level: how far the account is into collection.
type Level int

// Dunning levels.
const (
	LevelReminder   Level = 1 // first reminder after the due date
	LevelFollowUp   Level = 2 // second reminder
	LevelEscalation Level = 3 // the balance needs attention now
	LevelFinal      Level = 4 // last message before the remedies the tenant intends
)

// Remedy is an action the tenant has decided to take if the balance stays
// unpaid. Saying we will take an action that is not intended is deceptive
// (15 USC 1692e(5)), so the guardrails only let a draft mention a remedy
// listed here.
type Remedy string

// Remedies.
const (
	RemedyLawsuit         Remedy = "lawsuit"
	RemedyGarnishment     Remedy = "garnishment"
	RemedyCreditReporting Remedy = "credit_reporting"
	RemedyReferral        Remedy = "referral" // hand the account to a collection agency
)

// Channels the package drafts for; other compliance channels (voicemail,
// prerecorded, credit reporting) have no free text to draft.
var Channels = []compliance.Channel{compliance.ChannelEmail, compliance.ChannelSMS,
	compliance.ChannelCall, compliance.ChannelAIVoice, compliance.ChannelLetter}

// Invoice is one open invoice the message is about.
type Invoice struct {
	Number string
	Open   money.Amount // open (unpaid) amount, positive
	Due    time.Time    // due date, UTC midnight
}

// Promise is a promise to pay the message follows up on.
type Promise struct {
	Amount money.Amount
	Date   time.Time // the promised payment date, UTC midnight
}

// Disclosures holds what the compliance decision requires the message to
// carry and the tenant's own wording for each statement. Texts are used
// verbatim; the guardrails look for them verbatim.
type Disclosures struct {
	Required       []compliance.Disclosure
	MiniMiranda    string // e.g. "This is an attempt to collect a debt. Any information obtained will be used for that purpose."
	DebtCollector  string // e.g. "This communication is from a debt collector."
	OptOut         string // e.g. "Reply STOP to opt out."
	CallerIdentity string // e.g. "This is Acme Supply's billing team."
	CallbackNumber string // e.g. "(800) 555-0100"
}

// Text returns the tenant's text for d, "" when none is configured.
func (ds Disclosures) Text(d compliance.Disclosure) string {
	switch d {
	case compliance.DisclosureMiniMiranda:
		return ds.MiniMiranda
	case compliance.DisclosureDebtCollector:
		return ds.DebtCollector
	case compliance.DisclosureOptOut:
		return ds.OptOut
	case compliance.DisclosureCallerIdentity:
		return ds.CallerIdentity
	case compliance.DisclosureCallbackNumber:
		return ds.CallbackNumber
	}
	return ""
}

// Requires reports whether the compliance decision requires d.
func (ds Disclosures) Requires(d compliance.Disclosure) bool { return slices.Contains(ds.Required, d) }

// DefaultMaxSMSSegments caps an SMS when Facts.MaxSMSSegments is zero: two
// concatenated parts deliver reliably on US carriers and keep the cost known.
const DefaultMaxSMSSegments = 2

// Facts is everything a draft may state. Anything in a draft that is not
// here (another amount, date, invoice number, name or phone number) is a
// guardrail violation.
type Facts struct {
	Creditor string // the tenant's (creditor's) name as its customers know it
	Sender   string // who signs: a team or person, "" to sign with Creditor
	Customer string // the customer's (debtor's) name
	Contact  string // the contact person, "" when none is known

	Currency money.Currency
	Invoices []Invoice
	Promise  *Promise // set when following up on a promise to pay

	Channel compliance.Channel
	Tone    Tone
	Level   Level

	Disclosures Disclosures
	Remedies    []Remedy // remedies the tenant intends and may lawfully take
	TimeBarred  bool     // the debt is past the statute of limitations: no suit may be mentioned (12 CFR 1006.26(b))

	MaxSMSSegments int // 0 means DefaultMaxSMSSegments
	// LinkReserve is how many characters of an SMS to keep free for the
	// payment link AppendPaymentLink adds (link plus separator). The link
	// itself never enters Facts, so it can never reach the model.
	LinkReserve int
}

// Total is the sum of the invoices' open amounts. It is computed, never
// stored, so it cannot disagree with the invoices.
func (f Facts) Total() (money.Amount, error) {
	t := money.New(0, f.Currency)
	for _, inv := range f.Invoices {
		var err error
		if t, err = t.Add(inv.Open); err != nil {
			return money.Amount{}, fmt.Errorf("%w: total of invoices: %w", ErrFacts, err)
		}
	}
	return t, nil
}

// Greeting is the name a message greets: the contact person when known,
// otherwise the customer.
func (f Facts) Greeting() string {
	if f.Contact != "" {
		return f.Contact
	}
	return f.Customer
}

// Signature is who signs the message.
func (f Facts) Signature() string {
	if f.Sender != "" {
		return f.Sender
	}
	return f.Creditor
}

func (f Facts) maxSegments() int {
	if f.MaxSMSSegments > 0 {
		return f.MaxSMSSegments
	}
	return DefaultMaxSMSSegments
}

func (f Facts) intends(r Remedy) bool { return slices.Contains(f.Remedies, r) }

// Validate checks the facts are complete and consistent enough to draft
// from and to check a draft against. Errors wrap ErrFacts.
func (f Facts) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrFacts}, a...)...)
	}
	if strings.TrimSpace(f.Creditor) == "" {
		return bad("no creditor name")
	}
	if strings.TrimSpace(f.Customer) == "" {
		return bad("no customer name")
	}
	if f.Currency.IsZero() {
		return bad("no currency")
	}
	if !slices.Contains(Channels, f.Channel) {
		return bad("channel %q has no drafted text", f.Channel)
	}
	switch f.Tone {
	case ToneFriendly, ToneFirm, ToneFinal:
	default:
		return bad("tone %q", f.Tone)
	}
	if f.Level < LevelReminder || f.Level > LevelFinal {
		return bad("dunning level %d", f.Level)
	}
	if len(f.Invoices) == 0 {
		return bad("no invoices")
	}
	seen := map[string]bool{}
	for i, inv := range f.Invoices {
		if strings.TrimSpace(inv.Number) == "" || strings.ContainsAny(inv.Number, " \t\n") {
			return bad("invoice %d: number %q", i, inv.Number)
		}
		if seen[strings.ToLower(inv.Number)] {
			return bad("invoice %s listed twice", inv.Number)
		}
		seen[strings.ToLower(inv.Number)] = true
		if inv.Open.Currency != f.Currency || !inv.Open.IsPositive() {
			return bad("invoice %s: open amount %s (want a positive %s amount)", inv.Number, inv.Open, f.Currency)
		}
		if inv.Due.IsZero() {
			return bad("invoice %s: no due date", inv.Number)
		}
	}
	if _, err := f.Total(); err != nil {
		return err
	}
	if p := f.Promise; p != nil {
		if p.Amount.Currency != f.Currency || !p.Amount.IsPositive() || p.Date.IsZero() {
			return bad("promise of %s on %v", p.Amount, p.Date)
		}
	}
	for _, d := range f.Disclosures.Required {
		if strings.TrimSpace(f.Disclosures.Text(d)) == "" {
			return bad("disclosure %q is required but the tenant has no text for it", d)
		}
	}
	if f.Disclosures.Requires(compliance.DisclosureCallbackNumber) && digitsOf(f.Disclosures.CallbackNumber) == "" {
		return bad("callback number %q has no digits", f.Disclosures.CallbackNumber)
	}
	for _, r := range f.Remedies {
		switch r {
		case RemedyLawsuit, RemedyGarnishment, RemedyCreditReporting, RemedyReferral:
		default:
			return bad("remedy %q", r)
		}
	}
	if f.MaxSMSSegments < 0 || f.LinkReserve < 0 {
		return bad("negative SMS budget")
	}
	return nil
}

// LogValue describes the facts without personal data (names, amounts,
// invoice numbers), so callers may log them.
func (f Facts) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("channel", string(f.Channel)),
		slog.String("tone", string(f.Tone)),
		slog.Int("level", int(f.Level)),
		slog.String("currency", f.Currency.Code()),
		slog.Int("invoices", len(f.Invoices)),
		slog.Bool("promise", f.Promise != nil),
		slog.Int("required_disclosures", len(f.Disclosures.Required)),
	)
}
