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

// Scored is a scoring run: every open invoice's score and the drift of
// today's population from the model's reference.
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
// skipped: there is nothing to collect.
func (m *Model) Score(h *features.History, invoices []ledger.Invoice, at time.Time) ([]InvoiceScore, error) {
	s, _, err := m.score(h, invoices, at)
	return s, err
}

func (m *Model) score(h *features.History, invoices []ledger.Invoice, at time.Time) ([]InvoiceScore, scoring.Matrix, error) {
	var open []ledger.Invoice
	for _, inv := range invoices {
		if inv.IsOpen() {
			open = append(open, inv)
		}
	}
	x := scoring.Matrix{Rows: len(open), Names: features.Names[:], X: make([]float64, len(open)*features.Count)}
	bad := make([]error, parallel.Workers())
	parallel.Blocks(len(open), rowsPerBlock, func(w, lo, hi int) {
		for i := lo; i < hi && bad[w] == nil; i++ {
			h.Invoice(open[i], at, x.Row(i))
			for j, v := range x.Row(i) {
				if math.IsInf(v, 0) {
					bad[w] = fmt.Errorf("ranking: invoice %s: feature %s is infinite", open[i].ID, features.Names[j])
				}
			}
		}
	})
	if err := errors.Join(bad...); err != nil {
		return nil, x, err
	}
	p, err := m.Predict(x)
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
			inv := open[i]
			s := InvoiceScore{Invoice: inv.ID, Customer: inv.Customer, Open: inv.Open,
				DaysPastDue: inv.DaysPastDue(at), ExpectedDays: p.Days[i]}
			for j := range Horizons {
				s.PayWithin[j] = p.Within[j][i]
			}
			s.Reasons = m.reasons(x.Row(i), &buf, backing[i*reasonsPerScore:i*reasonsPerScore:(i+1)*reasonsPerScore])
			out[i] = s
		}
	})
	return out, x, nil
}

// rowsPerBlock is the fewest rows worth a goroutine of their own.
const rowsPerBlock = 1024

// Rollup groups invoice scores per customer and currency, largest open
// balance first within a currency.
func Rollup(scores []InvoiceScore) []CustomerScore {
	type key struct {
		customer string
		cur      money.Currency
	}
	index := make(map[key]int, len(scores)/2)
	var out []CustomerScore
	var largest []int64
	for _, s := range scores {
		k := key{s.Customer, s.Open.Currency}
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			c := CustomerScore{Customer: s.Customer, Open: money.New(0, s.Open.Currency)}
			for j := range Horizons {
				c.Expected[j] = money.New(0, s.Open.Currency)
			}
			out = append(out, c)
			largest = append(largest, -1)
		}
		c := &out[i]
		c.Invoices++
		c.Open.Minor += s.Open.Minor
		c.OldestDaysPastDue = max(c.OldestDaysPastDue, s.DaysPastDue)
		for j := range Horizons {
			// Rounded per invoice, so the customer's expected amount is
			// the sum of its invoices' as a collector would add them.
			c.Expected[j].Minor += int64(math.Round(float64(s.Open.Minor) * s.PayWithin[j]))
		}
		c.ExpectedDays += float64(s.Open.Minor) * s.ExpectedDays
		if s.Open.Minor > largest[i] {
			largest[i] = s.Open.Minor
			c.Reasons = s.Reasons
		}
	}
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
