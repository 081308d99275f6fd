package main

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

func TestERPView(t *testing.T) {
	usd := money.MustCurrency("USD")
	day := func(d int) time.Time { return time.Date(2026, 11, d, 20, 0, 0, 0, time.UTC) }
	inv := func(id string, amount, open int64) ledger.Invoice {
		return ledger.Invoice{Tenant: "demo", ID: id, Customer: "C1", Amount: money.New(amount, usd), Open: money.New(open, usd)}
	}
	pay := func(id, invoice string, minor int64, d int, system string) ledger.Payment {
		return ledger.Payment{Tenant: "demo", ID: id, Customer: "C1", Invoice: invoice, Amount: money.New(minor, usd), ReceivedAt: day(d),
			Source: ledger.Source{System: system}}
	}
	invoices := []ledger.Invoice{inv("I1", 10000, 10000), inv("I2", 5000, 3000), inv("I3", 7000, 7000)}
	payments := []ledger.Payment{
		pay("P1", "I1", 4000, 3, demoSource), // part paid
		pay("P2", "I2", 3000, 4, demoSource), // paid off: closed that day
		pay("P3", "I2", 500, 5, demoSource),  // after closing: ignored
		pay("P4", "I3", 7000, 2, "erp"),      // already in the export's open balance
		pay("P5", "", 900, 2, demoSource),    // unapplied: no invoice changes
	}
	got := erpView(invoices, payments)
	want := []ledger.Invoice{inv("I1", 10000, 6000), inv("I2", 5000, 0), inv("I3", 7000, 7000)}
	want[1].ClosedDate = day(4)
	if diff := cmp.Diff(want, got, cmpopts.EquateComparable(money.Currency{})); diff != "" {
		t.Errorf("erpView (-want +got):\n%s", diff)
	}
	if invoices[0].Open.Minor != 10000 {
		t.Error("erpView changed its input")
	}
}
