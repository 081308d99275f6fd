package dynamo

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/infra/local/localtest"
	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

// integrationLedger returns a ledger store over fresh tables in the local
// stack's DynamoDB Local, or skips when the stack is not configured. Under CI
// a missing stack is a failure, not a skip.
func integrationLedger(t *testing.T) (*Ledger, string) {
	t.Helper()
	client, prefix := localtest.DynamoDB(t)
	ctx := context.Background()
	if _, err := EnsureTables(ctx, client, prefix); err != nil {
		t.Fatal(err)
	}
	l, err := NewLedger(client, prefix)
	if err != nil {
		t.Fatal(err)
	}
	return l, prefix
}

func TestIntegrationEnsureTablesIsIdempotent(t *testing.T) {
	l, prefix := integrationLedger(t)
	res, err := EnsureTables(context.Background(), l.api.(TableAPI), prefix)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Created {
			t.Errorf("second EnsureTables created %s again", r.Table)
		}
	}
	if len(res) != len(Schema()) {
		t.Errorf("EnsureTables reported %d tables, want %d", len(res), len(Schema()))
	}
}

func TestIntegrationUpsertCountsAndRoundTrip(t *testing.T) {
	l, _ := integrationLedger(t)
	ctx := context.Background()
	usd := money.MustCurrency("USD")
	tenant := ledger.TenantID("acme")
	cust := ledger.Customer{Tenant: tenant, ID: "C1", Name: "Acme Corp", Kind: ledger.Business, Currency: usd}
	inv := ledger.Invoice{Tenant: tenant, ID: "INV-1", Customer: "C1", InvoiceDate: ledger.Date(2026, 1, 2),
		DueDate: ledger.Date(2026, 2, 1), Amount: money.New(12000, usd), Open: money.New(2000, usd),
		Source: ledger.Source{System: "canonical", File: "invoices.csv", Line: 2}}
	pay := ledger.Payment{Tenant: tenant, ID: "P1", Customer: "C1", Invoice: "INV-1", Amount: money.New(10000, usd),
		ReceivedAt: time.Date(2026, 2, 3, 0, 0, 0, 0, time.UTC)}
	other := ledger.Invoice{Tenant: "other", ID: "INV-1", Customer: "C1", InvoiceDate: ledger.Date(2026, 1, 2),
		DueDate: ledger.Date(2026, 2, 1), Amount: money.New(1, usd), Open: money.New(1, usd)}

	tests := []struct {
		name string
		recs []ledger.Record
		want ledger.UpsertCounts
	}{
		{"first write inserts", []ledger.Record{cust, inv, pay, other}, ledger.UpsertCounts{Inserted: 4}},
		{"same records change nothing", []ledger.Record{cust, inv, pay, other}, ledger.UpsertCounts{Unchanged: 4}},
		{"a changed balance updates one", []ledger.Record{cust, withOpen(inv, 0)}, ledger.UpsertCounts{Updated: 1, Unchanged: 1}},
		{"an implied customer never overwrites a stored one", []ledger.Record{implied("C1")}, ledger.UpsertCounts{Unchanged: 1}},
		{"an implied customer is stored when new", []ledger.Record{implied("C2")}, ledger.UpsertCounts{Inserted: 1}},
	}
	for _, tt := range tests {
		got, err := l.Upsert(ctx, tt.recs)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: counts (-want +got):\n%s", tt.name, diff)
		}
	}

	invs, err := l.Invoices(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]ledger.Invoice{withOpen(inv, 0)}, invs, cmp.AllowUnexported(money.Currency{})); diff != "" {
		t.Errorf("Invoices of acme (-want +got):\n%s", diff)
	}
	pays, err := l.Payments(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]ledger.Payment{pay}, pays, cmp.AllowUnexported(money.Currency{})); diff != "" {
		t.Errorf("Payments of acme (-want +got):\n%s", diff)
	}

	custs, err := l.Customers(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(custs, func(i, j int) bool { return custs[i].ID < custs[j].ID })
	if diff := cmp.Diff([]ledger.Customer{cust, implied("C2")}, custs, cmp.AllowUnexported(money.Currency{})); diff != "" {
		t.Errorf("Customers of acme (-want +got):\n%s", diff)
	}

	// Contact points and disputes round-trip too.
	phone := ledger.ContactPoint{Tenant: tenant, Customer: "C1", ID: "C1-P1", Kind: ledger.ContactPhone,
		Phone: &ledger.Phone{E164: "+16175550142", Line: ledger.LineMobile}, Consent: ledger.ConsentGranted,
		ConsentAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	postal := ledger.ContactPoint{Tenant: tenant, Customer: "C1", ID: "C1-A1", Kind: ledger.ContactPostal,
		Postal: &ledger.PostalAddress{Line1: "1 Main St", City: "Boston", State: "MA", ZIP: "02108", Country: "US"}, Consent: ledger.ConsentUnknown}
	dsp := ledger.Dispute{Tenant: tenant, ID: "DSP-INV-1", Customer: "C1", Invoice: "INV-1", OpenedAt: ledger.Date(2026, 2, 2), Status: ledger.DisputeOpen}
	ptp := ledger.PromiseToPay{Tenant: tenant, ID: "PTP-1", Customer: "C1", Invoices: []string{"INV-1"}, Amount: money.New(2000, usd),
		Due: ledger.Date(2026, 2, 20), MadeAt: time.Date(2026, 2, 10, 15, 4, 5, 0, time.UTC), Status: ledger.PromiseOpen}
	if _, err := l.Upsert(ctx, []ledger.Record{phone, postal, dsp, ptp}); err != nil {
		t.Fatal(err)
	}
	cps, err := l.ContactPoints(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(cps, func(i, j int) bool { return cps[i].ID < cps[j].ID })
	if diff := cmp.Diff([]ledger.ContactPoint{postal, phone}, cps); diff != "" {
		t.Errorf("ContactPoints (-want +got):\n%s", diff)
	}
	dsps, err := l.Disputes(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]ledger.Dispute{dsp}, dsps); diff != "" {
		t.Errorf("Disputes (-want +got):\n%s", diff)
	}
	ptps, err := l.Promises(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]ledger.PromiseToPay{ptp}, ptps, cmp.AllowUnexported(money.Currency{})); diff != "" {
		t.Errorf("Promises (-want +got):\n%s", diff)
	}

	// One customer's account in one query; another tenant's C1 and
	// another customer's records stay out.
	acct, ok, err := l.Account(ctx, tenant, "C1")
	if err != nil || !ok {
		t.Fatalf("Account C1: found %v, %v", ok, err)
	}
	want := ledger.Account{Customer: cust, Contacts: []ledger.ContactPoint{postal, phone}, Invoices: []ledger.Invoice{withOpen(inv, 0)},
		Payments: []ledger.Payment{pay}, Promises: []ledger.PromiseToPay{ptp}, Disputes: []ledger.Dispute{dsp}}
	if diff := cmp.Diff(want, acct, cmp.AllowUnexported(money.Currency{})); diff != "" {
		t.Errorf("Account C1 (-want +got):\n%s", diff)
	}
	if _, ok, err := l.Account(ctx, tenant, "C9"); ok || err != nil {
		t.Errorf("Account of a customer with no records: found %v, %v", ok, err)
	}

	found, err := l.ExistingCustomers(ctx, tenant, []string{"C1", "C3", "C1", "bad#id"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]bool{"C1": true}, found); diff != "" {
		t.Errorf("ExistingCustomers (-want +got):\n%s", diff)
	}
	if found, _ := l.ExistingCustomers(ctx, "other", []string{"C1"}); len(found) != 0 {
		t.Errorf("tenant other sees acme's customer C1: %v", found)
	}
}

func implied(id string) ledger.Customer {
	return ledger.Customer{Tenant: "acme", ID: id, Name: id, Kind: ledger.Business, Implied: true,
		Source: ledger.Source{System: "oracle-ebs", File: "aps.csv", Line: 2}}
}

func withOpen(inv ledger.Invoice, open int64) ledger.Invoice {
	inv.Open = money.New(open, inv.Amount.Currency)
	return inv
}

func TestIntegrationUpsertManyAcrossShards(t *testing.T) {
	l, _ := integrationLedger(t)
	ctx := context.Background()
	usd := money.MustCurrency("USD")
	var recs []ledger.Record
	var want []string
	for i := range 730 { // several BatchGet chunks and every GSI shard
		id := fmt.Sprintf("INV-%04d", i)
		want = append(want, id)
		recs = append(recs, ledger.Invoice{Tenant: "bulk", ID: id, Customer: fmt.Sprintf("C%d", i%37),
			InvoiceDate: ledger.Date(2026, 1, 1), DueDate: ledger.Date(2026, 1, 31),
			Amount: money.New(int64(100+i), usd), Open: money.New(int64(100+i), usd)})
	}
	got, err := l.Upsert(ctx, recs)
	if err != nil {
		t.Fatal(err)
	}
	if got.Inserted != len(recs) {
		t.Errorf("inserted %d, want %d", got.Inserted, len(recs))
	}
	invs, err := l.Invoices(ctx, "bulk")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, inv := range invs {
		ids = append(ids, inv.ID)
	}
	sort.Strings(ids)
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("listed invoice ids (-want +got):\n%s", diff)
	}
}

func TestIntegrationCheckpointRoundTrip(t *testing.T) {
	l, _ := integrationLedger(t)
	ctx := context.Background()
	if _, found, err := l.LoadCheckpoint(ctx, "acme", "imp1"); err != nil || found {
		t.Fatalf("LoadCheckpoint before any save = found %v, err %v", found, err)
	}
	cp := ledger.ImportCheckpoint{ImportID: "imp1", Done: 500, Total: 1200,
		Counts: ledger.UpsertCounts{Inserted: 450, Unchanged: 50}, UpdatedAt: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}
	if err := l.SaveCheckpoint(ctx, "acme", cp); err != nil {
		t.Fatal(err)
	}
	got, found, err := l.LoadCheckpoint(ctx, "acme", "imp1")
	if err != nil || !found {
		t.Fatalf("LoadCheckpoint = found %v, err %v", found, err)
	}
	if diff := cmp.Diff(cp, got); diff != "" {
		t.Errorf("checkpoint (-want +got):\n%s", diff)
	}
}

func TestIntegrationInvoiceOwners(t *testing.T) {
	l, _ := integrationLedger(t)
	ctx := context.Background()
	usd, eur := money.MustCurrency("USD"), money.MustCurrency("EUR")
	var recs []ledger.Record
	for i := range 300 {
		cur := usd
		if i%3 == 0 {
			cur = eur
		}
		recs = append(recs, ledger.Invoice{Tenant: "own", ID: fmt.Sprintf("INV-%04d", i), Customer: fmt.Sprintf("C%d", i%7),
			InvoiceDate: ledger.Date(2026, 1, 1), DueDate: ledger.Date(2026, 1, 31),
			Amount: money.New(100, cur), Open: money.New(100, cur)})
	}
	recs = append(recs, ledger.Invoice{Tenant: "other", ID: "INV-9999", Customer: "X", InvoiceDate: ledger.Date(2026, 1, 1),
		DueDate: ledger.Date(2026, 1, 31), Amount: money.New(1, usd), Open: money.New(1, usd)})
	if _, err := l.Upsert(ctx, recs); err != nil {
		t.Fatal(err)
	}
	got, err := l.InvoiceOwners(ctx, "own", []string{"INV-0000", "INV-0001", "INV-0299", "INV-0500", "INV-9999", "INV-0001"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"INV-0000": "C0/EUR", "INV-0001": "C1/USD", "INV-0299": "C5/USD"}
	gotS := map[string]string{}
	for id, o := range got {
		gotS[id] = o.Customer + "/" + o.Currency.Code()
	}
	if diff := cmp.Diff(want, gotS); diff != "" {
		t.Errorf("InvoiceOwners (-want +got):\n%s", diff)
	}
}

func TestIntegrationEnsureTablesAddsMissingIndexes(t *testing.T) {
	localtest.Require(t)
	// DynamoDB Local keeps a new index CREATING for about 100 s; run beside
	// the package's other tests rather than after them.
	t.Parallel()
	ctx := context.Background()
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client := awsconfig.DynamoDB(cfg)
	prefix := fmt.Sprintf("idx%d-", time.Now().UnixNano())
	// An audit table as an older schema made it: no index.
	old := TableSpec{Name: AuditTable}
	if _, err := client.CreateTable(ctx, old.CreateTableInput(prefix)); err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureTables(ctx, client, prefix); err != nil {
		t.Fatal(err)
	}
	d, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(prefix + AuditTable)})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range d.Table.GlobalSecondaryIndexes {
		names = append(names, aws.ToString(g.IndexName))
	}
	if diff := cmp.Diff([]string{GSI1}, names); diff != "" {
		t.Errorf("audit table indexes after EnsureTables (-want +got):\n%s", diff)
	}
}
