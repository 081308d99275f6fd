package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/infra/local/localtest"
	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/imports"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
)

// TestIntegrationIngestBootstrap invokes the real bootstrap (built by `make
// lambdas`) through the local Lambda host's Invoke API and checks what it
// wrote to DynamoDB Local.
func TestIntegrationIngestBootstrap(t *testing.T) {
	localtest.Require(t, "AWS_ENDPOINT_URL_LAMBDA")
	ctx := context.Background()
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tenant := fmt.Sprintf("fn%d", time.Now().UnixNano())
	req := imports.Request{Tenant: tenant, Files: []imports.RequestFile{
		{Name: "customers.csv", Content: "customer_id,name\nC1,Acme Tools\nC2,Birch Bakery\n"},
		{Name: "invoices.csv", Content: "invoice_id,customer_id,invoice_date,due_date,amount,currency\n" +
			"INV-1,C1,2026-09-01,2026-10-01,120.50,USD\n" +
			"INV-2,C2,2026-09-03,2026-08-01,80.00,USD\n" + // due before invoice date
			"INV-3,C9,2026-09-03,2026-10-03,10.00,USD\n" + // unknown customer
			"INV-4,C2,2026-09-05,2026-10-05,99.99,USD\n"},
	}}
	invoke := func() imports.Response {
		var resp imports.Response
		if fnErr := localtest.Invoke(t, "ingest", req, &resp); fnErr != "" {
			t.Fatalf("ingest failed: %s", fnErr)
		}
		return resp
	}

	first := invoke()
	type summary struct {
		Customers, Invoices, Inserted, Updated, Unchanged int
		RejectLines                                       []int
	}
	sum := func(r imports.Response) summary {
		s := summary{Customers: r.Customers, Invoices: r.Invoices, Inserted: r.Inserted, Updated: r.Updated, Unchanged: r.Unchanged}
		for _, rej := range r.Rejects {
			s.RejectLines = append(s.RejectLines, rej.Line)
		}
		return s
	}
	if diff := cmp.Diff(summary{Customers: 2, Invoices: 2, Inserted: 4, RejectLines: []int{3, 4}}, sum(first)); diff != "" {
		t.Errorf("first import (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(summary{Customers: 2, Invoices: 2, Unchanged: 4, RejectLines: []int{3, 4}}, sum(invoke())); diff != "" {
		t.Errorf("second import of the same files (-want +got):\n%s", diff)
	}

	store, err := dynamo.NewLedger(awsconfig.DynamoDB(cfg), awsconfig.TablePrefix())
	if err != nil {
		t.Fatal(err)
	}
	n, err := store.Count(ctx, ledger.TenantID(tenant), ledger.KindInvoice)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("ledger holds %d invoices for %s, want 2", n, tenant)
	}
}
