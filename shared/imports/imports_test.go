package imports

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/shared/ingest"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

func TestIDDependsOnContentTenantAndFormat(t *testing.T) {
	usd := money.MustCurrency("USD")
	base := ingest.Options{Tenant: "acme", Format: "canonical", DefaultCurrency: usd, DefaultRegion: "US"}
	files := []Source{{Name: "a.csv", Data: []byte("x")}, {Name: "b.csv", Data: []byte("y")}}
	id := ID(base, files)

	reordered := []Source{files[1], files[0]}
	otherTenant := base
	otherTenant.Tenant = "globex"
	otherFormat := base
	otherFormat.Format = "sap-fi"
	tests := []struct {
		name  string
		opts  ingest.Options
		files []Source
		same  bool
	}{
		{"same files in another order", base, reordered, true},
		{"one byte changed", base, []Source{{Name: "a.csv", Data: []byte("z")}, files[1]}, false},
		{"another tenant", otherTenant, files, false},
		{"another format", otherFormat, files, false},
		{"file renamed", base, []Source{{Name: "c.csv", Data: []byte("x")}, files[1]}, false},
	}
	for _, tt := range tests {
		if got := ID(tt.opts, tt.files) == id; got != tt.same {
			t.Errorf("%s: same id = %v, want %v", tt.name, got, tt.same)
		}
	}
}

func TestRecordsPutCustomersFirst(t *testing.T) {
	b := &ingest.Batch{
		Invoices:  []ledger.Invoice{{ID: "I1"}},
		Payments:  []ledger.Payment{{ID: "P1"}},
		Customers: []ledger.Customer{{ID: "C1"}},
		Contacts:  []ledger.ContactPoint{{ID: "K1"}},
		Disputes:  []ledger.Dispute{{ID: "D1"}},
	}
	var got []ledger.Kind
	for _, r := range Records(b) {
		got = append(got, r.Ref().Kind)
	}
	want := []ledger.Kind{ledger.KindCustomer, ledger.KindContact, ledger.KindInvoice, ledger.KindPayment, ledger.KindDispute}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("write order (-want +got):\n%s", diff)
	}
}

func TestRunRefusesNilStore(t *testing.T) {
	if _, err := Run(context.Background(), nil, ingest.Options{}, nil, nil); !errors.Is(err, ErrNoStore) {
		t.Errorf("Run(nil store) = %v, want ErrNoStore", err)
	}
	if _, err := NewHandler(nil); !errors.Is(err, ErrNoStore) {
		t.Errorf("NewHandler(nil) = %v, want ErrNoStore", err)
	}
}
