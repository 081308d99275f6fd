package ranking

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/recoup-dev/recoup/shared/drift"
	"github.com/recoup-dev/recoup/shared/features"
	"github.com/recoup-dev/recoup/shared/learn/parallel"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
	"github.com/recoup-dev/recoup/shared/scoring"
)

// InvoiceScore is one open invoice's outlook at an instant.
type InvoiceScore struct {
	Invoice, Customer string
	Open              money.Amount
	DaysPastDue       int
	// PayWithin[h] is the probability of payment within Horizons[h] days.
	PayWithin [len(Horizons)]float64
	// ExpectedDays is the expected days until payment, at most DaysCap.
	ExpectedDays float64
	// Reasons are the features that moved the 30-day probability most.
	Reasons []Reason
}

// CustomerScore rolls up a customer's open invoices in one currency.
type CustomerScore struct {
	Customer string
	Open     money.Amount
	Invoices int
	// OldestDaysPastDue is the days past due of the customer's oldest
	// overdue invoice (0 when none is overdue).
	OldestDaysPastDue int
	// PayWithin[h] is the share of the open balance expected to be paid
	// within Horizons[h] days: the balance-weighted mean of the invoices'
	// probabilities.
	PayWithin [len(Horizons)]float64
	// Expected[h] is the amount expected within Horizons[h] days.
	Expected [len(Horizons)]money.Amount
	// ExpectedDays is the balance-weighted mean of the invoices' expected
	// days to pay.
	ExpectedDays float64
	// Reasons are those of the customer's largest open invoice.
	Reasons []Reason
}

// Reasons per score: enough for a collector to see why, few enough to
// read.
const reasonsPerScore = 3

// Scored is a scoring run: every open invoice's score, grouped by
// customer as Score returns them, and the drift of today's population
// from the model's reference.
type Scored struct {
	Invoices []InvoiceScore
	Drift    drift.Report
}

// Run scores the invoices open at at and compares the rows with the
// model's drift reference; an alarm in the report means the model is
// scoring a population it did not learn from.
func (m *Model) Run(h *features.History, invoices []ledger.Invoice, at time.Time, t drift.Thresholds) (Scored, error) {
	scores, x, err := m.score(h, invoices, at)
	if err != nil {
		return Scored{}, err
	}
	out := Scored{Invoices: scores}
	if len(scores) == 0 {
		return out, nil
	}
	p30 := make([]float64, len(scores))
	for i, s := range scores {
		p30[i] = s.PayWithin[len(Horizons)-1]
	}
	out.Drift, err = drift.Compare(m.Drift, drift.Sample{Names: x.Names, Rows: x.Rows, X: x.X, Scores: p30}, t)
	if err != nil {
		return out, fmt.Errorf("drift: %w", err)
	}
	// A feature no head learnt from (constant or missing in training)
	// cannot move a score, whatever its values do now: it is reported,
	// but it does not raise the run's level.
	used := m.used()
	out.Drift.Level = out.Drift.Score.Level
	for i, c := range out.Drift.Columns {
		if !used[c.Name] {
			out.Drift.Columns[i].Summary += " (the model does not use it)"
			continue
		}
		out.Drift.Level = max(out.Drift.Level, c.Level)
	}
	return out, nil
}

// used are the features any head learnt from.
func (m *Model) used() map[string]bool {
	out := map[string]bool{}
	for _, c := range m.within {
		for _, n := range c.Used() {
			out[n] = true
		}
	}
	for _, n := range m.days.Used() {
		out[n] = true
	}
	return out
}

// Score scores the invoices open at at (those with an open balance),
// features from h as of at. Invoices of zero or negative open amount are
// skipped: there is nothing to collect. The scores come grouped by
// customer (features.History.Batch's order), not in the input's order.
func (m *Model) Score(h *features.History, invoices []ledger.Invoice, at time.Time) ([]InvoiceScore, error) {
	s, _, err := m.score(h, invoices, at)
	return s, err
}

func (m *Model) score(h *features.History, invoices []ledger.Invoice, at time.Time) ([]InvoiceScore, scoring.Matrix, error) {
	open := invoices
	if n := countOpen(invoices); n < len(invoices) {
		// Invoices are large structs: sized once, not grown a million
		// times over, and not copied at all when every one is open (the
		// worklist reads only open ones).
		open = make([]ledger.Invoice, 0, n)
		for _, inv := range invoices {
			if inv.IsOpen() {
				open = append(open, inv)
			}
		}
	}
	x := scoring.Matrix{Rows: len(open), Names: features.Names[:], X: make([]float64, len(open)*features.Count)}
	// Rows in the features' customer order, so the scores come out
	// grouped by customer and the roll-up walks them in runs.
	order := h.Batch(open, at, x.X)
	bad := make([]error, parallel.Workers())
	parallel.Blocks(len(open), rowsPerBlock, func(w, lo, hi int) {
		for i := lo; i < hi && bad[w] == nil; i++ {
			for j, v := range x.Row(i) {
				if math.IsInf(v, 0) {
					bad[w] = fmt.Errorf("ranking: invoice %s: feature %s is infinite", open[order[i]].ID, features.Names[j])
				}
			}
		}
	})
	if err := errors.Join(bad...); err != nil {
		return nil, x, err
	}
	// The last head is predicted row by row with its reasons: one walk of
	// its trees gives both.
	last := len(Horizons) - 1
	p, err := m.predict(x, last)
	if err != nil {
		return nil, x, err
	}
	out := make([]InvoiceScore, len(open))
	// One backing array for every invoice's reasons: a million small
	// slices would cost more in allocation and GC than the reasons do.
	backing := make([]Reason, len(open)*reasonsPerScore)
	parallel.Blocks(len(open), rowsPerBlock, func(_, lo, hi int) {
		var buf scoring.ReasonBuffer
		for i := lo; i < hi; i++ {
			inv := &open[order[i]]
			s := InvoiceScore{Invoice: inv.ID, Customer: inv.Customer, Open: inv.Open,
				DaysPastDue: inv.DaysPastDue(at), ExpectedDays: p.Days[i]}
			for j := range last {
				s.PayWithin[j] = p.Within[j][i]
			}
			p30, rs := m.within[last].PredictReasonsWith(x.Row(i), reasonsPerScore, &buf)
			s.PayWithin[last] = max(p30, s.PayWithin[last-1])
			p.Within[last][i] = s.PayWithin[last]
			s.Reasons = reasons(rs, x.Row(i), backing[i*reasonsPerScore:i*reasonsPerScore:(i+1)*reasonsPerScore])
			out[i] = s
		}
	})
	return out, x, nil
}

func countOpen(invoices []ledger.Invoice) int {
	n := 0
	for _, inv := range invoices {
		if inv.IsOpen() {
			n++
		}
	}
	return n
}

// rollup is the running roll-up of a run of scores.
type rollup struct {
	first   map[string]int // a customer's entry in its first currency
	out     []CustomerScore
	largest []int64 // the open amount of the invoice whose reasons the entry shows
	other   []int   // the customer's entry in its next currency, -1 when none
}

// chunks cuts scores into at most n runs at customer changes: bounds
// cuts[i]..cuts[i+1].
func chunks(scores []InvoiceScore, n int) []int {
	cuts := []int{0}
	for i := 1; i < n; i++ {
		at := max(len(scores)*i/n, cuts[len(cuts)-1])
		for at > 0 && at < len(scores) && scores[at].Customer == scores[at-1].Customer {
			at++
		}
		if at > cuts[len(cuts)-1] && at < len(scores) {
			cuts = append(cuts, at)
		}
	}
	return append(cuts, len(scores))
}

func rollUp(scores []InvoiceScore) rollup {
	// Sized for customers of a few invoices each, so the large entries
	// are seldom copied by growth.
	r := rollup{first: make(map[string]int, len(scores)/4+1)}
	r.out = make([]CustomerScore, 0, len(scores)/4+1)
	last := -1
	for k := range scores {
		s := &scores[k]
		i := last
		// Consecutive invoices of one customer skip the lookup.
		if i < 0 || r.out[i].Customer != s.Customer || r.out[i].Open.Currency != s.Open.Currency {
			i = r.entry(s.Customer, s.Open.Currency)
			last = i
		}
		c := &r.out[i]
		c.Invoices++
		c.Open.Minor += s.Open.Minor
		c.OldestDaysPastDue = max(c.OldestDaysPastDue, s.DaysPastDue)
		for j := range Horizons {
			// Rounded per invoice, so the customer's expected amount is
			// the sum of its invoices' as a collector would add them.
			c.Expected[j].Minor += int64(math.Round(float64(s.Open.Minor) * s.PayWithin[j]))
		}
		c.ExpectedDays += float64(s.Open.Minor) * s.ExpectedDays // a weighted sum until the end
		if s.Open.Minor > r.largest[i] {
			r.largest[i] = s.Open.Minor
			c.Reasons = s.Reasons
		}
	}
	return r
}

// entry finds or adds the entry of customer in cur. Customers are looked
// up by id alone (a string key hashes faster than a struct), their other
// currencies chained behind the first.
func (r *rollup) entry(customer string, cur money.Currency) int {
	i, ok := r.first[customer]
	if !ok {
		i = r.add(customer, cur)
		r.first[customer] = i
	}
	for r.out[i].Open.Currency != cur {
		if r.other[i] < 0 {
			r.other[i] = r.add(customer, cur)
		}
		i = r.other[i]
	}
	return i
}

func (r *rollup) add(customer string, cur money.Currency) int {
	c := CustomerScore{Customer: customer, Open: money.New(0, cur)}
	for j := range Horizons {
		c.Expected[j] = money.New(0, cur)
	}
	r.out = append(r.out, c)
	r.largest = append(r.largest, -1)
	r.other = append(r.other, -1)
	return len(r.out) - 1
}

// merge adds q, the roll-up of the scores after r's, into r.
func (r *rollup) merge(q rollup) {
	if r.first == nil {
		*r = q
		return
	}
	for k := range q.out {
		c := &q.out[k]
		i := r.entry(c.Customer, c.Open.Currency)
		d := &r.out[i]
		d.Invoices += c.Invoices
		d.Open.Minor += c.Open.Minor
		d.OldestDaysPastDue = max(d.OldestDaysPastDue, c.OldestDaysPastDue)
		for j := range Horizons {
			d.Expected[j].Minor += c.Expected[j].Minor
		}
		d.ExpectedDays += c.ExpectedDays
		if q.largest[k] > r.largest[i] { // strictly: the earlier invoice wins a tie, as in one pass
			r.largest[i] = q.largest[k]
			d.Reasons = c.Reasons
		}
	}
}

// rowsPerBlock is the fewest rows worth a goroutine of their own.
const rowsPerBlock = 1024

// Rollup groups invoice scores per customer and currency, largest open
// balance first within a currency.
func Rollup(scores []InvoiceScore) []CustomerScore {
	// Contiguous chunks are rolled up in parallel, each cut where the
	// customer changes (Run groups scores by customer), then merged in
	// chunk order, which gives what one pass over all the scores would.
	parts := make([]rollup, parallel.Workers())
	cuts := chunks(scores, len(parts))
	parallel.Blocks(len(cuts)-1, 1, func(w, lo, hi int) {
		for c := lo; c < hi; c++ {
			parts[c] = rollUp(scores[cuts[c]:cuts[c+1]])
		}
	})
	r := parts[0]
	for _, p := range parts[1:] {
		r.merge(p)
	}
	out := r.out
	for i := range out {
		c := &out[i]
		if c.Open.Minor > 0 {
			for j := range Horizons {
				c.PayWithin[j] = float64(c.Expected[j].Minor) / float64(c.Open.Minor)
			}
			c.ExpectedDays /= float64(c.Open.Minor)
		}
	}
	// The customer id breaks every tie, so an unstable sort of indexes is
	// deterministic and moves ints, not the large structs.
	order := make([]int, len(out))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(x, y int) int {
		a, b := &out[x], &out[y]
		if c := cmp.Compare(a.Open.Currency.Code(), b.Open.Currency.Code()); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Open.Minor, a.Open.Minor); c != 0 {
			return c
		}
		return cmp.Compare(a.Customer, b.Customer)
	})
	sorted := make([]CustomerScore, len(out))
	for i, j := range order {
		sorted[i] = out[j]
	}
	return sorted
}
