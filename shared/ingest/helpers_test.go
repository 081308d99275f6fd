package ingest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

// asOf pins the "more than five years in the future" rule for tests.
var asOf = ledger.Date(2026, time.March, 1)

// cmpOpts compares money.Currency by value despite its unexported fields.
var cmpOpts = cmp.Options{cmp.Comparer(func(a, b money.Currency) bool { return a == b })}

// memLookup is an in-memory CustomerLookup that records its calls.
type memLookup struct {
	mu    sync.Mutex
	ids   map[string]bool
	calls [][]string
}

func newLookup(ids ...string) *memLookup {
	m := &memLookup{ids: map[string]bool{}}
	for _, id := range ids {
		m.ids[id] = true
	}
	return m
}

func (m *memLookup) ExistingCustomers(_ context.Context, _ ledger.TenantID, ids []string) (map[string]bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, append([]string(nil), ids...))
	out := map[string]bool{}
	for _, id := range ids {
		if m.ids[id] {
			out[id] = true
		}
	}
	return out, nil
}

func opts(f Format) Options { return Options{Tenant: "t1", Format: f, AsOf: asOf} }

func csvFile(name, content string) File { return File{Name: name, R: strings.NewReader(content)} }

func testdataFile(t testing.TB, name string) File {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return File{Name: name, R: strings.NewReader(string(data))}
}

func mustParse(t testing.TB, o Options, lookup CustomerLookup, files ...File) *Batch {
	t.Helper()
	b, err := Parse(context.Background(), o, files, lookup)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	checkInvariant(t, b)
	return b
}

// rj is the part of a Reject the rule tests pin down.
type rj struct {
	Line  int
	Field string
	Rule  Rule
}

func rejectsOf(b *Batch) []rj {
	var out []rj
	for _, r := range b.Rejects {
		out = append(out, rj{r.Line, r.Field, r.Rule})
	}
	return out
}

// checkInvariant asserts the bookkeeping promise: every row read is accepted
// or rejected exactly once, and accepted rows match the records produced.
func checkInvariant(t testing.TB, b *Batch) {
	t.Helper()
	var read, accepted, rejected int
	for _, f := range b.Files {
		var kr, ka, kx int
		for _, k := range f.Kinds {
			kr, ka, kx = kr+k.Read, ka+k.Accepted, kx+k.Rejected
			if k.Read != k.Accepted+k.Rejected {
				t.Errorf("%s %s: read %d != accepted %d + rejected %d", f.Name, k.Kind, k.Read, k.Accepted, k.Rejected)
			}
		}
		if f.Read != f.Accepted+f.Rejected || kr != f.Read || ka != f.Accepted || kx != f.Rejected {
			t.Errorf("%s: read %d accepted %d rejected %d, kinds %+v", f.Name, f.Read, f.Accepted, f.Rejected, f.Kinds)
		}
		byRule := 0
		for _, n := range f.RejectsByRule {
			byRule += n
		}
		if byRule != f.Rejected {
			t.Errorf("%s: rejects by rule sum to %d, want %d", f.Name, byRule, f.Rejected)
		}
		read, accepted, rejected = read+f.Read, accepted+f.Accepted, rejected+f.Rejected
	}
	if rejected != len(b.Rejects) {
		t.Errorf("%d rows rejected but %d rejects", rejected, len(b.Rejects))
	}
	for _, r := range b.Rejects {
		if r.File == "" || r.Line < 1 || r.Record == "" || r.Reason == "" || r.Rule == "" || len(r.Raw) > maxRaw {
			t.Errorf("incomplete reject %+v", r)
		}
	}
	explicit, derived := 0, 0
	for _, c := range b.Customers {
		if c.Source.System == string(FormatCanonical) {
			explicit++
		}
	}
	for _, p := range b.Payments {
		if p.Source.System == string(FormatIBMAR) {
			derived++
		}
	}
	if got := explicit + len(b.Contacts) + len(b.Invoices) + len(b.Payments) - derived; got != accepted {
		t.Errorf("accepted %d rows but produced %d row records", accepted, got)
	}
}

// summary renders an invoice compactly for table comparisons.
func summary(i ledger.Invoice) string {
	closed := "-"
	if !i.ClosedDate.IsZero() {
		closed = i.ClosedDate.Format("2006-01-02")
	}
	return fmt.Sprintf("%s cust=%s %s..%s %s open=%s disputed=%t closed=%s", i.ID, i.Customer,
		i.InvoiceDate.Format("2006-01-02"), i.DueDate.Format("2006-01-02"), i.Amount, i.Open.Decimal(), i.Disputed, closed)
}

func paySummary(p ledger.Payment) string {
	return fmt.Sprintf("%s cust=%s inv=%s %s on %s ref=%q", p.ID, p.Customer, p.Invoice, p.Amount,
		p.ReceivedAt.Format("2006-01-02"), p.Reference)
}

func custSummary(c ledger.Customer) string {
	return fmt.Sprintf("%s %q %s country=%s billing=%s", c.ID, c.Name, c.Kind, c.Country, c.Billing)
}

func summaries[T any](xs []T, f func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

func sorted(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return s
}
