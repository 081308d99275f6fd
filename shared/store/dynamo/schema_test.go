package dynamo

import (
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

func TestSchemaKeysAreDefined(t *testing.T) {
	for _, spec := range Schema() {
		in := spec.CreateTableInput("p-")
		defined := map[string]bool{}
		for _, a := range in.AttributeDefinitions {
			defined[aws.ToString(a.AttributeName)] = true
		}
		used := map[string]bool{}
		for _, k := range in.KeySchema {
			used[aws.ToString(k.AttributeName)] = true
		}
		for _, g := range in.GlobalSecondaryIndexes {
			for _, k := range g.KeySchema {
				used[aws.ToString(k.AttributeName)] = true
			}
		}
		// DynamoDB rejects definitions of attributes no key uses, and keys without definitions.
		if diff := cmp.Diff(used, defined); diff != "" {
			t.Errorf("table %s: key attributes vs definitions (-used +defined):\n%s", spec.Name, diff)
		}
		if got := aws.ToString(in.TableName); got != "p-"+spec.Name {
			t.Errorf("table name = %q", got)
		}
	}
}

func TestKeysAreTenantScoped(t *testing.T) {
	usd := money.MustCurrency("USD")
	open := ledger.Invoice{Tenant: "acme", ID: "INV-7", Customer: "C1", InvoiceDate: ledger.Date(2026, 1, 1),
		DueDate: ledger.Date(2026, 1, 31), Amount: money.New(500, usd), Open: money.New(500, usd)}
	closed := open
	closed.Open = money.New(0, usd)
	tests := []struct {
		name string
		rec  ledger.Record
		want header
	}{
		{"customer", ledger.Customer{Tenant: "acme", ID: "C1", Name: "Acme"}, header{PK: "T#acme#C#C1", SK: "PROFILE",
			GSI1PK: "T#acme#CUST#" + strconv.Itoa(shard("C1")), GSI1SK: "C1", Kind: "customer", Tenant: "acme", Customer: "C1", ID: "C1"}},
		{"open invoice is on the worklist index", open, header{PK: "T#acme#C#C1", SK: "INV#INV-7",
			GSI1PK: "T#acme#INV#" + strconv.Itoa(shard("INV-7")), GSI1SK: "INV-7",
			GSI2PK: "T#acme#OPEN#" + strconv.Itoa(shard("INV-7")), GSI2SK: "2026-01-31#INV-7",
			Kind: "invoice", Tenant: "acme", Customer: "C1", ID: "INV-7"}},
		{"closed invoice is not", closed, header{PK: "T#acme#C#C1", SK: "INV#INV-7",
			GSI1PK: "T#acme#INV#" + strconv.Itoa(shard("INV-7")), GSI1SK: "INV-7",
			Kind: "invoice", Tenant: "acme", Customer: "C1", ID: "INV-7"}},
	}
	for _, tt := range tests {
		it, err := toItem(tt.rec)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var got header
		switch v := it.(type) {
		case *customerItem:
			got = v.header
		case *invoiceItem:
			got = v.header
		}
		got.Hash = ""
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: keys (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestToItemRefusesUnsafeIDs(t *testing.T) {
	for _, rec := range []ledger.Record{
		ledger.Customer{Tenant: "", ID: "C1"},
		ledger.Customer{Tenant: "a#b", ID: "C1"},
		ledger.Payment{Tenant: "acme", ID: "P#1", Customer: "C1"},
	} {
		if _, err := toItem(rec); err == nil {
			t.Errorf("toItem(%+v) accepted an unsafe id", rec.Ref())
		}
	}
}

func TestHashChangesWithContentOnly(t *testing.T) {
	usd := money.MustCurrency("USD")
	a := ledger.Payment{Tenant: "acme", ID: "P1", Customer: "C1", Amount: money.New(100, usd)}
	b := a
	b.Amount = money.New(101, usd)
	moved := a
	moved.Source = ledger.Source{System: "canonical", File: "payments-2026-11-26.csv", Line: 900}
	ha, hb, ha2 := hashOf(t, a), hashOf(t, b), hashOf(t, a)
	if ha != ha2 {
		t.Errorf("same payment hashed twice: %s != %s", ha, ha2)
	}
	if ha == hb {
		t.Errorf("different amounts share hash %s", ha)
	}
	if hm := hashOf(t, moved); hm != ha {
		t.Errorf("the same payment from another file hashes differently: %s != %s", hm, ha)
	}
}

func hashOf(t *testing.T, r ledger.Record) string {
	it, err := toItem(r)
	if err != nil {
		t.Fatal(err)
	}
	return it.(*paymentItem).Hash
}
