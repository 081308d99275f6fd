package strategy

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
	"github.com/recoup-dev/recoup/shared/preference"
	"github.com/recoup-dev/recoup/shared/ranking"
)

// ErrInput marks an input the engine cannot plan from.
var ErrInput = errors.New("strategy: invalid input")

// week is the window of the soft contact limit.
const week = 7 * 24 * time.Hour

// Decide chooses the next best action for one customer and when, from the
// tenant's config and everything known of the customer. It is a pure
// function: the same config and input give the same decision, byte for byte
// once marshalled, whatever the order of the input's slices.
//
// In order, it rules:
//  1. nothing overdue: no action;
//  2. a compliance flag (hardship, bankruptcy...): a person reviews;
//  3. every overdue invoice disputed: a person reviews;
//  4. the account was handed off: no action;
//  5. a pending promise to pay: a follow-up after the promised date instead
//     of reminders; a broken one: the escalation step, at once;
//  6. otherwise the segment's sequence: the step after the last one taken,
//     once its wait is over and the oldest invoice is old enough.
//
// One decision covers every overdue invoice of the customer except disputed
// ones. Open disputes on some invoices, a high balance, the first contact
// with a key account and the actions the tenant lists make it require
// approval. Times are placed inside business hours and after the soft weekly
// contact limit.
//
// Decide only reads the Config, so any number of goroutines may decide with
// one.
func Decide(cfg *Config, in Input) (Decision, error) {
	if cfg == nil || cfg.c == nil {
		return Decision{}, fmt.Errorf("%w: not validated: load it with ParseConfig or call Validate", ErrConfig)
	}
	if in.Now.IsZero() {
		return Decision{}, fmt.Errorf("%w: customer %q: Now is not set", ErrInput, in.Customer.ID)
	}
	d := decider{cfg: cfg, c: cfg.c, in: &in, now: in.Now.UTC()}
	if err := d.decide(); err != nil {
		return Decision{}, fmt.Errorf("%w: customer %q: %w", ErrInput, in.Customer.ID, err)
	}
	return d.dec, nil
}

// Plan decides for a batch of customers, one decision per input in input
// order. An input the engine cannot plan from, or a customer given twice,
// becomes a review decision naming the problem: a batch never stops for one
// bad account, and no account is silently skipped.
func Plan(cfg *Config, inputs []Input) []Decision {
	type key struct {
		tenant   ledger.TenantID
		customer string
	}
	out := make([]Decision, len(inputs))
	seen := make(map[key]int, len(inputs))
	for i := range inputs {
		in := &inputs[i]
		k := key{in.Tenant, in.Customer.ID}
		if j, dup := seen[k]; dup {
			out[i] = failed(cfg, in, fmt.Errorf("%w: customer %q is input %d and %d: one decision per customer", ErrInput, in.Customer.ID, j, i))
			continue
		}
		seen[k] = i
		dec, err := Decide(cfg, *in)
		if err != nil {
			dec = failed(cfg, in, err)
		}
		out[i] = dec
	}
	return out
}

func failed(cfg *Config, in *Input, err error) Decision {
	d := Decision{Tenant: in.Tenant, Customer: in.Customer.ID, Outcome: OutcomeReview, RequiresApproval: true,
		Approval: []ApprovalReason{{Code: ApprovalInput, Detail: err.Error()}},
		Reason:   "A person must look at this account: no plan could be made (" + err.Error() + ").",
		Trace:    Trace{Facts: Facts{Now: in.Now.UTC()}, Path: []string{"input refused: " + err.Error()}}}
	if cfg != nil {
		d.Trace.ConfigVersion, d.Trace.ConfigHash = cfg.Version, cfg.Hash()
	}
	return d
}

type decider struct {
	cfg *Config
	c   *compiled
	in  *Input
	now time.Time
	dec Decision

	overdue   []*ledger.Invoice // open and past due, by id
	covered   []*ledger.Invoice // overdue and not disputed
	oldestDue time.Time         // of the covered invoices
	disputed  []string
	totals    []Amount
	seg       *cseg
	contacts  []Contact // of this delinquency, oldest first
	stepOf    []int     // contacts[i]'s step index, -1 when none
	cur       int       // the step the sequence stands at, -1 before the first
	lastAt    time.Time // its last attempt
	capFree   time.Time // when the weekly limit allows another contact
}

func (d *decider) path(format string, args ...any) {
	d.dec.Trace.Path = append(d.dec.Trace.Path, fmt.Sprintf(format, args...))
}

func (d *decider) decide() error {
	in := d.in
	d.dec = Decision{Tenant: in.Tenant, Customer: in.Customer.ID,
		Trace: Trace{ConfigVersion: d.cfg.Version, ConfigHash: d.c.hash, Path: make([]string, 0, 8)}}
	f := &d.dec.Trace.Facts
	f.Now, f.Kind, f.KeyAccount, f.CustomerSegment = d.now, in.Customer.Kind, in.Customer.KeyAcct, in.Customer.Segment
	if len(in.Flags) > 0 {
		f.Flags = slices.Clone(in.Flags)
		slices.Sort(f.Flags)
		f.Flags = slices.Compact(f.Flags)
	}
	f.Preferred = preferredChannel(in.Preferred)
	if len(in.Reachable) > 0 {
		f.Reachable = slices.Clone(in.Reachable)
		slices.Sort(f.Reachable)
		f.Reachable = slices.Compact(f.Reachable)
	}
	blocked := slices.Clone(in.Blocked)
	slices.SortFunc(blocked, func(a, b Block) int {
		return cmp.Or(cmp.Compare(a.Channel, b.Channel), a.At.Compare(b.At), cmp.Compare(a.Rule, b.Rule))
	})
	for _, b := range blocked {
		if !slices.Contains(f.Reachable, b.Channel) {
			continue
		}
		f.Reachable = slices.DeleteFunc(f.Reachable, func(ch consent.Channel) bool { return ch == b.Channel })
		f.Blocked = append(f.Blocked, b)
		d.path("channel %s left out: the gate refused it under %s on %s", b.Channel, b.Rule, b.At.UTC().Format(time.DateOnly))
	}
	if in.Value != nil {
		f.Value = &Amount{*in.Value}
	}
	if err := d.invoices(); err != nil {
		return err
	}
	d.score()

	if len(d.overdue) == 0 {
		d.dec.Outcome = OutcomeNone
		d.dec.Reason = "Nothing to do: no invoice is overdue."
		d.path("no open invoice is past due")
		return nil
	}
	if len(f.Flags) > 0 {
		d.review("flags")
		return nil
	}
	if len(d.covered) == 0 {
		d.review("disputed")
		return nil
	}
	d.segment()
	d.dec.Segment = d.seg.id
	d.history()

	if d.cur >= 0 && d.seg.steps[d.cur].Action == ActionHandOff {
		d.dec.Outcome, d.dec.HandedOff = OutcomeNone, true
		d.dec.Reason = fmt.Sprintf("Nothing to do: the account was handed off on %s.", d.date(d.lastAt))
		d.path("handed off on %s: the sequence has ended", stamp(d.lastAt))
		return nil
	}
	if done := d.promise(); done {
		return nil
	}
	d.sequence()
	return nil
}

// invoices finds the overdue invoices, leaves out the disputed ones and
// totals the rest per currency.
func (d *decider) invoices() error {
	in := d.in
	n := len(in.Invoices)
	d.overdue, d.covered, d.dec.Invoices = make([]*ledger.Invoice, 0, n), make([]*ledger.Invoice, 0, n), make([]string, 0, n)
	for i := range in.Invoices {
		inv := &in.Invoices[i]
		if inv.Customer != "" && inv.Customer != in.Customer.ID {
			return fmt.Errorf("invoice %q belongs to customer %q", inv.ID, inv.Customer)
		}
		if !inv.IsOpen() || inv.DaysPastDue(d.now) <= 0 {
			continue
		}
		if inv.Open.Currency.IsZero() {
			return fmt.Errorf("invoice %q has no currency", inv.ID)
		}
		d.overdue = append(d.overdue, inv)
	}
	slices.SortFunc(d.overdue, func(a, b *ledger.Invoice) int { return cmp.Compare(a.ID, b.ID) })
	for i := 1; i < len(d.overdue); i++ {
		if d.overdue[i].ID == d.overdue[i-1].ID {
			return fmt.Errorf("invoice %q given twice", d.overdue[i].ID)
		}
	}
	whole := false // a dispute of the account rather than of one invoice
	for _, ds := range in.Disputes {
		if ds.Customer != "" && ds.Customer != in.Customer.ID {
			return fmt.Errorf("dispute %q belongs to customer %q", ds.ID, ds.Customer)
		}
		if ds.Status == ledger.DisputeOpen && ds.Invoice == "" {
			whole = true
		}
	}
	f := &d.dec.Trace.Facts
	f.OverdueInvoices = len(d.overdue)
	for _, inv := range d.overdue {
		if whole || inv.Disputed || slices.ContainsFunc(in.Disputes, func(ds ledger.Dispute) bool {
			return ds.Status == ledger.DisputeOpen && ds.Invoice == inv.ID
		}) {
			d.disputed = append(d.disputed, inv.ID)
			continue
		}
		d.covered = append(d.covered, inv)
		d.dec.Invoices = append(d.dec.Invoices, inv.ID)
		if dpd := inv.DaysPastDue(d.now); dpd > f.DaysPastDue {
			f.DaysPastDue, d.oldestDue = dpd, inv.DueDate
		}
		j := slices.IndexFunc(d.totals, func(a Amount) bool { return a.Currency == inv.Open.Currency })
		if j < 0 {
			d.totals = append(d.totals, Amount{inv.Open})
			continue
		}
		sum, err := d.totals[j].Add(inv.Open)
		if err != nil {
			return fmt.Errorf("total of the overdue invoices: %w", err)
		}
		d.totals[j].Amount = sum
	}
	if len(d.dec.Invoices) == 0 {
		d.dec.Invoices = nil // nil, as it reads back from JSON
	}
	for _, p := range in.Promises {
		if p.Customer != "" && p.Customer != in.Customer.ID {
			return fmt.Errorf("promise %q belongs to customer %q", p.ID, p.Customer)
		}
	}
	for _, p := range in.Payments {
		if p.Customer != "" && p.Customer != in.Customer.ID {
			return fmt.Errorf("payment %q belongs to customer %q", p.ID, p.Customer)
		}
	}
	slices.SortFunc(d.totals, func(a, b Amount) int { return cmp.Compare(a.Currency.Code(), b.Currency.Code()) })
	d.dec.Totals = d.totals
	f.Disputed = d.disputed
	for _, inv := range d.overdue {
		if f.EpisodeStart.IsZero() || inv.DueDate.Before(f.EpisodeStart) {
			f.EpisodeStart = inv.DueDate.UTC()
		}
	}
	return nil
}

// score reads the ranking rollup into a risk band, and the overdue
// balance into a balance band.
func (d *decider) score() {
	f := &d.dec.Trace.Facts
	f.RiskBand = RiskUnknown
	if s := d.in.Score; s != nil && !math.IsNaN(s.PayWithin[d.c.horizon]) {
		p, e := s.PayWithin[d.c.horizon], s.ExpectedDays
		f.PayProbability, f.PayHorizonDays = &p, ranking.Horizons[d.c.horizon]
		if !math.IsNaN(e) {
			f.ExpectedDaysToPay = &e
		}
		for _, b := range d.c.risk {
			if p >= b.MinPayProbability {
				f.RiskBand = b.Name
				break
			}
		}
	}
	for _, b := range d.c.balance {
		if len(b.AtLeast) == 0 || slices.ContainsFunc(d.totals, func(a Amount) bool {
			thr, ok := b.AtLeast[a.Currency.Code()]
			return ok && a.Minor >= thr
		}) {
			f.BalanceBand = b.Name
			break
		}
	}
}

// segment picks the first segment whose match fits, else the default.
func (d *decider) segment() {
	f := &d.dec.Trace.Facts
	for i := range d.c.segments {
		s := &d.c.segments[i]
		if s.def {
			continue
		}
		if why, ok := d.matches(s.match, f); ok {
			d.seg = s
			d.path("segment %s: %s", s.id, why)
			return
		}
	}
	for i := range d.c.segments {
		if d.c.segments[i].def {
			d.seg = &d.c.segments[i]
			d.path("segment %s: default, no other segment matched", d.seg.id)
			return
		}
	}
}

func (d *decider) matches(m Match, f *Facts) (string, bool) {
	var why []string
	if len(m.Kind) > 0 {
		if !slices.Contains(m.Kind, f.Kind) {
			return "", false
		}
		why = append(why, "kind "+string(f.Kind))
	}
	if m.KeyAccount != nil {
		if *m.KeyAccount != f.KeyAccount {
			return "", false
		}
		why = append(why, fmt.Sprintf("key account %t", f.KeyAccount))
	}
	if len(m.Risk) > 0 {
		if !slices.Contains(m.Risk, f.RiskBand) {
			return "", false
		}
		why = append(why, "risk "+f.RiskBand)
	}
	if len(m.Balance) > 0 {
		if !slices.Contains(m.Balance, f.BalanceBand) {
			return "", false
		}
		why = append(why, "balance "+f.BalanceBand)
	}
	if len(m.CustomerSegment) > 0 {
		if !slices.Contains(m.CustomerSegment, f.CustomerSegment) {
			return "", false
		}
		why = append(why, "customer segment "+f.CustomerSegment)
	}
	if len(why) == 0 {
		return "matches everyone", true
	}
	return strings.Join(why, ", "), true
}

// history keeps the contacts of this delinquency, maps them to the
// segment's steps and finds where the sequence stands and when the weekly
// limit frees up.
func (d *decider) history() {
	f := &d.dec.Trace.Facts
	recent := make([]time.Time, 0, len(d.in.Contacts))
	d.contacts = make([]Contact, 0, len(d.in.Contacts))
	for _, c := range d.in.Contacts {
		if c.At.After(d.now) {
			continue // a contact "from the future" is bad data; it must not hold the plan back
		}
		if d.now.Sub(c.At) < week {
			recent = append(recent, c.At)
		}
		if !c.At.Before(f.EpisodeStart) {
			c.At = c.At.UTC()
			d.contacts = append(d.contacts, c)
		}
	}
	slices.SortFunc(d.contacts, func(a, b Contact) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Step, b.Step), cmp.Compare(a.Action, b.Action),
			cmp.Compare(a.Channel, b.Channel), cmp.Compare(a.Result, b.Result))
	})
	f.ContactsLastWeek = len(recent)
	if limit := d.cfg.MaxContactsPerWeek; limit > 0 && len(recent) >= limit {
		slices.SortFunc(recent, func(a, b time.Time) int { return b.Compare(a) })
		d.capFree = recent[limit-1].Add(week)
		d.path("contact limit: %d contacts in the last 7 days, limit %d: next contact from %s", len(recent), limit, stamp(d.capFree))
	}
	d.cur = -1
	d.stepOf = make([]int, len(d.contacts))
	for i, c := range d.contacts {
		d.stepOf[i] = d.seg.step(c)
		if d.stepOf[i] >= 0 {
			d.cur, d.lastAt = d.stepOf[i], c.At
		}
	}
	if d.cur < 0 {
		return
	}
	first := time.Time{}
	for i, c := range d.contacts {
		if d.stepOf[i] == d.cur {
			f.Attempts++
			if first.IsZero() {
				first = c.At
			}
		}
	}
	for _, c := range d.contacts {
		if !c.At.Before(first) && c.responded() {
			f.Responded = true
		}
	}
	f.LastStep, f.LastContact = d.seg.steps[d.cur].ID, d.lastAt
	d.path("last step %s on %s: %d of %d attempts, response %t", f.LastStep, stamp(d.lastAt),
		f.Attempts, d.seg.steps[d.cur].Attempts, f.Responded)
}

// step maps a contact to a step: by the step id it was planned for, else
// by its action (a manual call counts as the sequence's call). -1 when
// neither fits, e.g. a promise follow-up.
func (s *cseg) step(c Contact) int {
	if c.Step != "" {
		if i, ok := s.index[c.Step]; ok {
			return i
		}
	}
	if c.Action == "" || c.Action == ActionPromiseFollowUp {
		return -1
	}
	for i := range s.steps {
		if s.steps[i].Action == c.Action {
			return i
		}
	}
	return -1
}

// promise applies the latest promise to pay of this delinquency: a pending
// one replaces reminders with a follow-up, a broken one escalates once.
// It reports whether it decided.
func (d *decider) promise() bool {
	p := d.latestPromise()
	if p == nil {
		return false
	}
	pol := d.cfg.Promise
	fact := &PromiseFact{ID: p.ID, Due: p.Due.UTC(), Amount: Amount{p.Amount}}
	d.dec.Trace.Facts.Promise = fact
	brokenAt := d.c.dayStart(p.Due.AddDate(0, 0, pol.BrokenAfterDays))
	switch {
	case p.Status == ledger.PromiseKept || (p.Status == ledger.PromiseOpen && d.promisePaid(p)):
		fact.State = PromiseKept
	case p.Status == ledger.PromiseBroken:
		fact.State, brokenAt = PromiseBroken, d.c.dayStart(p.Due)
	case d.now.Before(brokenAt):
		fact.State = PromisePending
	default:
		fact.State = PromiseBroken
	}
	if fact.State != PromiseKept {
		fact.BrokenAt = brokenAt
	}
	d.path("promise %s of %s due %s: %s", p.ID, p.Amount, d.date(p.Due), fact.State)
	promised := func() string { return "the promise to pay " + p.Amount.String() + " by " + d.date(p.Due) }

	switch fact.State {
	case PromisePending:
		followed := slices.ContainsFunc(d.contacts, func(c Contact) bool {
			return c.Action == ActionPromiseFollowUp && !c.At.Before(p.MadeAt)
		})
		if followed {
			d.dec.Outcome, d.dec.When = OutcomeWait, d.c.inBusinessHours(brokenAt)
			d.path("already followed up: wait until the promise counts as broken")
			d.dec.Reason = fmt.Sprintf("Nothing to send until %s: the customer was followed up on %s, which counts as broken if still unpaid then.",
				d.clock(d.dec.When), promised())
			return true
		}
		followAt := d.c.dayStart(p.Due.AddDate(0, 0, pol.FollowUpDays))
		d.path("follow up %d days after the promised date, from %s; no reminders meanwhile", pol.FollowUpDays, stamp(followAt))
		d.plan(OutcomeFollowUp, ActionPromiseFollowUp, -1, pol.Channel, pol.Tone, followAt,
			"the customer made "+promised()+"; no reminders until then")
		return true
	case PromiseBroken:
		escalated := false
		for i, c := range d.contacts {
			if d.stepOf[i] >= 0 && !c.At.Before(brokenAt) {
				escalated = true
			}
		}
		if escalated {
			d.path("the sequence has gone on since the promise broke")
			return false
		}
		// Before any step, the promise broke as if at the first step.
		st := d.seg.steps[max(d.cur, 0)]
		target := st.escalate
		if target < 0 {
			target = st.next
		}
		if target < 0 && d.cur < 0 {
			target = 0 // a one-step sequence: its only step
		}
		if target < 0 {
			d.sequenceEnded()
			return true
		}
		d.path("broken promise: escalate from %s to %s", st.ID, d.seg.steps[target].ID)
		t := d.seg.steps[target]
		d.plan(OutcomeEscalate, t.Action, target, t.Channel, t.Tone, d.now, promised()+" was broken")
		return true
	}
	return false // kept: the sequence goes on for what is still overdue
}

// latestPromise is the newest promise made in this delinquency or naming
// one of its invoices.
func (d *decider) latestPromise() *ledger.PromiseToPay {
	var best *ledger.PromiseToPay
	start := d.dec.Trace.Facts.EpisodeStart
	for i := range d.in.Promises {
		p := &d.in.Promises[i]
		if p.MadeAt.After(d.now) {
			continue
		}
		relevant := !p.MadeAt.IsZero() && !p.MadeAt.Before(start)
		if !relevant {
			relevant = slices.ContainsFunc(p.Invoices, func(id string) bool {
				return slices.ContainsFunc(d.overdue, func(inv *ledger.Invoice) bool { return inv.ID == id })
			})
		}
		if !relevant {
			continue
		}
		if best == nil || p.MadeAt.After(best.MadeAt) || (p.MadeAt.Equal(best.MadeAt) && p.ID > best.ID) {
			best = p
		}
	}
	return best
}

// promisePaid reports whether an open promise has been kept: the payments
// since it was made reach its amount, or none of the invoices it names is
// still open.
func (d *decider) promisePaid(p *ledger.PromiseToPay) bool {
	if p.Amount.IsPositive() {
		var paid int64
		for _, pay := range d.in.Payments {
			if pay.Amount.Currency == p.Amount.Currency && !pay.ReceivedAt.Before(p.MadeAt) && !pay.ReceivedAt.After(d.now) {
				paid += pay.Amount.Minor
			}
		}
		if paid >= p.Amount.Minor {
			return true
		}
	}
	if len(p.Invoices) == 0 {
		return false
	}
	for _, id := range p.Invoices {
		if slices.ContainsFunc(d.in.Invoices, func(inv ledger.Invoice) bool { return inv.ID == id && inv.IsOpen() }) {
			return false
		}
	}
	return true
}

// sequence takes the segment's next step: the first one, the same one again
// while it has attempts left and no response, its escalation after its
// attempts got no response, or the next one.
func (d *decider) sequence() {
	f := &d.dec.Trace.Facts
	if d.cur < 0 {
		first := d.seg.steps[0]
		d.path("no step taken yet: start at %s", first.ID)
		d.plan(OutcomeAct, first.Action, 0, first.Channel, first.Tone, d.threshold(0), "the first step of the sequence")
		return
	}
	st := d.seg.steps[d.cur]
	waitUntil := d.c.addDays(d.lastAt, st.WaitDays)
	last := fmt.Sprintf("the %s of %s", words(st.Action), d.date(d.lastAt))
	switch {
	case f.Attempts < st.Attempts && !f.Responded:
		d.path("repeat %s: attempt %d of %d, after %d days' wait", st.ID, f.Attempts+1, st.Attempts, st.WaitDays)
		d.plan(OutcomeAct, st.Action, d.cur, st.Channel, st.Tone, waitUntil,
			fmt.Sprintf("attempt %d of %d, no response to %s", f.Attempts+1, st.Attempts, last))
	case !f.Responded && st.escalate >= 0:
		t := d.seg.steps[st.escalate]
		d.path("no response to %d attempts of %s: escalate to %s after %d days' wait", f.Attempts, st.ID, t.ID, st.WaitDays)
		d.plan(OutcomeEscalate, t.Action, st.escalate, t.Channel, t.Tone, waitUntil,
			fmt.Sprintf("no response to %d attempts of the %s, the last on %s", f.Attempts, words(st.Action), d.date(d.lastAt)))
	case st.next >= 0:
		t := d.seg.steps[st.next]
		from := waitUntil
		if th := d.threshold(st.next); th.After(from) {
			from = th
		}
		d.path("next step %s after %s: %d days' wait, from %d days past due", t.ID, st.ID, st.WaitDays, t.MinDaysPastDue)
		d.plan(OutcomeAct, t.Action, st.next, t.Channel, t.Tone, from, "after "+last)
	default:
		d.sequenceEnded()
	}
}

// threshold is when the oldest covered invoice reaches the step's days
// past due.
func (d *decider) threshold(step int) time.Time {
	return d.c.dayStart(d.oldestDue.AddDate(0, 0, d.seg.steps[step].MinDaysPastDue))
}

func (d *decider) sequenceEnded() {
	st := d.seg.steps[max(d.cur, 0)]
	d.path("the sequence ended at %s", st.ID)
	d.dec.Outcome, d.dec.RequiresApproval = OutcomeReview, true
	detail := fmt.Sprintf("the sequence of segment %s ended with the %s of %s", d.seg.id, words(st.Action), d.date(d.lastAt))
	d.dec.Approval = append(d.dec.Approval, ApprovalReason{Code: ApprovalSequenceEnd, Detail: detail})
	d.dec.Reason = fmt.Sprintf("A person decides what comes next for %s: %s.", d.demand(), detail)
}

// plan fills in a planned action: channel, time inside business hours and
// after the wait, the weekly limit, and approvals. from is when the
// sequence allows it; a time after now makes the decision a wait, except for
// a promise follow-up, which is scheduled for its date.
func (d *decider) plan(out Outcome, act Action, step int, channel string, tone Tone, from time.Time, why string) {
	dec := &d.dec
	dec.Action, dec.Tone = act, tone
	if step >= 0 {
		dec.Step, dec.DunningLevel = d.seg.steps[step].ID, d.seg.steps[step].level
	}
	if d.capFree.After(from) {
		from = d.capFree
		why += fmt.Sprintf("; the weekly limit of %d contacts allows the next one from %s", d.cfg.MaxContactsPerWeek, d.date(d.capFree))
	}
	if out != OutcomeFollowUp && from.After(d.now) {
		out = OutcomeWait
	}
	if from.Before(d.now) {
		from = d.now
	}
	dec.Outcome = out
	dec.When = d.c.inBusinessHours(from)
	if !dec.When.Equal(from) {
		d.path("business hours: %s → %s (%s)", stamp(from), stamp(dec.When), d.c.loc)
	}
	ch, ok := d.channel(act, channel)
	dec.Channel = ch
	if !ok && out != OutcomeWait {
		dec.Outcome, dec.When, dec.RequiresApproval = OutcomeReview, time.Time{}, true
		detail := fmt.Sprintf("no reachable channel for the %s", words(act))
		dec.Approval = append(dec.Approval, ApprovalReason{Code: ApprovalNoChannel, Detail: detail})
		dec.Reason = fmt.Sprintf("A person must find a way to reach the customer for %s: %s.", d.demand(), detail)
		return
	}
	d.approvals(act)
	what := words(act)
	if ch != "" {
		what += " by " + string(ch)
	}
	switch out {
	case OutcomeWait:
		dec.Reason = fmt.Sprintf("Nothing to send until %s, then the %s for %s (%s).", d.clock(dec.When), what, d.demand(), why)
	default:
		dec.Reason = fmt.Sprintf("%s on %s for %s (%s).", capital(what), d.clock(dec.When), d.demand(), why)
	}
	if dec.RequiresApproval {
		details := make([]string, len(dec.Approval))
		for i, a := range dec.Approval {
			details[i] = a.Detail
		}
		dec.Reason += " A person approves first: " + strings.Join(details, "; ") + "."
	}
}

// channel resolves a step's channel against what can reach the customer:
// the named channel when reachable, else the preferred one, else the first
// reachable fallback, among those that can carry the action. "none" is no
// message; false means nothing reachable fits.
func (d *decider) channel(act Action, want string) (consent.Channel, bool) {
	if want == ChannelNone {
		return "", true
	}
	f := &d.dec.Trace.Facts
	fits := func(ch consent.Channel) bool {
		return ch != "" && slices.Contains(f.Reachable, ch) && (act != ActionCall || callChannel(ch))
	}
	if want != ChannelPreferred {
		if ch := consent.Channel(want); fits(ch) {
			d.path("channel %s: named by the step", ch)
			return ch, true
		}
		d.path("channel %s is not reachable", want)
	}
	if fits(f.Preferred) {
		d.path("channel %s: preferred by the model (p=%.2f)", f.Preferred, d.in.Preferred.P)
		return f.Preferred, true
	}
	for _, ch := range d.c.fallback {
		if fits(ch) {
			d.path("channel %s: first reachable fallback", ch)
			return ch, true
		}
	}
	return "", false
}

// callChannel reports whether a channel places a call.
func callChannel(ch consent.Channel) bool { return ch == consent.Voice || ch == consent.VoiceAI }

// preferredChannel reads the preference model's choice in consent's
// spelling (the model says ai_voice where consent says voice_ai).
func preferredChannel(c preference.Choice) consent.Channel {
	switch c.Channel {
	case "":
		return ""
	case preference.AIVoice:
		return consent.VoiceAI
	}
	return consent.Channel(c.Channel)
}

// approvals adds the reasons a person must approve the planned action.
func (d *decider) approvals(act Action) {
	dec, f := &d.dec, &d.dec.Trace.Facts
	if len(d.disputed) > 0 {
		dec.Approval = append(dec.Approval, ApprovalReason{Code: ApprovalDispute,
			Detail: fmt.Sprintf("%s disputed, left out of this demand", strings.Join(d.disputed, ", "))})
	}
	for _, t := range d.totals {
		if thr, ok := d.c.approveBalance[t.Currency.Code()]; ok && t.Minor >= thr {
			dec.Approval = append(dec.Approval, ApprovalReason{Code: ApprovalHighBalance,
				Detail: fmt.Sprintf("overdue balance %s is at least %s", t.Amount, money.New(thr, t.Currency))})
		}
	}
	if f.KeyAccount && len(d.contacts) == 0 {
		dec.Approval = append(dec.Approval, ApprovalReason{Code: ApprovalKeyAccount,
			Detail: "first contact with a key account in this delinquency"})
	}
	if slices.Contains(d.c.approveActions, act) {
		dec.Approval = append(dec.Approval, ApprovalReason{Code: ApprovalAction,
			Detail: fmt.Sprintf("the tenant approves every %s", words(act))})
	}
	dec.RequiresApproval = len(dec.Approval) > 0
	if dec.RequiresApproval {
		codes := make([]string, len(dec.Approval))
		for i, a := range dec.Approval {
			codes[i] = a.Code
		}
		d.path("approval required: %s", strings.Join(codes, ", "))
	}
}

// review routes the account to a person with nothing planned: a compliance
// flag (hardship, bankruptcy...) or every overdue invoice disputed.
func (d *decider) review(why string) {
	dec, f := &d.dec, &d.dec.Trace.Facts
	dec.Outcome, dec.RequiresApproval = OutcomeReview, true
	var details []string
	switch why {
	case "flags":
		for _, fl := range f.Flags {
			detail := flagWords(string(fl))
			dec.Approval = append(dec.Approval, ApprovalReason{Code: string(fl), Detail: detail})
			details = append(details, detail)
		}
		d.path("flags %v: route to a person", f.Flags)
	case "disputed":
		detail := fmt.Sprintf("every overdue invoice is disputed (%s)", strings.Join(d.disputed, ", "))
		dec.Approval = append(dec.Approval, ApprovalReason{Code: ApprovalDispute, Detail: detail})
		details = append(details, detail)
		d.path("all %d overdue invoices disputed: route to a person", len(d.disputed))
	}
	dec.Reason = "A person must review the account before any contact: " + strings.Join(details, "; ") + "."
}

func flagWords(flag string) string {
	switch flag {
	case "hardship":
		return "the customer told us of financial hardship"
	case "bankruptcy":
		return "the customer is in bankruptcy"
	case "deceased":
		return "the customer is deceased"
	case "active_duty":
		return "the customer is on active military duty"
	case "attorney":
		return "the customer is represented by an attorney"
	}
	return "flag " + flag
}

// demand describes what one message covers.
func (d *decider) demand() string {
	var b strings.Builder
	n := len(d.covered)
	if n == 1 {
		b.WriteString("1 overdue invoice of ")
	} else {
		fmt.Fprintf(&b, "%d overdue invoices totalling ", n)
	}
	for i, t := range d.totals {
		if i > 0 {
			b.WriteString(" and ")
		}
		b.WriteString(t.String())
	}
	fmt.Fprintf(&b, ", the oldest %d days past due", d.dec.Trace.Facts.DaysPastDue)
	return b.String()
}

// stamp writes an instant for the trace.
func stamp(t time.Time) string {
	var buf [32]byte
	return string(t.UTC().AppendFormat(buf[:0], time.RFC3339))
}

func (d *decider) date(t time.Time) string { return t.UTC().Format("2 Jan 2006") }

// clock shows a planned time as the collector reads it: in the tenant's
// zone.
func (d *decider) clock(t time.Time) string { return t.In(d.c.loc).Format("Mon 2 Jan 2006 15:04 MST") }

func words(a Action) string {
	switch a {
	case ActionHandOff:
		return "hand-off"
	case ActionPromiseFollowUp:
		return "promise follow-up"
	}
	return strings.ReplaceAll(string(a), "_", " ")
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
