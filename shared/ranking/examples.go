// Package ranking is the customer ranking model: for every open invoice,
// the probability that it is paid within 7, 14 and 30 days and the
// expected days until it is paid, rolled up per customer, with the
// reasons in words a collector understands.
//
// Training rows are open invoices seen at past instants (a weekly grid),
// labelled with what happened next, so the model learns exactly the
// question the worklist asks of today's open invoices. Every feature comes
// from shared/features as of the row's instant, so nothing after it leaks
// in; the grid ends 30 days before the data does, so every label is known.
package ranking

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/recoup-dev/recoup/shared/features"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/scoring"
)

// Horizons are the pay-within windows in days, shortest first.
var Horizons = [3]int{7, 14, 30}

// DaysCap caps the expected days to pay: an invoice not paid within 90
// days is in the 90+ bucket, where the exact day no longer changes what a
// collector does, and where the data (unpaid invoices) cannot say it.
const DaysCap = 90

// Examples are the training rows in time order.
type Examples struct {
	M  scoring.Matrix
	At []time.Time // each row's instant
	// Within[h] is 1 when the invoice was paid within Horizons[h] days of
	// the row's instant.
	Within [len(Horizons)][]float64
	// Days is the days from the instant to payment, capped at DaysCap;
	// NaN when the data ends before the invoice was paid or 90 days passed.
	Days []float64
	// Candidates is the number of (invoice, instant) pairs before
	// sampling.
	Candidates int
}

// ExampleConfig shapes the grid of instants.
type ExampleConfig struct {
	// Step is the spacing of the instants (default 7 days).
	Step time.Duration
	// MaxRows caps the rows; beyond it pairs are sampled uniformly and
	// reproducibly (default 300,000; enough for 25 features, and it keeps
	// training on a million invoices within a minute on two cores).
	MaxRows int
}

func (c ExampleConfig) withDefaults() ExampleConfig {
	if c.Step <= 0 {
		c.Step = 7 * 24 * time.Hour
	}
	if c.MaxRows <= 0 {
		c.MaxRows = 300_000
	}
	return c
}

// Build makes the training rows of the invoices in h up to end (the date
// the data was exported). The instants are end−30 days, and every Step
// before it back to the first invoice.
func Build(h *features.History, invoices []ledger.Invoice, end time.Time, cfg ExampleConfig) (Examples, error) {
	cfg = cfg.withDefaults()
	last := end.AddDate(0, 0, -Horizons[len(Horizons)-1])
	type pair struct {
		inv int
		k   int // instant last − k·Step
	}
	var first time.Time
	for _, inv := range invoices {
		if first.IsZero() || inv.InvoiceDate.Before(first) {
			first = inv.InvoiceDate
		}
	}
	if first.IsZero() || !first.Before(last) {
		return Examples{}, fmt.Errorf("%w: the data must cover more than %d days before %s to label any row",
			scoring.ErrData, Horizons[len(Horizons)-1], end.Format(time.DateOnly))
	}
	instant := func(k int) time.Time { return last.Add(-time.Duration(k) * cfg.Step) }
	// kFor is the smallest k whose instant is at or before t.
	kFor := func(t time.Time) int {
		if !t.Before(last) {
			return 0
		}
		return int((last.Sub(t) + cfg.Step - 1) / cfg.Step)
	}
	settled := make([]time.Time, len(invoices))
	count := 0
	spans := make([][2]int, len(invoices)) // k from, k to (inclusive), newest first
	for i, inv := range invoices {
		spans[i] = [2]int{0, -1}
		if inv.Amount.Minor <= 0 || inv.InvoiceDate.After(last) {
			continue
		}
		settled[i] = h.SettledAt(inv)
		if settled[i].After(end) {
			// Not known at end: an export taken then shows it open.
			settled[i] = time.Time{}
		}
		// Open at s: issued by s, and not settled before s.
		lo := 0
		if !settled[i].IsZero() {
			if settled[i].Before(inv.InvoiceDate) {
				continue
			}
			lo = kFor(settled[i])
		}
		hi := int(last.Sub(inv.InvoiceDate) / cfg.Step)
		if lo > hi {
			continue
		}
		spans[i] = [2]int{lo, hi}
		count += hi - lo + 1
	}
	keep := 1.0
	if count > cfg.MaxRows {
		keep = float64(cfg.MaxRows) / float64(count)
	}
	var pairs []pair
	for i, s := range spans {
		for k := s[0]; k <= s[1]; k++ {
			if keep < 1 && sampleKey(invoices[i].ID, k) >= keep {
				continue
			}
			pairs = append(pairs, pair{i, k})
		}
	}
	// Oldest instant first; within one, by invoice id, so a run is
	// reproducible whatever order the invoices came in.
	slices.SortFunc(pairs, func(a, b pair) int {
		if a.k != b.k {
			return b.k - a.k
		}
		return strings.Compare(invoices[a.inv].ID, invoices[b.inv].ID)
	})
	ex := Examples{Candidates: count, At: make([]time.Time, len(pairs)), Days: make([]float64, len(pairs))}
	ex.M = scoring.Matrix{Rows: len(pairs), Names: features.Names[:], X: make([]float64, len(pairs)*features.Count)}
	for h := range Horizons {
		ex.Within[h] = make([]float64, len(pairs))
	}
	for r, p := range pairs {
		inv, at := invoices[p.inv], instant(p.k)
		ex.At[r] = at
		h.Invoice(inv, at, ex.M.Row(r))
		s := settled[p.inv]
		days := math.NaN()
		if !s.IsZero() {
			days = float64(max(0, ledger.DaysBetween(at, s)))
		}
		for j, n := range Horizons {
			if !math.IsNaN(days) && days <= float64(n) {
				ex.Within[j][r] = 1
			}
		}
		switch {
		case !math.IsNaN(days):
			ex.Days[r] = min(days, DaysCap)
		case ledger.DaysBetween(at, end) >= DaysCap:
			ex.Days[r] = DaysCap
		default:
			ex.Days[r] = math.NaN()
		}
	}
	return ex, nil
}

// sampleKey maps an (invoice, instant) pair to [0,1) reproducibly: the
// same data gives the same sample on every run and machine.
func sampleKey(id string, k int) float64 {
	f := fnv.New64a()
	f.Write([]byte(id))
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(k))
	f.Write(b[:])
	return float64(f.Sum64()>>11) / (1 << 53)
}
