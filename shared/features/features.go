// Package features turns the ledger and the engagement history into the
// numbers the models read, as of a given instant and with no look-ahead:
// a fact counts only if it was known before that instant. One definition
// serves training (each invoice as of its own issue date, or of any date
// in its life), batch scoring and the online path, so a model never sees
// a feature computed two ways.
//
// Missing values are NaN, never a guessed zero: a customer with no
// settled invoice has no late share, and the models learn what "no
// history" means (the cold start) instead of reading it as "never late".
package features

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/recoup-dev/recoup/shared/learn/parallel"
	"github.com/recoup-dev/recoup/shared/ledger"
)

// Version names this feature definition. A model artifact records it, and
// scoring refuses a model trained on another definition.
const Version = "invoice-features/1"

// Feature indices into a vector. The order is part of Version.
const (
	DaysPastDue            = iota // days since the due date (negative before it)
	TermsDays                     // due date minus invoice date
	LogAmount                     // log(1 + amount in major units)
	AmountVsHistory               // LogAmount minus the mean LogAmount of the customer's earlier invoices
	BalanceShare                  // this invoice's open amount over the customer's open balance
	OpenInvoices                  // the customer's invoices issued and not settled
	CustomerAgeDays               // days since the customer's first invoice
	SettledCount                  // the customer's invoices settled before the instant
	LateShare                     // share of those settled after their due date
	LateShareSmoothed             // (late + 1) / (settled + 2): defined for new customers too
	DaysLateMean                  // mean days late of settled invoices (0 when on time)
	DaysLateSpread                // their standard deviation
	DaysToPayMean                 // mean days from invoice to settlement
	LateTrend                     // mean days late of the last 3 settled minus DaysLateMean
	LastDaysLate                  // days late of the most recently settled invoice
	DaysSincePayment              // days since the customer's last payment
	Disputed                      // 1 when this invoice has a dispute open at the instant
	DisputeCount                  // disputes the customer raised before the instant
	PromisesKept                  // promises due before the instant and kept
	PromisesBroken                // promises due before the instant and broken
	Paperless                     // 1 electronic billing, 0 paper, NaN unknown
	DaysSinceEmailResponse        // days since the customer last responded by email
	DaysSinceSMSResponse          // by SMS
	DaysSinceVoiceResponse        // by voice (a conversation)
	DaysSinceContact              // days since we last contacted the customer on any channel
	Count                         // the number of features
)

// Names are the features' names, indexed as above; model artifacts store
// them and reason codes start from them.
var Names = [Count]string{
	"days_past_due", "terms_days", "log_amount", "amount_vs_history", "balance_share", "open_invoices",
	"customer_age_days", "settled_count", "late_share", "late_share_smoothed", "days_late_mean",
	"days_late_spread", "days_to_pay_mean", "late_trend", "last_days_late", "days_since_payment",
	"disputed", "dispute_count", "promises_kept", "promises_broken", "paperless",
	"days_since_email_response", "days_since_sms_response", "days_since_voice_response", "days_since_contact",
}

// Touch is one engagement fact: we contacted the customer, or the
// customer responded (a reply, a click, a conversation, a promise).
type Touch struct {
	Customer string
	Channel  string // "email", "sms", "voice", "ai_voice", "letter"
	At       time.Time
	Response bool // false: an attempt of ours
}

// Snapshot is the input: one tenant's ledger records and touches.
type Snapshot struct {
	Customers []ledger.Customer
	Invoices  []ledger.Invoice
	Payments  []ledger.Payment
	Disputes  []ledger.Dispute
	Promises  []ledger.PromiseToPay
	Touches   []Touch
}

// History indexes a snapshot per customer so that each vector costs a few
// binary searches, not a pass over the customer's past: training computes
// one vector per invoice, and a million of them must take seconds.
type History struct {
	customers map[string]*customer
}

// settlement is one invoice's settlement, the unit of payment behaviour.
type settlement struct {
	at        time.Time
	daysLate  float64
	daysToPay float64
	late      bool
}

type customer struct {
	ord     int32 // order of first appearance: Batch groups invoices by it
	billing ledger.BillingMedium
	first   time.Time

	// Sorted by settlement time, with running sums for O(1) aggregates of
	// "everything settled before t".
	settled                          []settlement
	cumLate, cumDaysLate, cumDaysSq  []float64
	cumDaysToPay                     []float64
	issued                           []time.Time // invoice dates, sorted
	cumIssuedLogAmt, cumIssuedAmount []float64
	payments                         []time.Time // sorted
	cumPaid                          []float64
	disputes                         []ledger.Dispute
	promises                         []ledger.PromiseToPay
	touches                          []Touch // sorted by time

	// Indexes over the above, built once, so each vector costs binary
	// searches instead of a pass over the customer's disputes, promises
	// and touches.
	disputeOpened  []time.Time                 // sorted
	disputesOf     map[string][]ledger.Dispute // by invoice
	promiseCounted []time.Time                 // when each promise starts to count, sorted
	cumKept        []float64                   // running counts in promiseCounted order
	cumBroken      []float64
	lastTouch      [touchKinds][]time.Time // sorted, per kind
	// settledOf holds every invoice id of the snapshot with its
	// settlement (zero while open): one lookup answers both "known?" and
	// "settled when?".
	settledOf map[string]time.Time
}

// NewHistory indexes a snapshot. It refuses records of more than one
// tenant or naming an invoice twice: features mixed across tenants or
// doubled would be silently wrong.
func NewHistory(s Snapshot) (*History, error) {
	h := &History{customers: map[string]*customer{}}
	var tenant ledger.TenantID
	check := func(what, id string, t ledger.TenantID) error {
		if tenant == "" {
			tenant = t
		}
		if t != tenant {
			return fmt.Errorf("features: %s %s belongs to tenant %q, the snapshot to %q", what, id, t, tenant)
		}
		return nil
	}
	get := func(id string) *customer {
		c := h.customers[id]
		if c == nil {
			c = &customer{ord: int32(len(h.customers)), settledOf: map[string]time.Time{}}
			h.customers[id] = c
		}
		return c
	}
	for _, c := range s.Customers {
		if err := check("customer", c.ID, c.Tenant); err != nil {
			return nil, err
		}
		get(c.ID).billing = c.Billing
	}
	// Settlement per invoice: the closed date when the source gives one,
	// otherwise the payment that brought the applied total to the amount.
	paidTo := map[string][]ledger.Payment{}
	paymentsOf := map[string][]ledger.Payment{}
	for _, p := range s.Payments {
		if err := check("payment", p.ID, p.Tenant); err != nil {
			return nil, err
		}
		if p.Invoice != "" {
			paidTo[p.Invoice] = append(paidTo[p.Invoice], p)
		}
		get(p.Customer)
		paymentsOf[p.Customer] = append(paymentsOf[p.Customer], p)
	}
	seen := make(map[string]bool, len(s.Invoices))
	for _, inv := range s.Invoices {
		if err := check("invoice", inv.ID, inv.Tenant); err != nil {
			return nil, err
		}
		if seen[inv.ID] {
			return nil, fmt.Errorf("features: invoice %s appears twice in the snapshot", inv.ID)
		}
		seen[inv.ID] = true
		if inv.DueDate.Before(inv.InvoiceDate) {
			return nil, fmt.Errorf("features: invoice %s: due date %s is before its invoice date %s", inv.ID,
				inv.DueDate.Format(time.DateOnly), inv.InvoiceDate.Format(time.DateOnly))
		}
		c := get(inv.Customer)
		c.settledOf[inv.ID] = time.Time{}
		if c.first.IsZero() || inv.InvoiceDate.Before(c.first) {
			c.first = inv.InvoiceDate
		}
		at := settledAt(inv, paidTo[inv.ID])
		if !at.IsZero() {
			c.settledOf[inv.ID] = at
			late := float64(max(0, ledger.DaysBetween(inv.DueDate, at)))
			c.settled = append(c.settled, settlement{at: at, daysLate: late,
				daysToPay: float64(ledger.DaysBetween(inv.InvoiceDate, at)), late: at.After(inv.DueDate)})
		}
	}
	issued := map[string][]ledger.Invoice{}
	for _, inv := range s.Invoices {
		issued[inv.Customer] = append(issued[inv.Customer], inv)
	}
	for id, invs := range issued {
		c := h.customers[id]
		slices.SortFunc(invs, func(a, b ledger.Invoice) int { return a.InvoiceDate.Compare(b.InvoiceDate) })
		c.issued = make([]time.Time, len(invs))
		c.cumIssuedLogAmt = make([]float64, len(invs)+1)
		c.cumIssuedAmount = make([]float64, len(invs)+1)
		for i, inv := range invs {
			c.issued[i] = inv.InvoiceDate
			c.cumIssuedLogAmt[i+1] = c.cumIssuedLogAmt[i] + logAmount(inv)
			c.cumIssuedAmount[i+1] = c.cumIssuedAmount[i] + major(inv.Amount.Minor, inv)
		}
	}
	for id, ps := range paymentsOf {
		c := h.customers[id]
		slices.SortFunc(ps, func(a, b ledger.Payment) int { return a.ReceivedAt.Compare(b.ReceivedAt) })
		c.payments = make([]time.Time, len(ps))
		c.cumPaid = make([]float64, len(ps)+1)
		for i, p := range ps {
			c.payments[i] = p.ReceivedAt
			c.cumPaid[i+1] = c.cumPaid[i] + float64(p.Amount.Minor)/math.Pow10(p.Amount.Currency.Scale())
		}
	}
	for _, d := range s.Disputes {
		if err := check("dispute", d.ID, d.Tenant); err != nil {
			return nil, err
		}
		c := get(d.Customer)
		c.disputes = append(c.disputes, d)
	}
	for _, p := range s.Promises {
		if err := check("promise", p.ID, p.Tenant); err != nil {
			return nil, err
		}
		c := get(p.Customer)
		c.promises = append(c.promises, p)
	}
	for _, t := range s.Touches {
		c := get(t.Customer)
		c.touches = append(c.touches, t)
	}
	for _, c := range h.customers {
		c.index()
	}
	return h, nil
}

// Touch kinds: our attempts, and responses by channel family.
const (
	touchContact = iota
	touchEmail
	touchSMS
	touchVoice
	touchKinds
)

func touchKind(t Touch) int {
	if !t.Response {
		return touchContact
	}
	switch t.Channel {
	case "email":
		return touchEmail
	case "sms":
		return touchSMS
	case "voice", "ai_voice":
		return touchVoice
	}
	return -1
}

func (c *customer) index() {
	slices.SortStableFunc(c.settled, func(a, b settlement) int { return a.at.Compare(b.at) })
	n := len(c.settled)
	c.cumLate, c.cumDaysLate = make([]float64, n+1), make([]float64, n+1)
	c.cumDaysSq, c.cumDaysToPay = make([]float64, n+1), make([]float64, n+1)
	for i, s := range c.settled {
		late := 0.0
		if s.late {
			late = 1
		}
		c.cumLate[i+1] = c.cumLate[i] + late
		c.cumDaysLate[i+1] = c.cumDaysLate[i] + s.daysLate
		c.cumDaysSq[i+1] = c.cumDaysSq[i] + s.daysLate*s.daysLate
		c.cumDaysToPay[i+1] = c.cumDaysToPay[i] + s.daysToPay
	}
	slices.SortStableFunc(c.touches, func(a, b Touch) int { return a.At.Compare(b.At) })
	for _, t := range c.touches {
		if k := touchKind(t); k >= 0 {
			c.lastTouch[k] = append(c.lastTouch[k], t.At)
		}
	}

	c.disputesOf = map[string][]ledger.Dispute{}
	for _, d := range c.disputes {
		c.disputeOpened = append(c.disputeOpened, d.OpenedAt)
		c.disputesOf[d.Invoice] = append(c.disputesOf[d.Invoice], d)
	}
	slices.SortFunc(c.disputeOpened, time.Time.Compare)

	// A promise counts at t once it is due before t and was made by t:
	// counted(p) < t exactly then, with the nanosecond making "made at t"
	// count, as the scan it replaces did.
	counted := func(p ledger.PromiseToPay) time.Time {
		if m := p.MadeAt.Add(-time.Nanosecond); m.After(p.Due) {
			return m
		}
		return p.Due
	}
	slices.SortStableFunc(c.promises, func(a, b ledger.PromiseToPay) int { return counted(a).Compare(counted(b)) })
	c.promiseCounted = make([]time.Time, len(c.promises))
	c.cumKept, c.cumBroken = make([]float64, len(c.promises)+1), make([]float64, len(c.promises)+1)
	for i, p := range c.promises {
		c.promiseCounted[i] = counted(p)
		c.cumKept[i+1], c.cumBroken[i+1] = c.cumKept[i], c.cumBroken[i]
		switch p.Status {
		case ledger.PromiseKept:
			c.cumKept[i+1]++
		case ledger.PromiseBroken:
			c.cumBroken[i+1]++
		}
	}
}

// settledAt is when an invoice was settled: its closed date, or the
// payment that completed it; zero while open.
func settledAt(inv ledger.Invoice, pays []ledger.Payment) time.Time {
	if !inv.ClosedDate.IsZero() {
		return inv.ClosedDate
	}
	slices.SortFunc(pays, func(a, b ledger.Payment) int { return a.ReceivedAt.Compare(b.ReceivedAt) })
	var paid int64
	for _, p := range pays {
		paid += p.Amount.Minor
		if paid >= inv.Amount.Minor && inv.Amount.Minor > 0 {
			return p.ReceivedAt
		}
	}
	return time.Time{}
}

// SettledAt is when the invoice was settled according to the snapshot,
// zero when it is open: the label of the training examples.
func (h *History) SettledAt(inv ledger.Invoice) time.Time {
	if c := h.customers[inv.Customer]; c != nil {
		return c.settledOf[inv.ID]
	}
	return time.Time{}
}

// before counts the sorted times strictly before t.
func before(ts []time.Time, t time.Time) int {
	n, _ := slices.BinarySearchFunc(ts, t, func(a, b time.Time) int { return a.Compare(b) })
	return n
}

func settledBefore(ss []settlement, t time.Time) int {
	n, _ := slices.BinarySearchFunc(ss, t, func(s settlement, t time.Time) int { return s.at.Compare(t) })
	return n
}

// Invoice writes the features of inv as of t into out (len Count). Facts
// dated at or after t are not used: an invoice settled on t's date is
// still open at t, so a training example never sees its own label.
func (h *History) Invoice(inv ledger.Invoice, t time.Time, out []float64) {
	c := h.customers[inv.Customer]
	if c == nil {
		c = &customer{}
	}
	var a asOf
	a.summarise(c, t)
	a.invoice(c, inv, out)
}

// asOf is one customer's history summarised at one instant: everything
// an invoice's vector needs that does not depend on the invoice. Scoring
// a portfolio computes it once per customer, not once per invoice.
type asOf struct {
	t         time.Time
	issuedByT int     // invoices issued by t
	open      float64 // of those, not settled before t
	balance   float64 // amount issued by t less payments before t
	common    [Count]float64
}

// summarise computes c's customer-level features as of t.
func (a *asOf) summarise(c *customer, t time.Time) {
	nan := math.NaN()
	out := &a.common
	a.t = t
	// Open at t: issued by t (whatever the invoice's own date) and not
	// settled before t.
	a.issuedByT = before(c.issued, t.Add(time.Nanosecond))
	n := settledBefore(c.settled, t)
	a.open = float64(a.issuedByT - n)
	a.balance = prefix(c.cumIssuedAmount, a.issuedByT) - prefix(c.cumPaid, before(c.payments, t))
	if c.first.IsZero() || c.first.After(t) {
		out[CustomerAgeDays] = 0
	} else {
		out[CustomerAgeDays] = float64(ledger.DaysBetween(c.first, t))
	}

	out[SettledCount] = float64(n)
	if n == 0 {
		out[LateShare], out[DaysLateMean], out[DaysLateSpread], out[DaysToPayMean] = nan, nan, nan, nan
		out[LateTrend], out[LastDaysLate] = nan, nan
		out[LateShareSmoothed] = 0.5
	} else {
		fn := float64(n)
		out[LateShare] = c.cumLate[n] / fn
		out[LateShareSmoothed] = (c.cumLate[n] + 1) / (fn + 2)
		mean := c.cumDaysLate[n] / fn
		out[DaysLateMean] = mean
		out[DaysLateSpread] = math.Sqrt(math.Max(0, c.cumDaysSq[n]/fn-mean*mean))
		out[DaysToPayMean] = c.cumDaysToPay[n] / fn
		k := min(3, n)
		out[LateTrend] = (c.cumDaysLate[n]-c.cumDaysLate[n-k])/float64(k) - mean
		out[LastDaysLate] = c.settled[n-1].daysLate
	}
	if p := before(c.payments, t); p > 0 {
		out[DaysSincePayment] = float64(ledger.DaysBetween(c.payments[p-1], t))
	} else {
		out[DaysSincePayment] = nan
	}

	out[DisputeCount] = float64(before(c.disputeOpened, t))
	k := before(c.promiseCounted, t)
	out[PromisesKept], out[PromisesBroken] = prefix(c.cumKept, k), prefix(c.cumBroken, k)
	switch c.billing {
	case ledger.BillingElectronic:
		out[Paperless] = 1
	case ledger.BillingPaper:
		out[Paperless] = 0
	default:
		out[Paperless] = nan
	}
	for kind, slot := range [touchKinds]int{touchContact: DaysSinceContact, touchEmail: DaysSinceEmailResponse,
		touchSMS: DaysSinceSMSResponse, touchVoice: DaysSinceVoiceResponse} {
		if k := before(c.lastTouch[kind], t); k > 0 {
			out[slot] = float64(ledger.DaysBetween(c.lastTouch[kind][k-1], t))
		} else {
			out[slot] = nan
		}
	}
}

// invoice writes inv's vector from c's summary a.
func (a *asOf) invoice(c *customer, inv ledger.Invoice, out []float64) {
	_ = out[Count-1]
	t := a.t
	copy(out, a.common[:])
	out[DaysPastDue] = float64(ledger.DaysBetween(inv.DueDate, t))
	out[TermsDays] = float64(ledger.DaysBetween(inv.InvoiceDate, inv.DueDate))
	la := logAmount(inv)
	out[LogAmount] = la

	// Earlier invoices: issued strictly before this one's date (or before
	// t, whichever is earlier), so the invoice does not compare to itself.
	cut := inv.InvoiceDate
	if t.Before(cut) {
		cut = t
	}
	if k := before(c.issued, cut); k > 0 {
		out[AmountVsHistory] = la - c.cumIssuedLogAmt[k]/float64(k)
	} else {
		out[AmountVsHistory] = math.NaN()
	}
	open, balance := a.open, a.balance
	thisOpen := major(inv.Amount.Minor, inv)
	settled, known := c.settledOf[inv.ID]
	if !settled.IsZero() && settled.Before(t) {
		thisOpen = 0
	}
	if !known || inv.InvoiceDate.After(t) { // not counted above: new, or dated after t
		open++
		balance += thisOpen
	}
	out[OpenInvoices] = max(open, 0)
	if balance > 0 {
		out[BalanceShare] = math.Min(1, thisOpen/balance)
	} else {
		out[BalanceShare] = 1
	}

	out[Disputed] = 0
	var disputes []ledger.Dispute
	if len(c.disputesOf) > 0 {
		disputes = c.disputesOf[inv.ID]
	}
	for _, d := range disputes {
		if !d.OpenedAt.After(t) && (d.ResolvedAt.IsZero() || !d.ResolvedAt.Before(t)) {
			out[Disputed] = 1
		}
	}
}

// Batch writes the features of every invoice as of t into x, row-major
// (len(invs)×Count), and returns the order of the rows: row k is the
// vector of invs[order[k]], exactly as Invoice computes it. The rows come
// grouped by customer (a known customer's invoices adjacent and in input
// order, customers in the history's order; the invoices of customers it
// does not know last, all alike since they have no history), so each
// customer's history is summarised once for all of its invoices, and
// whatever is computed per row afterwards (scores, a roll-up per
// customer) walks each customer's rows together. The work is spread over
// the cores: scoring a whole portfolio is mostly this.
func (h *History) Batch(invs []ledger.Invoice, t time.Time, x []float64) (order []int32) {
	if len(x) != len(invs)*Count {
		panic(fmt.Sprintf("features: Batch needs %d×%d values, got %d", len(invs), Count, len(x)))
	}
	// Each invoice's customer, found once; then a counting sort on the
	// customers' ordinals.
	unknown := &customer{ord: int32(len(h.customers))}
	of := make([]*customer, len(invs))
	parallel.Blocks(len(invs), minBlock, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			c := h.customers[invs[i].Customer]
			if c == nil {
				c = unknown
			}
			of[i] = c
		}
	})
	start := make([]int32, len(h.customers)+2)
	for _, c := range of {
		start[c.ord+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	order = make([]int32, len(invs))
	for i, c := range of {
		order[start[c.ord]] = int32(i)
		start[c.ord]++
	}
	parallel.Blocks(len(invs), minBlock, func(_, lo, hi int) {
		var a asOf
		var last *customer
		for k := lo; k < hi; k++ {
			i := order[k]
			c := of[i]
			if c != last {
				a.summarise(c, t)
				last = c
			}
			a.invoice(c, invs[i], x[k*Count:(k+1)*Count])
		}
	})
	return order
}

// minBlock is the fewest invoices worth a goroutine of their own.
const minBlock = 1024

// prefix is the running sum of the first n values; a customer with no
// invoices or payments has no sums at all.
func prefix(cum []float64, n int) float64 {
	if n <= 0 || len(cum) == 0 {
		return 0
	}
	return cum[min(n, len(cum)-1)]
}

func logAmount(inv ledger.Invoice) float64 {
	return math.Log1p(math.Max(0, major(inv.Amount.Minor, inv)))
}

// major converts minor units to major units for the models only; money
// itself stays integer everywhere else.
func major(minor int64, inv ledger.Invoice) float64 {
	return float64(minor) / math.Pow10(inv.Amount.Currency.Scale())
}
