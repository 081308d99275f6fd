package dynamics

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/recoup-dev/recoup/infra/local/d365sim"
	"github.com/recoup-dev/recoup/shared/audit"
	"github.com/recoup-dev/recoup/shared/erp"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/writeback"
)

// memStore keeps statuses as writeback.Store says: a Put lands only over
// the version before it (absent for version 1), else ErrConflict; a final
// state lands with its audit record.
type memStore struct {
	mu      sync.Mutex
	st      map[string]erp.Status
	records map[string]int // audit records per action key
}

func (m *memStore) Get(_ context.Context, t ledger.TenantID, key string) (erp.Status, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st, ok := m.st[string(t)+"/"+key]
	return st, ok, nil
}

func (m *memStore) Put(_ context.Context, st erp.Status, rec *audit.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := string(st.Action.Tenant) + "/" + st.Action.Key
	if m.st[k].Version != st.Version-1 {
		return writeback.ErrConflict
	}
	m.st[k] = st
	if rec != nil {
		m.records[st.Action.Key]++
	}
	return nil
}

// TestExactlyOnceUnderFaults drives 310 actions of every kind the adapter
// writes through writeback's Deliverer while a fifth of the simulator's
// data requests fail: 500s before and after commit, timeouts after
// commit, slow, malformed and throttled answers, expired tokens and
// concurrent updates. Promises and disputes share invoices, so their
// dispute rows are raced for. Every action must end confirmed, each
// record carry its key exactly once, and each hold be written once.
func TestExactlyOnceUnderFaults(t *testing.T) {
	sim := d365sim.New(d365sim.Config{})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)

	const tenant ledger.TenantID = "d365faults"
	var seeds []d365sim.CustomerSeed
	for i := range 120 {
		s := d365sim.CustomerSeed{Account: fmt.Sprintf("C-%03d", i), Invoices: []string{fmt.Sprintf("INV-%03d-0", i), fmt.Sprintf("INV-%03d-1", i)}}
		if i >= 80 {
			s.OnHoldStatus = "All" // released below
		}
		seeds = append(seeds, s)
	}
	if _, err := sim.Seed(seeds); err != nil {
		t.Fatal(err)
	}
	var actions []erp.Action
	add := func(kind erp.Kind, i int, target erp.Target, edit func(*erp.Action)) {
		a := erp.New(tenant, kind, fmt.Sprintf("test:%s-%d", kind, i), target, at)
		if edit != nil {
			edit(&a)
		}
		if err := a.Validate(); err != nil {
			t.Fatal(err)
		}
		actions = append(actions, a)
	}
	cust := func(i int) string { return seeds[i].Account }
	for i := range 50 {
		add(erp.KindCreditHold, i, erp.Target{Customer: cust(i)}, nil)
	}
	for i := range 30 {
		add(erp.KindCreditRelease, i, erp.Target{Customer: cust(80 + i)}, nil)
	}
	for i := range 80 {
		add(erp.KindNote, i, erp.Target{Customer: cust(i)}, func(a *erp.Action) { a.Text = fmt.Sprintf("Reminder %d sent by e-mail.", i) })
	}
	for i := range 50 {
		add(erp.KindTask, i, erp.Target{Customer: cust(i)}, func(a *erp.Action) { a.Subject, a.Text, a.Date = "Call back", "Asked for Friday.", "2026-11-06" })
	}
	for i := range 40 {
		add(erp.KindDunningLetter, i, erp.Target{Customer: cust(40 + i)}, func(a *erp.Action) { a.Subject, a.Text = "Overdue", "Please pay." })
	}
	for i := range 30 {
		add(erp.KindPromise, i, erp.Target{Customer: cust(i), Transaction: seeds[i].Invoices[0]}, func(a *erp.Action) {
			a.Amount, a.Date = &erp.Money{Minor: int64(10000 + i), Currency: "USD"}, "2026-11-13"
		})
	}
	for i := range 30 {
		// Customers 15 to 29 get a promise and a dispute on the same invoice.
		add(erp.KindDispute, i, erp.Target{Customer: cust(15 + i), Transaction: seeds[15+i].Invoices[0]}, func(a *erp.Action) {
			a.Amount, a.Text = &erp.Money{Minor: 4500, Currency: "USD"}, "Goods arrived damaged."
		})
	}

	if err := sim.SetFaults(d365sim.Faults{Rate: 0.2, Seed: 7, Slow: 20 * time.Millisecond, Hang: 2 * time.Second, Kinds: []d365sim.FaultKind{
		d365sim.FaultError500, d365sim.FaultError500AfterCommit, d365sim.FaultTimeoutAfterCommit, d365sim.FaultSlow, d365sim.FaultMalformed,
		d365sim.FaultThrottled, d365sim.FaultTokenExpired, d365sim.FaultConcurrentUpdate}}); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, srv.URL, func(cfg *Config) { cfg.Timeout = 250 * time.Millisecond })
	store := &memStore{st: map[string]erp.Status{}, records: map[string]int{}}
	d, err := writeback.New(c, store, writeback.Options{Log: slog.New(slog.DiscardHandler), Lease: 5 * time.Second,
		// The breaker would only slow the test: every failure here passes.
		Breaker: writeback.BreakerSettings{Consecutive: 1 << 20, Open: 10 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}

	// A queue that redelivers every non-final outcome at once, from 8
	// workers, until the action is final.
	const workers, maxDeliveries = 8, 40
	type delivery struct {
		a erp.Action
		n int
	}
	queue := make(chan delivery, len(actions))
	for _, a := range actions {
		queue <- delivery{a: a, n: 1}
	}
	var (
		mu       sync.Mutex
		outcomes = map[writeback.Outcome]int{}
		final    = map[string]writeback.Outcome{}
		wg       sync.WaitGroup
	)
	wg.Add(len(actions))
	ctx := context.Background()
	start := time.Now()
	for range workers {
		go func() {
			for dl := range queue {
				o, err := d.Deliver(ctx, dl.a, writeback.Attempt{})
				mu.Lock()
				outcomes[o]++
				mu.Unlock()
				if o == writeback.Retry && dl.n < maxDeliveries {
					dl.n++
					queue <- dl
					continue
				}
				mu.Lock()
				final[dl.a.Key] = o
				mu.Unlock()
				if o == writeback.Retry {
					t.Errorf("action %s (%s) still retrying after %d deliveries: %v", dl.a.Key, dl.a.Kind, dl.n, err)
				}
				wg.Done()
			}
		}()
	}
	wg.Wait()
	close(queue)

	for _, a := range actions {
		st, _, _ := store.Get(ctx, tenant, a.Key)
		if o := final[a.Key]; (o != writeback.Confirmed && o != writeback.Reconciled) || st.State != erp.StateConfirmed {
			t.Errorf("action %s (%s): outcome %s, state %s, error %+v", a.Key, a.Kind, o, st.State, st.Error)
		}
		if n := store.records[a.Key]; n != 1 {
			t.Errorf("action %s has %d audit records", a.Key, n)
		}
	}

	// Exactly once, as the simulator's control API shows it.
	var applied map[string]int
	getJSON(t, srv.URL+"/_sim/applied", &applied)
	var state d365sim.State
	getJSON(t, srv.URL+"/_sim/state", &state)
	holds := map[string]erp.Kind{}
	for _, a := range actions {
		if a.Kind == erp.KindCreditHold || a.Kind == erp.KindCreditRelease {
			holds[a.Target.Customer] = a.Kind
			continue
		}
		if n := applied[a.Key]; n != 1 {
			t.Errorf("action %s (%s) applied %d times, want 1", a.Key, a.Kind, n)
		}
	}
	if len(applied) != len(actions)-len(holds) {
		t.Errorf("%d keys applied, want %d", len(applied), len(actions)-len(holds))
	}
	for _, cu := range state.Customers {
		want, updates := map[erp.Kind]string{erp.KindCreditHold: "All", erp.KindCreditRelease: "No"}[holds[cu.Account]], 1
		if want == "" {
			want, updates = "No", 0
			if seedHeld := cu.Account >= "C-080"; seedHeld {
				want = "All"
			}
		}
		if cu.OnHoldStatus != want || cu.HoldUpdates != updates {
			t.Errorf("customer %s: %s after %d updates, want %s after %d", cu.Account, cu.OnHoldStatus, cu.HoldUpdates, want, updates)
		}
	}
	stats := sim.Stats()
	for _, k := range []d365sim.FaultKind{d365sim.FaultError500AfterCommit, d365sim.FaultTimeoutAfterCommit, d365sim.FaultMalformed,
		d365sim.FaultThrottled, d365sim.FaultTokenExpired, d365sim.FaultConcurrentUpdate} {
		if stats.Faults[k] == 0 {
			t.Errorf("no %s fault was injected: %v", k, stats.Faults)
		}
	}
	t.Logf("%d actions in %s; outcomes %v; faults %v; %d tokens", len(actions), time.Since(start).Round(time.Millisecond),
		outcomes, stats.Faults, stats.Tokens)
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
}
