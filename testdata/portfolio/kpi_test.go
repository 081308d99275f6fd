package portfolio

import (
	"strings"
	"testing"
	"time"

	"github.com/recoup-dev/recoup/shared/kpi"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

// The good rows load into the ledger and the baseline KPIs tie out to the
// export: open AR per currency is the sum of open_amount, net AR is that less
// the unapplied payments. The loader is a minimal stand-in for ingest, only
// for this cross-check.
func TestKPIBaselineTiesOut(t *testing.T) {
	cfg := small()
	dir, m := generate(t, cfg)
	p := load(t, dir, m)
	date := func(s string) time.Time {
		if s == "" {
			return time.Time{}
		}
		d, err := time.Parse("2006-01-02", s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	amount := func(s, code string) money.Amount {
		a, err := money.Parse(s, money.MustCurrency(code))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	open := map[string]int64{}
	unapplied := map[string]int64{}
	var invoices []ledger.Invoice
	for _, r := range p.good(fileInvoices) {
		get := func(f string) string { return p.get(fileInvoices, r, f) }
		inv := ledger.Invoice{
			Tenant: ledger.TenantID(m.Tenant), ID: get("invoice_id"), Customer: get("customer_id"),
			InvoiceDate: date(get("invoice_date")), DueDate: date(get("due_date")),
			Amount: amount(get("amount"), get("currency")), Open: amount(get("open_amount"), get("currency")),
			Disputed: get("disputed") == "true", ClosedDate: date(get("closed_date")),
		}
		invoices = append(invoices, inv)
		open[get("currency")] += inv.Open.Minor
	}
	var payments []ledger.Payment
	for _, r := range p.good(filePayments) {
		get := func(f string) string { return p.get(filePayments, r, f) }
		pay := ledger.Payment{
			Tenant: ledger.TenantID(m.Tenant), ID: get("payment_id"), Customer: get("customer_id"),
			Invoice: get("invoice_id"), Amount: amount(get("amount"), get("currency")),
			ReceivedAt: date(get("received_date")), Reference: get("reference"),
		}
		payments = append(payments, pay)
		if pay.Invoice == "" {
			unapplied[get("currency")] += pay.Amount.Minor
		}
	}
	reports, err := kpi.Compute(invoices, payments, kpi.Options{AsOf: m.AsOf})
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) != 3 {
		t.Errorf("%d currencies, want CAD, EUR and USD", len(reports))
	}
	for _, r := range reports {
		code := r.Currency.Code()
		if r.OpenAR.Minor != open[code] || r.NetAR.Minor != open[code]-unapplied[code] {
			t.Errorf("%s: open AR %s, net %s; export open %d, unapplied %d", code, r.OpenAR, r.NetAR, open[code], unapplied[code])
		}
		if r.PaidBasis != kpi.PaidTrailingYear || r.DSOCountback <= 0 || r.CEI <= 0 || r.CEI > 100 {
			t.Errorf("%s: implausible KPIs %+v", code, r)
		}
	}
	var b strings.Builder
	if err := kpi.WriteTable(&b, reports); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", b.String())
}
