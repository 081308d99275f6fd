package kpi

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

var (
	usd = money.MustCurrency("USD")
	eur = money.MustCurrency("EUR")
	d   = ledger.Date
)

func inv(id string, cur money.Currency, date, due time.Time, amount, open int64, closed time.Time) ledger.Invoice {
	return ledger.Invoice{
		Tenant: "t1", ID: id, Customer: "C1",
		InvoiceDate: date, DueDate: due,
		Amount: money.New(amount, cur), Open: money.New(open, cur),
		ClosedDate: closed,
	}
}

func pay(id, invoice string, cur money.Currency, amount int64, at time.Time) ledger.Payment {
	return ledger.Payment{Tenant: "t1", ID: id, Customer: "C1", Invoice: invoice, Amount: money.New(amount, cur), ReceivedAt: at}
}

// aging builds the six buckets from counts and amounts (minor units), with
// shares computed from their total.
func aging(cur money.Currency, counts [6]int, amounts [6]int64) []Bucket {
	var total int64
	for _, a := range amounts {
		total += a
	}
	labels := []string{"Current", "1-30", "31-60", "61-90", "91-120", "121+"}
	var out []Bucket
	for i, l := range labels {
		s := 0.0
		if total > 0 {
			s = float64(amounts[i]) / float64(total)
		}
		out = append(out, Bucket{Label: l, Count: counts[i], Amount: money.New(amounts[i], cur), Share: s})
	}
	return out
}

var cmpOpts = cmp.Options{
	cmpopts.EquateApprox(0, 1e-9),
	cmpopts.EquateNaNs(),
	cmp.Comparer(func(a, b money.Currency) bool { return a == b }),
}

// The March ledger of TestCompute. AsOf is 2026-03-31, window 30 days, so the
// CEI window begins at the end of 2026-03-01.
//
//	A USD 1,000.00 inv 01-10 due 02-09, paid in full 02-20 (closed 02-20)
//	B USD   500.00 inv 02-05 due 03-07, 200.00 paid 03-10, Open 300.00
//	C USD   800.00 inv 03-05 due 04-04, paid in full 04-05 (closed 04-05, after AsOf)
//	D USD   250.00 inv 2025-11-15 due 2025-12-15, no payment, Open 250.00
//	E USD   999.00 inv 04-02: after AsOf, ignored
//	F USD   400.00 inv 03-20 due 04-19, paid in full 03-28 (closed 03-28)
//	U USD    50.00 unapplied payment 03-15
//	G EUR   100.00 inv 03-01 due 03-31, Open 100.00
func marchLedger() ([]ledger.Invoice, []ledger.Payment) {
	var none time.Time
	invoices := []ledger.Invoice{
		inv("A", usd, d(2026, 1, 10), d(2026, 2, 9), 100000, 0, d(2026, 2, 20)),
		inv("B", usd, d(2026, 2, 5), d(2026, 3, 7), 50000, 30000, none),
		inv("C", usd, d(2026, 3, 5), d(2026, 4, 4), 80000, 0, d(2026, 4, 5)),
		inv("D", usd, d(2025, 11, 15), d(2025, 12, 15), 25000, 25000, none),
		inv("E", usd, d(2026, 4, 2), d(2026, 5, 2), 99900, 99900, none),
		inv("F", usd, d(2026, 3, 20), d(2026, 4, 19), 40000, 0, d(2026, 3, 28)),
		inv("G", eur, d(2026, 3, 1), d(2026, 3, 31), 10000, 10000, none),
	}
	payments := []ledger.Payment{
		pay("P1", "A", usd, 100000, d(2026, 2, 20)),
		pay("P2", "B", usd, 20000, d(2026, 3, 10)),
		pay("P3", "C", usd, 80000, d(2026, 4, 5)),
		pay("P4", "F", usd, 40000, d(2026, 3, 28)),
		pay("U", "", usd, 5000, d(2026, 3, 15)),
	}
	return invoices, payments
}

func TestCompute(t *testing.T) {
	marchInv, marchPay := marchLedger()
	var none time.Time
	tests := []struct {
		name     string
		invoices []ledger.Invoice
		payments []ledger.Payment
		opts     Options
		want     []Report
	}{
		{
			name:     "march: partial payments, unapplied cash, later export, multi-currency",
			invoices: marchInv, payments: marchPay,
			opts: Options{AsOf: d(2026, 3, 31)},
			want: []Report{
				{
					// EUR sorts before USD.
					// G: Open 100.00, due 03-31 = AsOf, 0 days past due: Current.
					Currency: eur, AsOf: d(2026, 3, 31), Window: 30,
					OpenAR: money.New(10000, eur), OpenInvoices: 1,
					PastDueAR: money.New(0, eur), DisputedAR: money.New(0, eur),
					UnappliedCash: money.New(0, eur), NetAR: money.New(10000, eur),
					// March (31 days) sales 100.00 cover AR 100.00: 100/100*31.
					DSOCountback: 31,
					// Begin (03-01): G dated 03-01 is AR, 100.00. Sales 03-02..03-31: 0.
					// (100 + 0 - 100) / (100 + 0 - 100): denominator 0, n/a.
					CEI:   math.NaN(),
					Aging: aging(eur, [6]int{1, 0, 0, 0, 0, 0}, [6]int64{10000, 0, 0, 0, 0, 0}),
					// Nothing closed.
					AvgDaysToPay: math.NaN(), AvgDaysLate: math.NaN(), SharePaidLate: math.NaN(),
					PaidCount: 0, PaidBasis: PaidNone,
				},
				{
					// Balances at 03-31: A 0 (closed 02-20); B Open 300 + nothing after
					// 03-31 = 300.00, 24 days past due (03-07 -> 03-31); C closed
					// after AsOf: 800 - paid by 03-31 (0) = 800.00, due 04-04, Current;
					// D 250.00, 106 days past due (16 + 31 + 28 + 31); E not yet AR;
					// F 0 (closed 03-28).
					Currency: usd, AsOf: d(2026, 3, 31), Window: 30,
					OpenAR: money.New(135000, usd), OpenInvoices: 3, // 300 + 800 + 250
					PastDueAR: money.New(55000, usd), DisputedAR: money.New(0, usd), // 300 + 250
					UnappliedCash: money.New(5000, usd),
					NetAR:         money.New(130000, usd), // 1,350 - 50
					// Countback from 1,300: March (31 days) sales C 800 + F 400 = 1,200 < 1,300:
					// 31 days, 100 left; February (28 days) sales B 500: 100/500*28 = 5.6.
					DSOCountback: 36.6,
					// Begin (end of 03-01): B = Open 300 + P2 200 (received 03-10, after
					// 03-01) = 500; D 250; A closed; C and F not yet invoiced: 750,
					// unapplied by 03-01: 0. Sales 03-02..03-31: C 800 + F 400 = 1,200.
					// End net 1,300, end current (C) 800.
					// (750 + 1,200 - 1,300) / (750 + 1,200 - 800) * 100 = 650 / 1,150 * 100.
					CEI:   650.0 / 1150.0 * 100,
					Aging: aging(usd, [6]int{1, 1, 0, 0, 1, 0}, [6]int64{80000, 30000, 0, 0, 25000, 0}),
					// Closed by 03-31 within 365 days: A and F (C closes after AsOf).
					// A: 01-10 -> 02-20 = 41 days, 11 late (02-09 -> 02-20).
					// F: 03-20 -> 03-28 = 8 days, not late.
					AvgDaysToPay: (41 + 8) / 2.0, AvgDaysLate: (11 + 0) / 2.0, SharePaidLate: 0.5,
					PaidCount: 2, PaidBasis: PaidTrailingYear,
				},
			},
		},
		{
			name: "june: partial first month, open-items export, all-closed fallback",
			// H closed more than a year before AsOf; I, J, K as an open-items
			// export (K was reduced from 1,000 to 400 by something not itemized).
			invoices: []ledger.Invoice{
				inv("H", usd, d(2024, 1, 1), d(2024, 1, 31), 10000, 0, d(2024, 3, 1)),
				inv("I", usd, d(2026, 6, 1), d(2026, 7, 1), 30000, 30000, none),
				inv("J", usd, d(2026, 5, 15), d(2026, 5, 30), 60000, 60000, none),
				inv("K", usd, d(2026, 4, 20), d(2026, 5, 20), 100000, 40000, none),
			},
			payments: []ledger.Payment{pay("P", "H", usd, 10000, d(2024, 3, 1))},
			opts:     Options{AsOf: d(2026, 6, 10)},
			want: []Report{{
				// Balances: I 300 (Current, due 07-01), J 600 (11 days past due),
				// K Open 400 (21 days past due): AR = sum of Open = 1,300.
				Currency: usd, AsOf: d(2026, 6, 10), Window: 30,
				OpenAR: money.New(130000, usd), OpenInvoices: 3,
				PastDueAR: money.New(100000, usd), DisputedAR: money.New(0, usd),
				UnappliedCash: money.New(0, usd), NetAR: money.New(130000, usd),
				// June 1-10 (10 days) sales 300: 10 days, 1,000 left. May (31) sales
				// 600: 31 days, 400 left. April (30) sales 1,000: 400/1,000*30 = 12.
				DSOCountback: 10 + 31 + 12,
				// Begin 05-11: K 400 (its reduction dated at its invoice date).
				// Sales 05-12..06-10: J 600 + I 300 = 900. End 1,300, current 300.
				// (400 + 900 - 1,300) / (400 + 900 - 300) * 100 = 0 / 1,000 = 0.
				CEI:   0,
				Aging: aging(usd, [6]int{1, 2, 0, 0, 0, 0}, [6]int64{30000, 100000, 0, 0, 0, 0}),
				// Only H closed, on 2024-03-01: outside the trailing year, so all
				// closed. 2024-01-01 -> 03-01 = 31 + 29 = 60 days; due 01-31 -> 03-01
				// = 30 days late.
				AvgDaysToPay: 60, AvgDaysLate: 30, SharePaidLate: 1,
				PaidCount: 1, PaidBasis: PaidAllClosed,
			}},
		},
		{
			name: "as of before the export rolls payments back",
			// The same invoice B as in March, seen on 03-05: P2 (03-10) is added
			// back, so the balance is the full 500.00, not the exported 300.00.
			invoices: marchInv[1:2],
			payments: marchPay[1:2],
			opts:     Options{AsOf: d(2026, 3, 5), Window: 10},
			want: []Report{{
				Currency: usd, AsOf: d(2026, 3, 5), Window: 10,
				OpenAR: money.New(50000, usd), OpenInvoices: 1,
				PastDueAR: money.New(0, usd), DisputedAR: money.New(0, usd),
				UnappliedCash: money.New(0, usd), NetAR: money.New(50000, usd),
				// March 1-5 (5 days) no sales: 5 days. February (28) sales 500: 28.
				DSOCountback: 33,
				// Begin 02-23: 500; no sales; end 500, current 500 (due 03-07):
				// (500 - 500) / (500 - 500): n/a.
				CEI:   math.NaN(),
				Aging: aging(usd, [6]int{1, 0, 0, 0, 0, 0}, [6]int64{50000, 0, 0, 0, 0, 0}),
				// Nothing closed.
				AvgDaysToPay: math.NaN(), AvgDaysLate: math.NaN(), SharePaidLate: math.NaN(),
				PaidBasis: PaidNone,
			}},
		},
		{
			name: "disputed, 121+ bucket, payment applied to an unknown invoice",
			invoices: []ledger.Invoice{
				func() ledger.Invoice {
					i := inv("X", usd, d(2026, 1, 1), d(2026, 1, 31), 70000, 70000, none)
					i.Disputed = true
					return i
				}(),
			},
			// A payment naming an invoice that is not in the data is unapplied
			// cash; so is one received after AsOf, but not yet.
			payments: []ledger.Payment{
				pay("Q", "NOPE", usd, 10000, d(2026, 5, 1)),
				pay("R", "", usd, 99, d(2026, 7, 1)),
			},
			opts: Options{AsOf: d(2026, 6, 1), Window: 60},
			want: []Report{{
				// X: 01-31 -> 06-01 = 0+28+31+30+31+1 = 121 days past due: 121+.
				Currency: usd, AsOf: d(2026, 6, 1), Window: 60,
				OpenAR: money.New(70000, usd), OpenInvoices: 1,
				PastDueAR: money.New(70000, usd), DisputedAR: money.New(70000, usd),
				UnappliedCash: money.New(10000, usd), NetAR: money.New(60000, usd),
				// June 1 (1 day) 0; May (31) 0; April (30) 0; March (31) 0;
				// February (28) 0; January (31) sales 700: 600/700*31.
				DSOCountback: 1 + 31 + 30 + 31 + 28 + 600.0/700.0*31,
				// Begin 04-02: X 700 - unapplied 0 = 700. No sales. End net 600,
				// end current 0: (700 - 600) / 700 * 100.
				CEI:          100.0 / 700.0 * 100,
				Aging:        aging(usd, [6]int{0, 0, 0, 0, 0, 1}, [6]int64{0, 0, 0, 0, 0, 70000}),
				AvgDaysToPay: math.NaN(), AvgDaysLate: math.NaN(), SharePaidLate: math.NaN(),
				PaidBasis: PaidNone,
			}},
		},
		{
			name: "only invoices after AsOf: no report",
			invoices: []ledger.Invoice{
				inv("Z", eur, d(2027, 1, 1), d(2027, 2, 1), 100, 100, none),
			},
			opts: Options{AsOf: d(2026, 12, 31)},
			want: []Report{},
		},
		{
			name: "empty ledger",
			opts: Options{AsOf: d(2026, 12, 31)},
			want: []Report{},
		},
		{
			name: "empty ledger without AsOf",
			want: []Report{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Compute(tt.invoices, tt.payments, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmpOpts); diff != "" {
				t.Errorf("Compute() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// With AsOf unset the report describes the latest date in the data: P3 on
// 2026-04-05 in the March ledger. By then C is paid and E (04-02) is AR.
func TestComputeDefaultAsOf(t *testing.T) {
	invoices, payments := marchLedger()
	got, err := Compute(invoices, payments, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d reports, want 2", len(got))
	}
	usdReport := got[1]
	if !usdReport.AsOf.Equal(d(2026, 4, 5)) {
		t.Errorf("AsOf = %v, want 2026-04-05", usdReport.AsOf)
	}
	// B 300 + D 250 + E 999 = 1,549.00.
	if usdReport.OpenAR.Minor != 154900 {
		t.Errorf("OpenAR = %s, want 1549.00 USD", usdReport.OpenAR)
	}
}

// Gross AR equals the aging total and the sum of the exported Open of open
// invoices when AsOf is on or after the export date.
func TestOpenARTiesToExport(t *testing.T) {
	invoices, payments := marchLedger()
	got, err := Compute(invoices, payments, Options{AsOf: d(2026, 4, 30)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range got {
		var open, aged int64
		for _, i := range invoices {
			if i.Amount.Currency == r.Currency && !i.InvoiceDate.After(r.AsOf) {
				open += i.Open.Minor
			}
		}
		for _, b := range r.Aging {
			aged += b.Amount.Minor
		}
		if r.OpenAR.Minor != open || aged != open {
			t.Errorf("%s: OpenAR %d, aging %d, sum of Open %d", r.Currency, r.OpenAR.Minor, aged, open)
		}
	}
}

func TestComputeErrors(t *testing.T) {
	var none time.Time
	good := inv("A", usd, d(2026, 1, 1), d(2026, 2, 1), 100, 100, none)
	tests := []struct {
		name     string
		invoices []ledger.Invoice
		payments []ledger.Payment
		opts     Options
	}{
		{"negative window", []ledger.Invoice{good}, nil, Options{Window: -1}},
		{"duplicate invoice", []ledger.Invoice{good, good}, nil, Options{}},
		{"payment currency differs from its invoice", []ledger.Invoice{good},
			[]ledger.Payment{pay("P", "A", eur, 100, d(2026, 1, 5))}, Options{}},
		{"invoice without currency", []ledger.Invoice{{ID: "A", Amount: money.Amount{Minor: 5}}}, nil, Options{}},
		{"zero invoice amount", []ledger.Invoice{inv("A", usd, d(2026, 1, 1), d(2026, 2, 1), 0, 0, none)}, nil, Options{}},
		{"open above amount", []ledger.Invoice{inv("A", usd, d(2026, 1, 1), d(2026, 2, 1), 100, 101, none)}, nil, Options{}},
		{"negative payment", nil, []ledger.Payment{pay("P", "", usd, -1, d(2026, 1, 5))}, Options{}},
		{"amounts too large to sum", []ledger.Invoice{
			inv("A", usd, d(2026, 1, 1), d(2026, 2, 1), math.MaxInt64/2, 0, none),
			inv("B", usd, d(2026, 1, 1), d(2026, 2, 1), math.MaxInt64/2, 0, none),
		}, nil, Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Compute(tt.invoices, tt.payments, tt.opts); !errors.Is(err, ErrInvalid) {
				t.Errorf("Compute() error = %v, want ErrInvalid", err)
			}
		})
	}
}

// KPIs are one tenant's numbers: records of two tenants are refused, not summed.
func TestTenantsAreNeverMixed(t *testing.T) {
	var none time.Time
	a := inv("INV-1", usd, d(2026, 1, 1), d(2026, 2, 1), 10000, 10000, none)
	b := a
	b.Tenant = "t2"
	p := pay("P", "INV-1", usd, 4000, d(2026, 1, 10))
	p.Tenant = "t2"
	tests := []struct {
		name     string
		invoices []ledger.Invoice
		payments []ledger.Payment
	}{
		{"invoices of two tenants", []ledger.Invoice{a, b}, nil},
		{"a payment of another tenant", []ledger.Invoice{a}, []ledger.Payment{p}},
	}
	for _, tt := range tests {
		if _, err := Compute(tt.invoices, tt.payments, Options{AsOf: d(2026, 1, 31)}); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: error = %v, want ErrInvalid", tt.name, err)
		}
	}
}

func TestGroupDigits(t *testing.T) {
	tests := map[string]string{
		"0.00":          "0.00",
		"999.99":        "999.99",
		"1000.00":       "1,000.00",
		"-1234567.89":   "-1,234,567.89",
		"123456":        "123,456",
		"1234567":       "1,234,567",
		"-12":           "-12",
		"12345678.9":    "12,345,678.9",
		"100000000.001": "100,000,000.001",
	}
	for in, want := range tests {
		if got := groupDigits(in); got != want {
			t.Errorf("groupDigits(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWriteTable(t *testing.T) {
	invoices, payments := marchLedger()
	reports, err := Compute(invoices, payments, Options{AsOf: d(2026, 3, 31)})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, reports); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"EUR AR as of 2026-03-31",
		"USD AR as of 2026-03-31",
		"1,350.00", // open AR
		"1,300.00", // net AR
		"36.6",     // DSO
		"56.5%",    // CEI 650/1150
		"n/a",      // EUR CEI and payment behaviour
		"open invoices: 3",
		"trailing 365 days",
		"91-120",
		"59.3%", // Current share 800/1350
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	// Every aging row of a table has the same width: columns line up.
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "Aging") {
			w := len(l)
			for _, row := range lines[i+1 : i+8] {
				if len(row) != w {
					t.Errorf("aging row %q is %d wide, header %d", row, len(row), w)
				}
			}
		}
	}
	t.Logf("\n%s", out)
}
