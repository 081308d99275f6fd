package imports

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/infra/local/localtest"
	"github.com/recoup-dev/recoup/shared/ingest"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
	"github.com/recoup-dev/recoup/testdata/portfolio"
)

const ibmFile = "../../../shared/data/WA_Fn-UseC_-Accounts-Receivable.csv"

// ledgerStore returns the real DynamoDB Local ledger over fresh tables.
func ledgerStore(t *testing.T) *dynamo.Ledger {
	t.Helper()
	client, prefix := localtest.DynamoDB(t)
	ctx := context.Background()
	if _, err := dynamo.EnsureTables(ctx, client, prefix); err != nil {
		t.Fatal(err)
	}
	l, err := dynamo.NewLedger(client, prefix)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func usdOptions(tenant string, format ingest.Format) ingest.Options {
	return ingest.Options{Tenant: ledger.TenantID(tenant), Format: format, DefaultCurrency: money.MustCurrency("USD"), DefaultRegion: "US"}
}

func TestIntegrationIBMFileImportsOnceAndOnlyOnce(t *testing.T) {
	store := ledgerStore(t)
	data, err := os.ReadFile(ibmFile)
	if err != nil {
		t.Fatalf("the IBM file comes with ../shared/data: %v", err)
	}
	ctx := context.Background()
	src := []Source{{Name: filepath.Base(ibmFile), Data: data}}
	opts := usdOptions("ibm", ingest.FormatIBMAR)

	first, err := Run(ctx, store, opts, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(first.Batch.Rejects); got != 0 {
		t.Errorf("IBM file gave %d rejects, first: %+v", got, first.Batch.Rejects[0])
	}
	invoices, err := store.Count(ctx, "ibm", ledger.KindInvoice)
	if err != nil {
		t.Fatal(err)
	}
	customers, err := store.Count(ctx, "ibm", ledger.KindCustomer)
	if err != nil {
		t.Fatal(err)
	}
	if invoices != 2466 || customers != 100 {
		t.Errorf("ledger holds %d invoices for %d customers, want 2,466 for 100", invoices, customers)
	}
	if first.Counts.Inserted != first.Records || first.Counts.Updated+first.Counts.Unchanged != 0 {
		t.Errorf("first import counts %+v, want %d inserted", first.Counts, first.Records)
	}

	again, err := Run(ctx, store, opts, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ledger.UpsertCounts{Unchanged: first.Records}, again.Counts); diff != "" {
		t.Errorf("re-import changed the ledger (-want +got):\n%s", diff)
	}
	if again.ImportID != first.ImportID {
		t.Errorf("same files, different import ids %s and %s", first.ImportID, again.ImportID)
	}
}

// TestIntegrationBadRowsOneRejectEach imports a generated portfolio with
// deliberately bad rows and checks there is exactly one reject per bad row,
// at the line the generator's manifest names, and no other.
func TestIntegrationBadRowsOneRejectEach(t *testing.T) {
	store := ledgerStore(t)
	dir := t.TempDir()
	cfg := portfolio.Default()
	cfg.Customers, cfg.Invoices, cfg.Seed = 400, 1600, 7
	m, err := portfolio.Generate(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.BadRows) == 0 {
		t.Fatal("the generator injected no bad rows")
	}
	var src []Source
	for _, f := range []string{"customers.csv", "contacts.csv", "invoices.csv", "payments.csv"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		src = append(src, Source{Name: f, Data: b})
	}
	res, err := Run(context.Background(), store, usdOptions("gen", ingest.FormatCanonical), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	type at struct {
		File  string
		Line  int
		Field string
	}
	var want, got []at
	for _, b := range m.BadRows {
		want = append(want, at{b.File, b.Line, b.Field})
	}
	for _, r := range res.Batch.Rejects {
		got = append(got, at{r.File, r.Line, r.Field})
	}
	less := func(a, b at) bool { return a.File < b.File || a.File == b.File && a.Line < b.Line }
	// Each injected defect must be rejected at its row, on its field.
	sort.Slice(want, func(i, j int) bool { return less(want[i], want[j]) })
	sort.Slice(got, func(i, j int) bool { return less(got[i], got[j]) })
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rejects vs injected bad rows (-want +got):\n%s", diff)
	}
	for _, r := range res.Batch.Rejects {
		if r.Field == "" || r.Reason == "" {
			t.Errorf("reject at %s:%d lacks a field or reason: %+v", r.File, r.Line, r)
		}
	}
}

// failingStore is the real store with a fault injected: Upsert fails once
// after a given number of successful calls, as a dropped connection would.
type failingStore struct {
	*dynamo.Ledger
	okCalls int
	failed  bool
}

var errInjected = errors.New("injected: connection reset")

func (s *failingStore) Upsert(ctx context.Context, recs []ledger.Record) (ledger.UpsertCounts, error) {
	if !s.failed && s.okCalls == 0 {
		s.failed = true
		return ledger.UpsertCounts{}, errInjected
	}
	s.okCalls--
	return s.Ledger.Upsert(ctx, recs)
}

func TestIntegrationFailedImportResumesFromCheckpoint(t *testing.T) {
	l := ledgerStore(t)
	data, err := os.ReadFile(ibmFile)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	src := []Source{{Name: "ibm.csv", Data: data}}
	opts := usdOptions("resume", ingest.FormatIBMAR)

	broken := &failingStore{Ledger: l, okCalls: 2}
	_, err = Run(ctx, broken, opts, src, nil)
	if !errors.Is(err, errInjected) {
		t.Fatalf("first run error = %v, want the injected failure", err)
	}
	res, err := Run(ctx, l, opts, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.ResumedFrom != 2*ChunkSize {
		t.Errorf("resumed from record %d, want %d (two chunks were written)", res.ResumedFrom, 2*ChunkSize)
	}
	if diff := cmp.Diff(ledger.UpsertCounts{Inserted: res.Records}, res.Counts); diff != "" {
		t.Errorf("counts across the failed and resumed runs (-want +got):\n%s", diff)
	}
	n, err := l.Count(ctx, "resume", ledger.KindInvoice)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2466 {
		t.Errorf("after resuming the ledger holds %d invoices, want 2,466", n)
	}
}

func TestIntegrationInvoiceNumberStaysWithItsCustomer(t *testing.T) {
	store := ledgerStore(t)
	ctx := context.Background()
	opts := usdOptions("uniq", ingest.FormatCanonical)
	customers := Source{Name: "customers.csv", Data: []byte("customer_id,name\nC1,Acme Tools\nC2,Birch Bakery\n")}
	first := Source{Name: "invoices.csv", Data: []byte("invoice_id,customer_id,invoice_date,due_date,amount,currency\nINV-1,C1,2026-09-01,2026-10-01,120.50,USD\n")}
	if _, err := Run(ctx, store, opts, []Source{customers, first}, nil); err != nil {
		t.Fatal(err)
	}
	later := Source{Name: "invoices-2.csv", Data: []byte("invoice_id,customer_id,invoice_date,due_date,amount,currency\nINV-1,C2,2026-09-01,2026-10-01,99.00,USD\n")}
	res, err := Run(ctx, store, opts, []Source{later}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Batch.Rejects) != 1 || res.Batch.Rejects[0].Rule != ingest.RuleDuplicate {
		t.Fatalf("rejects = %+v, want one duplicate for INV-1 under C2", res.Batch.Rejects)
	}
	invs, err := store.Invoices(ctx, "uniq")
	if err != nil {
		t.Fatal(err)
	}
	if len(invs) != 1 || invs[0].Customer != "C1" {
		t.Errorf("ledger invoices = %+v, want INV-1 of C1 only", invs)
	}
}
