package ingest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

// ibmPath is the public IBM accounts-receivable sample, shared read-only.
const ibmPath = "../../../shared/data/WA_Fn-UseC_-Accounts-Receivable.csv"

func TestIBMAccountsReceivable(t *testing.T) {
	f, err := os.Open(ibmPath)
	if err != nil { // the file ships in ../shared/data; its absence is a failure, not a skip
		t.Fatal(err)
	}
	defer f.Close()
	b, err := Parse(context.Background(), Options{Tenant: "t1", Format: FormatIBMAR, AsOf: asOf},
		[]File{{Name: "ibm.csv", R: f}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkInvariant(t, b)
	if len(b.Rejects) != 0 {
		t.Fatalf("got %d rejects, first: %+v", len(b.Rejects), b.Rejects[0])
	}
	got := map[string]int{"invoices": len(b.Invoices), "customers": len(b.Customers), "payments": len(b.Payments), "disputes": len(b.Disputes)}
	want := map[string]int{"invoices": 2466, "customers": 100, "payments": 2466, "disputes": 561}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("record counts (-want +got):\n%s", d)
	}
	fsx := b.Files[0]
	if fsx.Read != 2466 || fsx.Accepted != 2466 || fsx.Rejected != 0 || len(fsx.UnknownColumns) != 0 {
		t.Errorf("file stats = %+v", fsx)
	}
	// First data row: 391,0379-NEVHP,4/6/2013,0000611365,1/2/2013,2/1/2013,55.94,No,1/15/2013,Paper,13,0
	usd := money.MustCurrency("USD")
	src := ledger.Source{System: "ibm-ar", File: "ibm.csv", Line: 2}
	wantInv := ledger.Invoice{Tenant: "t1", ID: "0000611365", Customer: "0379-NEVHP",
		InvoiceDate: ledger.Date(2013, time.January, 2), DueDate: ledger.Date(2013, time.February, 1),
		Amount: money.New(5594, usd), Open: money.New(0, usd), ClosedDate: ledger.Date(2013, time.January, 15), Source: src}
	if d := cmp.Diff(wantInv, b.Invoices[0], cmpOpts); d != "" {
		t.Errorf("first invoice (-want +got):\n%s", d)
	}
	wantPay := ledger.Payment{Tenant: "t1", ID: "PAY-0000611365", Customer: "0379-NEVHP", Invoice: "0000611365",
		Amount: money.New(5594, usd), ReceivedAt: ledger.Date(2013, time.January, 15), Source: src}
	if d := cmp.Diff(wantPay, b.Payments[0], cmpOpts); d != "" {
		t.Errorf("first payment (-want +got):\n%s", d)
	}
	c := b.Customers[0]
	if c.ID != "0379-NEVHP" || c.Country != "391" || c.Name != "0379-NEVHP" || c.Kind != ledger.Business {
		t.Errorf("first customer = %+v", c)
	}
	for _, d := range b.Disputes {
		if d.Status != ledger.DisputeResolved || d.ResolvedAt.IsZero() {
			t.Fatalf("dispute of a settled invoice not resolved: %+v", d)
		}
	}
}
