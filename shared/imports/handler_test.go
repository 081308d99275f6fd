package imports

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/recoup-dev/recoup/shared/ledger"
)

// memLedger keeps upserts in memory; the import's contract with the real
// store is tested against DynamoDB Local in the integration tests.
type memLedger struct{ recs []ledger.Record }

func (m *memLedger) ExistingCustomers(context.Context, ledger.TenantID, []string) (map[string]bool, error) {
	return map[string]bool{}, nil
}
func (m *memLedger) Upsert(_ context.Context, recs []ledger.Record) (ledger.UpsertCounts, error) {
	m.recs = append(m.recs, recs...)
	return ledger.UpsertCounts{Inserted: len(recs)}, nil
}
func (m *memLedger) LoadCheckpoint(context.Context, ledger.TenantID, string) (ledger.ImportCheckpoint, bool, error) {
	return ledger.ImportCheckpoint{}, false, nil
}
func (m *memLedger) SaveCheckpoint(context.Context, ledger.TenantID, ledger.ImportCheckpoint) error {
	return nil
}

func TestHandlePullFromERP(t *testing.T) {
	since := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	doc := `{"customers":[{"customer_id":"L-1","name":"Lakeside Dental LLC"}],
	 "invoices":[{"invoice_id":"LI-1","customer_id":"L-1","invoice_date":"2026-09-01","due_date":"2026-10-01","amount":"1200.00","open_amount":"1200.00","currency":"USD"},
	             {"invoice_id":"LI-2","customer_id":"L-1","invoice_date":"2026-09-01","due_date":"2026-10-01","amount":"-5.00","currency":"USD"}]}`
	var asked time.Time
	latest := time.Date(2026, 11, 24, 18, 30, 0, 0, time.UTC)
	pull := func(_ context.Context, s time.Time) (Source, time.Time, error) {
		asked = s
		return Source{Name: "oracle-ebs-live.json", Data: []byte(doc)}, latest, nil
	}
	tests := []struct {
		name    string
		req     Request
		pull    Puller
		wantErr string
		want    Response
	}{
		{name: "pull", req: Request{Tenant: "acme", From: "erp", Since: since}, pull: pull,
			want: Response{Records: 2, Customers: 1, Invoices: 1}},
		{name: "no connection", req: Request{Tenant: "acme", From: "erp"}, wantErr: "no ERP connection"},
		{name: "files with a pull", req: Request{Tenant: "acme", From: "erp", Files: []RequestFile{{Name: "a.csv"}}}, pull: pull, wantErr: "takes no files"},
		{name: "unknown source", req: Request{Tenant: "acme", From: "ftp"}, pull: pull, wantErr: `from "ftp"`},
		{name: "since without a pull", req: Request{Tenant: "acme", Since: since, Files: []RequestFile{{Name: "a.csv", Content: "x"}}}, wantErr: "since is for a pull"},
		{name: "a format with a pull", req: Request{Tenant: "acme", From: "erp", Format: "sap-fi"}, pull: pull, wantErr: "format is for files"},
		{name: "the ERP fails", req: Request{Tenant: "acme", From: "erp"}, wantErr: "pull from the ERP: down",
			pull: func(context.Context, time.Time) (Source, time.Time, error) {
				return Source{}, time.Time{}, errors.New("down")
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			asked = time.Time{}
			h, err := NewHandler(&memLedger{})
			if err != nil {
				t.Fatal(err)
			}
			h.Pull = tc.pull
			got, err := h.Handle(context.Background(), tc.req)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !asked.Equal(since) {
				t.Errorf("pulled since %s, want %s", asked, since)
			}
			if !got.Latest.Equal(latest) {
				t.Errorf("latest %s, want the ERP's %s", got.Latest, latest)
			}
			if got.Customers != tc.want.Customers || got.Invoices != tc.want.Invoices || len(got.Rejects) != 1 {
				t.Fatalf("response %+v; want 1 customer, 1 invoice and the negative amount rejected", got)
			}
			if r := got.Rejects[0]; r.Field == "" || !strings.Contains(r.Record, "invoices[1]") {
				t.Errorf("reject %+v does not name the record and field", r)
			}
		})
	}
}
