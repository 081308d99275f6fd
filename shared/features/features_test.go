package features

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

var usd = money.MustCurrency("USD")

func inv(id, cust string, issued, due, closed time.Time, cents int64) ledger.Invoice {
	return ledger.Invoice{Tenant: "t", ID: id, Customer: cust, InvoiceDate: issued, DueDate: due,
		Amount: money.New(cents, usd), ClosedDate: closed}
}

func d(m time.Month, day int) time.Time { return ledger.Date(2013, m, day) }

// A customer with two settled invoices (one 10 days late) and a third
// invoice scored at various instants.
func history(t *testing.T) (*History, ledger.Invoice) {
	t.Helper()
	third := inv("I3", "C", d(3, 1), d(3, 31), d(4, 10), 30000)
	h, err := NewHistory(Snapshot{
		Customers: []ledger.Customer{{Tenant: "t", ID: "C", Billing: ledger.BillingElectronic}},
		Invoices: []ledger.Invoice{
			inv("I1", "C", d(1, 1), d(1, 31), d(1, 20), 10000),
			inv("I2", "C", d(1, 15), d(2, 14), d(2, 24), 20000),
			third,
		},
		Payments: []ledger.Payment{
			{Tenant: "t", ID: "P1", Customer: "C", Invoice: "I1", Amount: money.New(10000, usd), ReceivedAt: d(1, 20)},
			{Tenant: "t", ID: "P2", Customer: "C", Invoice: "I2", Amount: money.New(20000, usd), ReceivedAt: d(2, 24)},
			{Tenant: "t", ID: "P3", Customer: "C", Invoice: "I3", Amount: money.New(30000, usd), ReceivedAt: d(4, 10)},
		},
		Disputes: []ledger.Dispute{{Tenant: "t", ID: "D2", Customer: "C", Invoice: "I2", OpenedAt: d(1, 15), ResolvedAt: d(2, 24)}},
		Touches: []Touch{
			{Customer: "C", Channel: "email", At: d(2, 1)},
			{Customer: "C", Channel: "email", At: d(2, 3), Response: true},
			{Customer: "C", Channel: "sms", At: d(5, 1), Response: true}, // after every instant below
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return h, third
}

func TestInvoiceFeatures(t *testing.T) {
	h, third := history(t)
	nan := math.NaN()
	for _, tc := range []struct {
		name string
		at   time.Time
		want map[int]float64
	}{
		{"at issue: both earlier invoices settled", d(3, 1), map[int]float64{
			DaysPastDue: -30, TermsDays: 30, SettledCount: 2, LateShare: 0.5, LateShareSmoothed: 0.5,
			DaysLateMean: 5, DaysLateSpread: 5, DaysToPayMean: (19 + 40) / 2.0, LateTrend: 0, LastDaysLate: 10,
			DaysSincePayment: 5, OpenInvoices: 1, BalanceShare: 1, CustomerAgeDays: 59, Disputed: 0, DisputeCount: 1,
			Paperless: 1, DaysSinceEmailResponse: 26, DaysSinceSMSResponse: nan, DaysSinceVoiceResponse: nan, DaysSinceContact: 28,
			AmountVsHistory: math.Log1p(300) - (math.Log1p(100)+math.Log1p(200))/2,
		}},
		{"mid February: I2 still open, settles on the 24th", d(2, 24), map[int]float64{
			SettledCount: 1, LateShare: 0, LastDaysLate: 0, OpenInvoices: 2, DaysSincePayment: 35, // I2 and I3 itself
		}},
		{"its own settlement day: still open, no look-ahead", d(4, 10), map[int]float64{
			DaysPastDue: 10, SettledCount: 2, OpenInvoices: 1, BalanceShare: 1,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := make([]float64, Count)
			h.Invoice(third, tc.at, out)
			got := map[int]float64{}
			for k := range tc.want {
				got[k] = out[k]
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateNaNs(), cmpopts.EquateApprox(0, 1e-9)); diff != "" {
				t.Errorf("features (-want +got), by index into Names:\n%s", diff)
			}
		})
	}
}

// An invoice dispute counts only while it is open at the instant.
func TestDisputedIsPointInTime(t *testing.T) {
	h, _ := history(t)
	second := inv("I2", "C", d(1, 15), d(2, 14), d(2, 24), 20000)
	out := make([]float64, Count)
	for _, tc := range []struct {
		at   time.Time
		want float64
	}{{d(1, 14), 0}, {d(1, 15), 1}, {d(2, 23), 1}, {d(2, 24), 1}, {d(2, 25), 0}} {
		h.Invoice(second, tc.at, out)
		if out[Disputed] != tc.want {
			t.Errorf("at %s: disputed %v, want %v", tc.at.Format(time.DateOnly), out[Disputed], tc.want)
		}
	}
}

// A customer the snapshot never saw gets the cold-start vector: no
// history, missing values where nothing is known.
func TestColdStart(t *testing.T) {
	h, err := NewHistory(Snapshot{})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, Count)
	h.Invoice(inv("N1", "NEW", d(6, 1), d(7, 1), time.Time{}, 5000), d(6, 1), out)
	for _, k := range []int{LateShare, DaysLateMean, DaysToPayMean, LastDaysLate, DaysSincePayment, Paperless, AmountVsHistory} {
		if !math.IsNaN(out[k]) {
			t.Errorf("%s = %v for a new customer, want NaN (unknown)", Names[k], out[k])
		}
	}
	if out[SettledCount] != 0 || out[LateShareSmoothed] != 0.5 || out[OpenInvoices] != 1 || out[BalanceShare] != 1 {
		t.Errorf("cold start: settled %v smoothed %v open %v share %v", out[SettledCount], out[LateShareSmoothed], out[OpenInvoices], out[BalanceShare])
	}
}

func TestNewHistoryRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    Snapshot
		want string
	}{
		{"two tenants", Snapshot{Invoices: []ledger.Invoice{inv("A", "C", d(1, 1), d(1, 31), time.Time{}, 1),
			{Tenant: "other", ID: "B", Customer: "C", InvoiceDate: d(1, 1), DueDate: d(1, 2)}}},
			`features: invoice B belongs to tenant "other", the snapshot to "t"`},
		{"invoice twice", Snapshot{Invoices: []ledger.Invoice{inv("A", "C", d(1, 1), d(1, 31), time.Time{}, 1),
			inv("A", "C", d(1, 1), d(1, 31), time.Time{}, 1)}}, "features: invoice A appears twice in the snapshot"},
		{"due before issue", Snapshot{Invoices: []ledger.Invoice{inv("A", "C", d(2, 1), d(1, 31), time.Time{}, 1)}},
			"features: invoice A: due date 2013-01-31 is before its invoice date 2013-02-01"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewHistory(tc.s)
			if err == nil || err.Error() != tc.want {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// Settlement comes from payments when the source gives no closed date.
func TestSettledFromPayments(t *testing.T) {
	i := inv("A", "C", d(1, 1), d(1, 31), time.Time{}, 10000)
	h, err := NewHistory(Snapshot{Invoices: []ledger.Invoice{i}, Payments: []ledger.Payment{
		{Tenant: "t", ID: "P1", Customer: "C", Invoice: "A", Amount: money.New(4000, usd), ReceivedAt: d(1, 10)},
		{Tenant: "t", ID: "P2", Customer: "C", Invoice: "A", Amount: money.New(6000, usd), ReceivedAt: d(2, 5)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.SettledAt(i); !got.Equal(d(2, 5)) {
		t.Errorf("settled at %s, want 2013-02-05 (the payment that completed it)", got)
	}
	out := make([]float64, Count)
	h.Invoice(i, d(1, 20), out)
	if out[BalanceShare] != 1 || out[DaysSincePayment] != 10 {
		t.Errorf("after a part payment: share %v, days since payment %v", out[BalanceShare], out[DaysSincePayment])
	}
}

// TestIndexedEqualsScan checks the indexed dispute, promise and touch
// features against a plain scan of the records, on random histories and
// instants that fall on, just before and just after the records' times.
func TestIndexedEqualsScan(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	day := func() time.Time { return d(1, 1).Add(time.Duration(r.IntN(90*24)) * time.Hour) }
	statuses := []ledger.PromiseStatus{ledger.PromiseKept, ledger.PromiseBroken, ledger.PromiseOpen}
	channels := []string{"email", "sms", "voice", "ai_voice", "letter"}
	for trial := range 200 {
		invoice := inv("I1", "C", d(1, 1), d(1, 31), time.Time{}, 10000)
		s := Snapshot{Invoices: []ledger.Invoice{invoice, inv("I2", "C", d(1, 5), d(2, 4), time.Time{}, 5000)}}
		var instants []time.Time
		for i := range r.IntN(6) {
			dp := ledger.Dispute{Tenant: "t", ID: fmt.Sprint("D", i), Customer: "C", Invoice: []string{"I1", "I2"}[r.IntN(2)], OpenedAt: day()}
			if r.IntN(2) == 0 {
				dp.ResolvedAt = dp.OpenedAt.Add(time.Duration(r.IntN(20*24)) * time.Hour)
				instants = append(instants, dp.ResolvedAt)
			}
			s.Disputes = append(s.Disputes, dp)
			instants = append(instants, dp.OpenedAt)
		}
		for i := range r.IntN(6) {
			// Some promises are (wrongly) due before they were made.
			p := ledger.PromiseToPay{Tenant: "t", ID: fmt.Sprint("P", i), Customer: "C", MadeAt: day(), Due: day(), Status: statuses[r.IntN(3)]}
			s.Promises = append(s.Promises, p)
			instants = append(instants, p.MadeAt, p.Due)
		}
		for range r.IntN(8) {
			tc := Touch{Customer: "C", Channel: channels[r.IntN(len(channels))], At: day(), Response: r.IntN(2) == 0}
			s.Touches = append(s.Touches, tc)
			instants = append(instants, tc.At)
		}
		h, err := NewHistory(s)
		if err != nil {
			t.Fatal(err)
		}
		for _, at := range instants {
			for _, at := range []time.Time{at.Add(-time.Nanosecond), at, at.Add(time.Nanosecond), at.Add(36 * time.Hour)} {
				got := make([]float64, Count)
				h.Invoice(invoice, at, got)
				want := scanned(s, invoice, at)
				for j, v := range want {
					if g := got[j]; g != v && !(math.IsNaN(g) && math.IsNaN(v)) {
						t.Fatalf("trial %d at %s: %s = %v, the scan gives %v", trial, at.Format(time.RFC3339Nano), Names[j], g, v)
					}
				}
			}
		}
	}
}

// scanned computes the dispute, promise and touch features by a pass over
// the records (the definition), keyed by feature index.
func scanned(s Snapshot, invoice ledger.Invoice, t time.Time) map[int]float64 {
	nan := math.NaN()
	out := map[int]float64{Disputed: 0, DisputeCount: 0, PromisesKept: 0, PromisesBroken: 0,
		DaysSinceEmailResponse: nan, DaysSinceSMSResponse: nan, DaysSinceVoiceResponse: nan, DaysSinceContact: nan}
	for _, d := range s.Disputes {
		if d.OpenedAt.Before(t) {
			out[DisputeCount]++
		}
		if d.Invoice == invoice.ID && !d.OpenedAt.After(t) && (d.ResolvedAt.IsZero() || !d.ResolvedAt.Before(t)) {
			out[Disputed] = 1
		}
	}
	for _, p := range s.Promises {
		if p.Due.Before(t) && !p.MadeAt.After(t) {
			switch p.Status {
			case ledger.PromiseKept:
				out[PromisesKept]++
			case ledger.PromiseBroken:
				out[PromisesBroken]++
			}
		}
	}
	latest := map[int]time.Time{}
	for _, tc := range s.Touches {
		if !tc.At.Before(t) {
			continue
		}
		slot := DaysSinceContact
		if tc.Response {
			switch tc.Channel {
			case "email":
				slot = DaysSinceEmailResponse
			case "sms":
				slot = DaysSinceSMSResponse
			case "voice", "ai_voice":
				slot = DaysSinceVoiceResponse
			default:
				continue
			}
		}
		if tc.At.After(latest[slot]) {
			latest[slot] = tc.At
		}
	}
	for slot, at := range latest {
		out[slot] = float64(ledger.DaysBetween(at, t))
	}
	return out
}

// Batch must give exactly Invoice's vectors, row for row, whatever the
// order of the invoices: customers interleaved, a customer the history
// does not know, an invoice it has never seen, and more invoices than one
// block so the work is split across goroutines.
func TestBatchEqualsInvoice(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	var s Snapshot
	for c := range 100 {
		cust := fmt.Sprint("C", c)
		s.Customers = append(s.Customers, ledger.Customer{Tenant: "t", ID: cust, Billing: ledger.BillingMedium([]string{"", "electronic", "paper"}[c%3])})
		for i := range 1 + r.IntN(60) {
			issued := d(1, 1).AddDate(0, 0, r.IntN(300))
			var closed time.Time
			if r.IntN(3) > 0 {
				closed = issued.AddDate(0, 0, 5+r.IntN(80))
			}
			id := fmt.Sprintf("%s-I%d", cust, i)
			s.Invoices = append(s.Invoices, inv(id, cust, issued, issued.AddDate(0, 0, 30), closed, 1000+r.Int64N(900000)))
			if r.IntN(10) == 0 {
				s.Disputes = append(s.Disputes, ledger.Dispute{Tenant: "t", ID: "D" + id, Customer: cust, Invoice: id, OpenedAt: issued.AddDate(0, 0, r.IntN(40))})
			}
		}
		for range r.IntN(5) {
			s.Touches = append(s.Touches, Touch{Customer: cust, Channel: "email", At: d(1, 1).AddDate(0, 0, r.IntN(300)), Response: r.IntN(2) == 0})
		}
	}
	h, err := NewHistory(s)
	if err != nil {
		t.Fatal(err)
	}
	scored := append([]ledger.Invoice(nil), s.Invoices...)
	scored = append(scored,
		inv("NEW-1", "C3", d(10, 1), d(10, 31), time.Time{}, 5000),      // unseen invoice of a known customer
		inv("NEW-2", "STRANGER", d(9, 1), d(10, 1), time.Time{}, 7000),  // unknown customer
		inv("NEW-3", "STRANGER2", d(9, 5), d(10, 5), time.Time{}, 9000)) // another one
	r.Shuffle(len(scored), func(i, j int) { scored[i], scored[j] = scored[j], scored[i] })
	if len(scored) <= 2*minBlock {
		t.Fatalf("only %d invoices: too few to split across blocks", len(scored))
	}
	for _, at := range []time.Time{d(3, 1), d(7, 15).Add(time.Hour), d(12, 31)} {
		got := make([]float64, len(scored)*Count)
		order := h.Batch(scored, at, got)
		if len(order) != len(scored) {
			t.Fatalf("order has %d rows for %d invoices", len(order), len(scored))
		}
		seen := make([]bool, len(scored))
		done := map[string]bool{} // customers whose rows have ended
		want := make([]float64, Count)
		for k, i := range order {
			if seen[i] {
				t.Fatalf("invoice %d appears twice in the order", i)
			}
			seen[i] = true
			invoice := scored[i]
			// Known customers only: unknown ones come last, together.
			if done[invoice.Customer] && !strings.HasPrefix(invoice.Customer, "STRANGER") {
				t.Fatalf("customer %s's rows are not adjacent (row %d)", invoice.Customer, k)
			}
			if k > 0 && scored[order[k-1]].Customer != invoice.Customer {
				done[scored[order[k-1]].Customer] = true
			}
			h.Invoice(invoice, at, want)
			row := got[k*Count : (k+1)*Count]
			if diff := cmp.Diff(want, row, cmpopts.EquateNaNs()); diff != "" {
				t.Fatalf("at %s, invoice %s (-Invoice +Batch):\n%s", at.Format(time.DateOnly), invoice.ID, diff)
			}
		}
	}
}
