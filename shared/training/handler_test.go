package training

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/ranking"
	"github.com/recoup-dev/recoup/shared/registry"
	"github.com/recoup-dev/recoup/testdata/portfolio"
)

// tenants is a Source over several tenants' records in memory. A tenant
// with no records fails to read; "panics" trips a bug.
type tenants map[ledger.TenantID]ledgerRecords

var errUnreadable = errors.New("ledger unreadable")

func (ts tenants) get(t ledger.TenantID) (ledgerRecords, error) {
	if t == "panics" {
		panic("index out of range")
	}
	r, ok := ts[t]
	if !ok {
		return r, errUnreadable
	}
	return r, nil
}

func (ts tenants) Customers(_ context.Context, t ledger.TenantID) ([]ledger.Customer, error) {
	r, err := ts.get(t)
	return r.customers, err
}
func (ts tenants) Invoices(_ context.Context, t ledger.TenantID) ([]ledger.Invoice, error) {
	r, err := ts.get(t)
	return r.invoices, err
}
func (ts tenants) Payments(_ context.Context, t ledger.TenantID) ([]ledger.Payment, error) {
	r, err := ts.get(t)
	return r.payments, err
}
func (ts tenants) Disputes(context.Context, ledger.TenantID) ([]ledger.Dispute, error) {
	return nil, nil
}
func (ts tenants) Promises(context.Context, ledger.TenantID) ([]ledger.PromiseToPay, error) {
	return nil, nil
}

func newHandler(t *testing.T, src Source, clock time.Time) (*Handler, registry.Registry, *bytes.Buffer) {
	t.Helper()
	reg := registry.Registry{Blobs: registry.Dir(t.TempDir())}
	var logs bytes.Buffer
	h, err := NewHandler(Job{Source: src, Registry: reg, Config: ranking.Config{Seed: 1}, Now: func() time.Time { return clock }},
		slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return h, reg, &logs
}

func TestHandleRunsEveryTenant(t *testing.T) {
	end := ledger.Date(2026, 11, 1)
	src := tenants{}
	var customers []ledger.Customer
	for i, tenant := range []string{"acme", "demo"} {
		b, err := portfolio.Load(portfolio.Config{Seed: int64(3 + i), Customers: 500, Invoices: 3000, AsOf: end, Tenant: tenant})
		if err != nil {
			t.Fatal(err)
		}
		src[ledger.TenantID(tenant)] = ledgerRecords{b.Customers, b.Invoices, b.Payments}
		customers = append(customers, b.Customers...)
	}
	h, reg, logs := newHandler(t, src, time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC))

	// The failing tenants sit between and before the good ones: neither
	// stops those after it.
	var req Request
	if err := json.Unmarshal([]byte(`{"tenants": ["acme", "broken", "panics", "demo"], "as_of": "2026-11-01"}`), &req); err != nil {
		t.Fatal(err)
	}
	resp, err := h.Handle(t.Context(), req)

	if !errors.Is(err, ErrTenantsFailed) || !errors.Is(err, errUnreadable) {
		t.Fatalf("error %v, want ErrTenantsFailed wrapping the ledger's error", err)
	}
	for _, want := range []string{"2 of 4 tenants", "broken: read customers of broken", "panics: panic: index out of range"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "acme") || strings.Contains(err.Error(), "demo") {
		t.Errorf("error %q names a tenant that trained", err)
	}
	if resp.AsOf != "2026-11-01" || len(resp.Results) != 4 {
		t.Fatalf("response %+v", resp)
	}
	for i, want := range []struct {
		tenant  ledger.TenantID
		trained bool
	}{{"acme", true}, {"broken", false}, {"panics", false}, {"demo", true}} {
		r := resp.Results[i]
		if r.Tenant != want.tenant || (r.Report != nil) != want.trained || (r.Error == "") != want.trained {
			t.Errorf("result %d: %+v, want tenant %s trained %v", i, r, want.tenant, want.trained)
			continue
		}
		if !want.trained {
			continue
		}
		if !r.Report.DataEnd.Equal(end) || !r.Report.Promoted {
			t.Errorf("%s: report %+v, want a promoted first model on data to %s", r.Tenant, r.Report, end)
		}
		if c, err := reg.Champion(t.Context(), r.Tenant, Model); err != nil || c.Version != r.Report.Version {
			t.Errorf("%s: champion %+v (%v), want %s", r.Tenant, c, err, r.Report.Version)
		}
	}

	// One JSON line per tenant, and no customer's name in any of them.
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) < 4 {
		t.Errorf("%d log lines, want one per tenant:\n%s", len(lines), logs)
	}
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Errorf("log line is not JSON: %s", l)
		}
	}
	for _, c := range customers {
		if c.Name != "" && strings.Contains(logs.String(), c.Name) {
			t.Fatalf("the log names customer %s", c.ID)
		}
	}
}

func TestHandleDefaultsToToday(t *testing.T) {
	// 23:30 UTC on the 30th is already the 1st in Sydney; the date is UTC's.
	clock := time.Date(2026, 11, 30, 23, 30, 0, 0, time.UTC).In(time.FixedZone("AEDT", 11*3600))
	h, _, _ := newHandler(t, tenants{}, clock)
	resp, err := h.Handle(t.Context(), Request{Tenants: []string{"acme"}})
	if resp.AsOf != "2026-11-30" {
		t.Errorf("as_of %q, want 2026-11-30", resp.AsOf)
	}
	if !errors.Is(err, errUnreadable) {
		t.Errorf("error %v, want the ledger's", err)
	}
}

func TestHandleRefusesBadRequests(t *testing.T) {
	tests := []struct {
		name, input, field string
	}{
		{"no tenants", `{"as_of": "2026-11-30"}`, "tenants"},
		{"empty tenants", `{"tenants": []}`, "tenants"},
		{"empty tenant id", `{"tenants": ["acme", ""]}`, "tenants[1]"},
		{"tenant id with a key separator", `{"tenants": ["ac#me"]}`, "tenants[0]"},
		{"tenant listed twice", `{"tenants": ["acme", "demo", "acme"]}`, "tenants[2]"},
		{"as_of not a date", `{"tenants": ["acme"], "as_of": "30/11/2026"}`, "as_of"},
		{"as_of with a time", `{"tenants": ["acme"], "as_of": "2026-11-30T00:00:00Z"}`, "as_of"},
		{"as_of after today", `{"tenants": ["acme"], "as_of": "2026-12-01"}`, "as_of"},
		{"misspelt field", `{"tenants": ["acme"], "asOf": "2026-11-30"}`, "asOf"},
		{"tenants not a list", `{"tenants": "acme"}`, "tenants"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, reg, _ := newHandler(t, tenants{}, time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC))
			var req Request
			err := json.Unmarshal([]byte(tt.input), &req)
			if err == nil {
				_, err = h.Handle(t.Context(), req)
			}
			if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("error %v, want ErrBadRequest naming %s", err, tt.field)
			}
			if _, err := reg.Champion(t.Context(), "acme", Model); !errors.Is(err, registry.ErrNotFound) {
				t.Errorf("a refused request trained: %v", err)
			}
		})
	}
}

func TestHandleStopsAtTheDeadline(t *testing.T) {
	h, _, _ := newHandler(t, tenants{}, time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	resp, err := h.Handle(ctx, Request{Tenants: []string{"acme", "demo"}})
	if !errors.Is(err, ErrTenantsFailed) {
		t.Fatalf("error %v, want ErrTenantsFailed", err)
	}
	for _, r := range resp.Results {
		if !strings.HasPrefix(r.Error, "not run") {
			t.Errorf("%s: %q, want not run", r.Tenant, r.Error)
		}
	}
}

func TestNewHandlerRefusesMissingParts(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	reg := registry.Registry{Blobs: registry.Dir(t.TempDir())}
	for name, tc := range map[string]struct {
		job Job
		log *slog.Logger
	}{
		"source":   {Job{Registry: reg}, log},
		"registry": {Job{Source: tenants{}}, log},
		"logger":   {Job{Source: tenants{}, Registry: reg}, nil},
	} {
		if _, err := NewHandler(tc.job, tc.log); err == nil {
			t.Errorf("no %s: accepted", name)
		}
	}
}

func ExampleRequest() {
	var req Request
	err := json.Unmarshal([]byte(`{"tenants": ["acme", "demo"], "as_of": "2026-11-30"}`), &req)
	fmt.Println(req.Tenants, req.AsOf, err)
	// Output: [acme demo] 2026-11-30 <nil>
}
