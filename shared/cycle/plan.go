package cycle

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/dispatch"
	"github.com/recoup-dev/recoup/shared/engagement"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
	"github.com/recoup-dev/recoup/shared/ranking"
	"github.com/recoup-dev/recoup/shared/strategy"
)

// HistoryReader reads a customer's contact history and standing (what
// the dispatch gate reads).
type HistoryReader interface {
	Load(ctx context.Context, tenant ledger.TenantID, customer string, since time.Time) (dispatch.Snapshot, error)
}

// ConsentReader reads the consent states of a customer's addresses.
type ConsentReader interface {
	ForCustomer(ctx context.Context, tenant ledger.TenantID, customer string) ([]consent.Status, error)
}

// PlanInput is the Plan step's input.
type PlanInput struct {
	Ref
	Mode  string `json:"mode"`
	Score Score  `json:"score"`
}

// Routes the state machine's Route choice takes.
const (
	RouteClose  = "close"  // nothing open, or handed off: the execution ends
	RoutePark   = "park"   // nothing to do until WaitSeconds have passed
	RouteReview = "review" // a person decides (hardship, every invoice disputed...)
	RouteAct    = "act"    // draft, approval if required, gate, send
)

// Plan is the Plan step's result ($.decision): the strategy's decision,
// the route the state machine takes, and how long the Park state waits
// (after the action when it acts) before planning again.
type Plan struct {
	strategy.Decision
	Route       string `json:"route"`
	WaitSeconds int64  `json:"wait_seconds"`
}

// Planner is the Plan step.
type Planner struct {
	Accounts AccountReader
	History  HistoryReader
	Consent  ConsentReader
	// Config returns the tenant's strategy config.
	Config func(ctx context.Context, tenant ledger.TenantID) (*strategy.Config, error)
	Now    func() time.Time
	// Lookback is how far back contacts count (default 180 days: longer
	// than any sequence's episode).
	Lookback time.Duration
	// Recheck is how soon the cycle plans again after acting or when
	// nothing is due yet and nothing says when (default 1 hour after an
	// action, so the next plan places the following step; 1 day otherwise).
	Recheck time.Duration
}

// Plan decides the customer's next action.
func (p *Planner) Plan(ctx context.Context, in PlanInput) (Plan, error) {
	if err := in.Ref.Check(); err != nil {
		return Plan{}, err
	}
	if in.Mode != ModeLive && in.Mode != ModeShadow {
		return Plan{}, fmt.Errorf("%w: mode %q, want %s or %s", ErrInput, in.Mode, ModeLive, ModeShadow)
	}
	now := p.Now().UTC()
	cfg, err := p.Config(ctx, in.Tenant)
	if err != nil {
		return Plan{}, fmt.Errorf("cycle: plan %s: strategy config: %w", in.Customer, err)
	}
	acct, found, err := p.Accounts.Account(ctx, in.Tenant, in.Customer)
	if err != nil {
		return Plan{}, Transient{fmt.Errorf("cycle: plan %s: %w", in.Customer, err)}
	}
	if !found {
		return Plan{}, fmt.Errorf("%w: customer %s of tenant %s is not in the ledger", ErrInput, in.Customer, in.Tenant)
	}
	lookback := p.Lookback
	if lookback == 0 {
		lookback = 180 * 24 * time.Hour
	}
	snap, err := p.History.Load(ctx, in.Tenant, in.Customer, now.Add(-lookback))
	if err != nil {
		return Plan{}, Transient{fmt.Errorf("cycle: plan %s: contact history: %w", in.Customer, err)}
	}
	states, err := p.Consent.ForCustomer(ctx, in.Tenant, in.Customer)
	if err != nil {
		return Plan{}, Transient{fmt.Errorf("cycle: plan %s: consent: %w", in.Customer, err)}
	}
	sin := strategy.Input{
		Tenant: in.Tenant, Customer: acct.Customer, Invoices: acct.Invoices, Payments: acct.Payments,
		Promises: acct.Promises, Disputes: acct.Disputes, Flags: snap.Standing.Flags,
		Contacts: contacts(snap.Attempts), Reachable: Reachable(acct.Contacts, states), Blocked: Blocked(snap.Attempts, states), Now: now,
		Preferred: in.Score.Channel,
	}
	if sc, ok := in.Score.customerScore(in.Customer); ok {
		sin.Score = &sc
	}
	if in.Score.ValueCurrency != "" {
		if cur, err := money.ParseCurrency(in.Score.ValueCurrency); err == nil {
			v := money.New(in.Score.ValueMinor, cur)
			sin.Value = &v
		}
	}
	dec, err := strategy.Decide(cfg, sin)
	if err != nil {
		return Plan{}, fmt.Errorf("cycle: plan %s: %w", in.Customer, err)
	}
	return route(dec, acct, now, p.recheck()), nil
}

func (p *Planner) recheck() time.Duration {
	if p.Recheck > 0 {
		return p.Recheck
	}
	return time.Hour
}

// route turns a decision into the state machine's next move.
func route(dec strategy.Decision, acct ledger.Account, now time.Time, recheck time.Duration) Plan {
	out := Plan{Decision: dec}
	seconds := func(d time.Duration) int64 { return max(1, int64(d.Round(time.Second)/time.Second)) }
	switch dec.Outcome {
	case strategy.OutcomeNone:
		next, open := nextDue(acct.Invoices, now)
		if !open || dec.HandedOff {
			out.Route = RouteClose
			return out
		}
		out.Route, out.WaitSeconds = RoutePark, seconds(next.Sub(now))
	case strategy.OutcomeReview:
		// After the review the cycle plans again a day later, whatever
		// the person decided.
		out.Route, out.WaitSeconds = RouteReview, seconds(24*time.Hour)
	case strategy.OutcomeWait:
		out.Route, out.WaitSeconds = RoutePark, seconds(dec.When.Sub(now))
	default: // act, follow up, escalate
		if dec.When.After(now.Add(time.Minute)) {
			// Placed later (business hours): wait for it, then plan again.
			out.Route, out.WaitSeconds = RoutePark, seconds(dec.When.Sub(now))
			return out
		}
		out.Route, out.WaitSeconds = RouteAct, seconds(recheck)
	}
	return out
}

// nextDue is when the cycle should look again at a customer with nothing
// overdue: the day after the next open invoice falls due, or in a day
// when none is open but not yet due (a disputed or promised balance).
// open is false when no invoice is open at all.
func nextDue(invs []ledger.Invoice, now time.Time) (time.Time, bool) {
	var next time.Time
	open := false
	for _, inv := range invs {
		if !inv.IsOpen() {
			continue
		}
		open = true
		if d := inv.DueDate.AddDate(0, 0, 1); d.After(now) && (next.IsZero() || d.Before(next)) {
			next = d
		}
	}
	if next.IsZero() {
		next = now.Add(24 * time.Hour)
	}
	return next, open
}

// contacts are the attempts the gate allowed (and so sent), as the
// strategy reads them.
func contacts(attempts []dispatch.Attempt) []strategy.Contact {
	var out []strategy.Contact
	for _, a := range attempts {
		if a.Decision != compliance.Allow {
			continue
		}
		out = append(out, strategy.Contact{At: a.At, Channel: dispatch.ConsentChannel(a.Channel), Step: a.Step, Result: signal(a.Outcome)})
	}
	return out
}

// signal is the engagement signal of an attempt's recorded outcome.
func signal(o compliance.Outcome) engagement.Signal {
	switch o {
	case compliance.OutcomeConnected, compliance.OutcomeConversation:
		return engagement.SignalAnswered
	case compliance.OutcomeNoAnswer, compliance.OutcomeBusy, compliance.OutcomeVoicemail:
		return engagement.SignalUnanswered
	case compliance.OutcomeDelivered:
		return engagement.SignalDelivered
	case compliance.OutcomeBounced:
		return engagement.SignalBounced
	case compliance.OutcomeNotInService:
		return engagement.SignalFailed
	}
	return ""
}

// standingRules are the gate's rules whose refusal of a channel holds
// until the person's consent for it changes; a refusal under any other
// rule (the hour, a cap, a dispute) passes with time or is the strategy's
// own business (disputes, flags).
var standingRules = map[string]bool{
	"TCPA-CONSENT":        true, // no prior express consent to text or call with an automated voice
	"TCPA-REVOCATION":     true, // consent revoked
	"REGF-MEDIUM-REFUSED": true, // the consumer refused the medium
	"REGF-WORK-EMAIL":     true, // a work e-mail address without consent
}

// Blocked are the channels the gate refused under a standing rule, with
// the latest refusal of each, unless consent to that channel was given
// since. The strategy then plans another channel: without this, the same
// refused text would be planned, drafted and refused again on every cycle.
func Blocked(attempts []dispatch.Attempt, states []consent.Status) []strategy.Block {
	latest := map[consent.Channel]strategy.Block{}
	for _, a := range attempts {
		if a.Decision != compliance.Block {
			continue
		}
		i := slices.IndexFunc(a.Rules, func(r string) bool { return standingRules[r] })
		if i < 0 {
			continue
		}
		ch := dispatch.ConsentChannel(a.Channel)
		if b, ok := latest[ch]; !ok || a.At.After(b.At) {
			latest[ch] = strategy.Block{Channel: ch, Rule: a.Rules[i], At: a.At}
		}
	}
	var out []strategy.Block
	for ch, b := range latest {
		granted := slices.ContainsFunc(states, func(s consent.Status) bool {
			return s.Channel == ch && s.Consent == consent.Granted && s.Since.After(b.At)
		})
		if !granted {
			out = append(out, b)
		}
	}
	slices.SortFunc(out, func(a, b strategy.Block) int { return strings.Compare(string(a.Channel), string(b.Channel)) })
	return out
}

// Reachable are the channels a customer can be contacted on: those it
// has a contact point for (revoked at import left out), less those the
// consent ledger says are revoked for every such address or for the
// customer as a whole. The gate checks again at send time; planning
// around a STOP here means the plan picks another channel instead of
// being blocked.
func Reachable(cps []ledger.ContactPoint, states []consent.Status) []consent.Channel {
	revoked := map[consent.Address]map[consent.Channel]bool{}
	whole := map[consent.Channel]bool{}
	for _, s := range states {
		if s.Consent != consent.Revoked {
			continue
		}
		if _, ok := s.Address.Customer(); ok {
			whole[s.Channel] = true
			continue
		}
		if revoked[s.Address] == nil {
			revoked[s.Address] = map[consent.Channel]bool{}
		}
		revoked[s.Address][s.Channel] = true
	}
	var out []consent.Channel
	add := func(a consent.Address, chs ...consent.Channel) {
		for _, ch := range chs {
			if !whole[ch] && !revoked[a][ch] && !slices.Contains(out, ch) {
				out = append(out, ch)
			}
		}
	}
	for _, cp := range cps {
		if cp.Consent == ledger.ConsentRevoked {
			continue
		}
		switch {
		case cp.Email != nil && cp.Email.Address != "":
			a, err := consent.NormaliseEmail(cp.Email.Address)
			if err == nil {
				add(a, consent.Email)
			}
		case cp.Postal != nil:
			add("", consent.Letter)
		case cp.Phone != nil && cp.Phone.E164 != "":
			a, err := consent.NormalisePhone(cp.Phone.E164)
			if err != nil {
				continue
			}
			if cp.Phone.Line == ledger.LineMobile {
				add(a, consent.SMS)
			}
			add(a, consent.Voice, consent.VoiceAI)
		}
	}
	slices.Sort(out)
	return out
}

// customerScore is the score as the strategy reads it.
func (s Score) customerScore(customer string) (ranking.CustomerScore, bool) {
	if !s.Open || len(s.PayWithin) != len(ranking.Horizons) {
		return ranking.CustomerScore{}, false
	}
	cur, err := money.ParseCurrency(s.Currency)
	if err != nil {
		return ranking.CustomerScore{}, false
	}
	out := ranking.CustomerScore{Customer: customer, Open: money.New(s.OpenMinor, cur), ExpectedDays: s.ExpectDays}
	copy(out.PayWithin[:], s.PayWithin)
	return out, true
}
