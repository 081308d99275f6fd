package writeback

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/shared/audit"
	"github.com/recoup-dev/recoup/shared/erp"
	"github.com/recoup-dev/recoup/shared/ledger"
)

// memStore keeps statuses as the DynamoDB store does: a Put lands only over
// the version before it, and a final state lands with its audit record.
type memStore struct {
	mu      sync.Mutex
	st      map[string]erp.Status
	records []audit.Record
	failPut error
	// failFinal fails this many Puts that carry an audit record.
	failFinal int
}

func newMemStore() *memStore { return &memStore{st: map[string]erp.Status{}} }

func (m *memStore) Get(_ context.Context, t ledger.TenantID, key string) (erp.Status, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st, ok := m.st[string(t)+"/"+key]
	return st, ok, nil
}

func (m *memStore) Put(_ context.Context, st erp.Status, rec *audit.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failPut != nil {
		return m.failPut
	}
	if rec != nil && m.failFinal > 0 {
		m.failFinal--
		return errors.New("audit contention")
	}
	k := string(st.Action.Tenant) + "/" + st.Action.Key
	if m.st[k].Version != st.Version-1 {
		return ErrConflict
	}
	m.st[k] = st
	if rec != nil {
		m.records = append(m.records, *rec)
	}
	return nil
}

// scripted is an ERP whose answers are queued per call. It keeps what it
// applied, so Find reads back the truth, and counts applications per key.
type scripted struct {
	mu      sync.Mutex
	applies []error // nil applies; an error with commit=true applies then fails
	commits []bool
	finds   []error
	applied map[string]int
	calls   []string
}

func (s *scripted) Name() string { return "scripted" }

func (s *scripted) Apply(_ context.Context, a erp.Action) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "apply")
	var err error
	commit := true
	if len(s.applies) > 0 {
		err, commit = s.applies[0], s.commits[0]
		s.applies, s.commits = s.applies[1:], s.commits[1:]
	}
	if commit {
		s.applied[a.Key]++
	}
	return "ref-" + a.Key[:6], err
}

func (s *scripted) Find(_ context.Context, a erp.Action) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "find")
	if len(s.finds) > 0 {
		err := s.finds[0]
		s.finds = s.finds[1:]
		if err != nil {
			return "", false, err
		}
	}
	if s.applied[a.Key] > 0 {
		return "ref-" + a.Key[:6], true, nil
	}
	return "", false, nil
}

// answer is one scripted Apply: err, and whether the ERP committed first.
type answer struct {
	err    error
	commit bool
}

var (
	timeoutAfterCommit = answer{erp.Transient("timeout", "no answer"), true}
	serverError        = answer{erp.Transient("500", "internal"), false}
	refused            = answer{&erp.Error{Class: erp.ClassTransient, Code: "connection_refused", NotSent: true}, false}
	noAccount          = answer{erp.Permanent("HZ_API_NO_RECORD", "no account C-1"), false}
	ok                 = answer{nil, true}
)

func action() erp.Action {
	a := erp.New("acme", erp.KindCreditHold, "decision:d1", erp.Target{Customer: "C-1"}, time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	a.Text = "91 days past due"
	return a
}

func TestDeliverSequences(t *testing.T) {
	type step struct {
		final bool
		want  Outcome
	}
	tests := []struct {
		name      string
		answers   []answer
		finds     []error
		steps     []step
		wantState erp.State
		applied   int
		calls     []string
		audited   []string // decisions of the audit records, in order
		// replay reopens the action (recoup writeback replay) before the
		// step with this index.
		replay int
	}{
		{name: "applied first time", answers: []answer{ok},
			steps: []step{{want: Confirmed}, {want: Duplicate}}, wantState: erp.StateConfirmed, applied: 1,
			calls: []string{"apply"}, audited: []string{"confirmed"}},
		{name: "timeout after commit is reconciled, not written again", answers: []answer{timeoutAfterCommit},
			steps: []step{{want: Retry}, {want: Reconciled}, {want: Duplicate}}, wantState: erp.StateConfirmed, applied: 1,
			calls: []string{"apply", "find"}, audited: []string{"confirmed"}},
		{name: "500 before commit is written again after a read-back", answers: []answer{serverError, ok},
			steps: []step{{want: Retry}, {want: Confirmed}}, wantState: erp.StateConfirmed, applied: 1,
			calls: []string{"apply", "find", "apply"}, audited: []string{"confirmed"}},
		{name: "a request that never left needs no read-back", answers: []answer{refused, ok},
			steps: []step{{want: Retry}, {want: Confirmed}}, wantState: erp.StateConfirmed, applied: 1,
			calls: []string{"apply", "apply"}, audited: []string{"confirmed"}},
		{name: "business error fails at once and stays failed", answers: []answer{noAccount},
			steps: []step{{want: Failed}, {want: Skipped}}, wantState: erp.StateFailed, applied: 0,
			calls: []string{"apply"}, audited: []string{"failed"}},
		{name: "last attempt dead-letters", answers: []answer{serverError, serverError},
			steps: []step{{want: Retry}, {final: true, want: DeadLettered}, {want: Skipped}}, wantState: erp.StateDeadLettered,
			calls: []string{"apply", "find", "apply"}, audited: []string{"dead_lettered"}},
		{name: "read-back failing is retried without writing", answers: []answer{timeoutAfterCommit},
			finds: []error{erp.Transient("503", "busy"), nil},
			steps: []step{{want: Retry}, {want: Retry}, {want: Reconciled}}, wantState: erp.StateConfirmed, applied: 1,
			calls: []string{"apply", "find", "find"}, audited: []string{"confirmed"}},
		{name: "read-back refused on the last attempt keeps the truth in doubt and dead-letters",
			answers: []answer{timeoutAfterCommit}, finds: []error{&erp.Error{Class: erp.ClassTransient, Code: "connection_refused", NotSent: true}},
			steps: []step{{want: Retry}, {final: true, want: DeadLettered}}, wantState: erp.StateDeadLettered, applied: 1,
			calls: []string{"apply", "find"}, audited: []string{"dead_lettered"}},
		{name: "a replayed dead letter whose last write was applied is reconciled, not written again",
			answers: []answer{serverError, timeoutAfterCommit}, replay: 2,
			steps: []step{{want: Retry}, {final: true, want: DeadLettered}, {want: Reconciled}}, wantState: erp.StateConfirmed, applied: 1,
			calls: []string{"apply", "find", "apply", "find"}, audited: []string{"dead_lettered", "confirmed"}},
		{name: "a replayed failure is read back, then written",
			answers: []answer{noAccount, ok}, replay: 1,
			steps: []step{{want: Failed}, {want: Confirmed}}, wantState: erp.StateConfirmed, applied: 1,
			calls: []string{"apply", "find", "apply"}, audited: []string{"failed", "confirmed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.replay > 0 && len(tt.steps) <= tt.replay {
				t.Fatal("replay must fall between steps")
			}
			e := &scripted{applied: map[string]int{}, finds: tt.finds}
			for _, a := range tt.answers {
				e.applies, e.commits = append(e.applies, a.err), append(e.commits, a.commit)
			}
			s := newMemStore()
			d, err := New(e, s, Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			a := action()
			for i, st := range tt.steps {
				if tt.replay > 0 && i == tt.replay {
					cur, _, _ := s.Get(context.Background(), a.Tenant, a.Key)
					if _, err := Reopen(context.Background(), s, cur, time.Now()); err != nil {
						t.Fatal(err)
					}
				}
				got, err := d.Deliver(context.Background(), a, Attempt{Final: st.final})
				if got != st.want {
					t.Fatalf("delivery %d: %s (%v), want %s", i+1, got, err, st.want)
				}
				if (err != nil) != (got == Retry) {
					t.Fatalf("delivery %d: %s with error %v", i+1, got, err)
				}
			}
			st, _, _ := s.Get(context.Background(), a.Tenant, a.Key)
			if st.State != tt.wantState {
				t.Errorf("state %s, want %s", st.State, tt.wantState)
			}
			if e.applied[a.Key] != tt.applied {
				t.Errorf("applied %d times, want %d", e.applied[a.Key], tt.applied)
			}
			if diff := cmp.Diff(tt.calls, e.calls); diff != "" {
				t.Errorf("ERP calls (-want +got):\n%s", diff)
			}
			var decisions []string
			for _, r := range s.records {
				decisions = append(decisions, r.Decision)
				if r.Kind != audit.KindWriteback || r.Account != "C-1" || len(r.Inputs) == 0 || len(r.Content) == 0 {
					t.Errorf("audit record %+v", r)
				}
			}
			if diff := cmp.Diff(tt.audited, decisions); diff != "" {
				t.Errorf("audit decisions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFailedKeepsERPMessage(t *testing.T) {
	e := &scripted{applied: map[string]int{}, applies: []error{noAccount.err}, commits: []bool{false}}
	s := newMemStore()
	d, _ := New(e, s, Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	a := action()
	if _, err := d.Deliver(context.Background(), a, Attempt{}); err != nil {
		t.Fatal(err)
	}
	st, _, _ := s.Get(context.Background(), a.Tenant, a.Key)
	want := &erp.Error{Class: erp.ClassPermanent, Code: "HZ_API_NO_RECORD", Message: "no account C-1"}
	if diff := cmp.Diff(want, st.Error); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
}

func TestInvalidActionFailsWithoutCall(t *testing.T) {
	e := &scripted{applied: map[string]int{}}
	d, _ := New(e, newMemStore(), Options{})
	a := action()
	a.Target.Customer = "" // no longer the keyed target
	got, err := d.Deliver(context.Background(), a, Attempt{})
	if got != Failed || !errors.Is(err, erp.ErrInvalid) || len(e.calls) != 0 {
		t.Fatalf("%s, %v, calls %v", got, err, e.calls)
	}
}

func TestStoreFailureIsRetriedBeforeAnyCall(t *testing.T) {
	e := &scripted{applied: map[string]int{}}
	s := newMemStore()
	s.failPut = errors.New("throttled")
	d, _ := New(e, s, Options{})
	got, err := d.Deliver(context.Background(), action(), Attempt{})
	if got != Retry || err == nil || len(e.calls) != 0 {
		t.Fatalf("%s, %v, calls %v: the ERP must not be called before the status says sent", got, err, e.calls)
	}
}

// TestBreakerOpensPerTenant: after the configured run of transient
// failures one tenant's ERP is no longer called, and its actions are
// retried as never sent; another tenant's ERP is still called.
func TestBreakerOpensPerTenant(t *testing.T) {
	e := &scripted{applied: map[string]int{}}
	for range 3 {
		e.applies, e.commits = append(e.applies, serverError.err), append(e.commits, false)
	}
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	d, _ := New(e, newMemStore(), Options{Breaker: BreakerSettings{Consecutive: 3, Open: time.Minute},
		Now: func() time.Time { return now }, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx := context.Background()
	for i := range 3 {
		a := erp.New("acme", erp.KindNote, fmt.Sprintf("event:%d", i), erp.Target{Customer: "C-1"}, now)
		a.Text = "note"
		if got, _ := d.Deliver(ctx, a, Attempt{}); got != Retry {
			t.Fatalf("delivery %d: %s", i, got)
		}
	}
	a := erp.New("acme", erp.KindNote, "event:open", erp.Target{Customer: "C-1"}, now)
	a.Text = "note"
	got, err := d.Deliver(ctx, a, Attempt{})
	var e2 *erp.Error
	if got != Retry || !errors.As(err, &e2) || e2.Code != "circuit_open" || !e2.NotSent {
		t.Fatalf("open circuit: %s, %v", got, err)
	}
	if n := len(e.calls); n != 3 {
		t.Fatalf("%d ERP calls, want 3: the open circuit must stop the fourth", n)
	}
	b := erp.New("other", erp.KindNote, "event:x", erp.Target{Customer: "C-1"}, now)
	b.Text = "note"
	if got, err := d.Deliver(ctx, b, Attempt{}); got != Confirmed {
		t.Fatalf("other tenant: %s, %v", got, err)
	}
}

// TestLostSettleIsReconciled: when the confirmed state and its audit record
// cannot be written after the ERP applied the action, the delivery is
// retried once the lease passes, reads back, and settles without writing to
// the ERP again.
func TestLostSettleIsReconciled(t *testing.T) {
	e := &scripted{applied: map[string]int{}}
	s := newMemStore()
	s.failFinal = 1
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	d, _ := New(e, s, Options{Now: func() time.Time { return now }, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	a := action()
	if got, err := d.Deliver(context.Background(), a, Attempt{}); got != Retry || err == nil {
		t.Fatalf("first delivery: %s, %v", got, err)
	}
	// The failed write left the lease in place: nobody touches the action
	// until it passes.
	if got, err := d.Deliver(context.Background(), a, Attempt{}); got != Retry || !errors.Is(err, ErrInProgress) {
		t.Fatalf("delivery under the lease: %s, %v", got, err)
	}
	now = now.Add(DefaultLease + time.Second)
	if got, err := d.Deliver(context.Background(), a, Attempt{}); got != Reconciled || err != nil {
		t.Fatalf("second delivery: %s, %v", got, err)
	}
	if e.applied[a.Key] != 1 || len(s.records) != 1 {
		t.Fatalf("applied %d, audited %d", e.applied[a.Key], len(s.records))
	}
}

// TestConcurrentCopiesWaitForTheLease: a second copy of an action arriving
// while the first has a request out neither reads back nor writes; once the
// first settles, the copy is a duplicate.
func TestConcurrentCopiesWaitForTheLease(t *testing.T) {
	release := make(chan struct{})
	e := &blocking{scripted: scripted{applied: map[string]int{}}, release: release, entered: make(chan struct{})}
	s := newMemStore()
	d, _ := New(e, s, Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	a := action()
	first := make(chan Outcome)
	go func() {
		got, _ := d.Deliver(context.Background(), a, Attempt{})
		first <- got
	}()
	<-e.entered
	got, err := d.Deliver(context.Background(), a, Attempt{})
	if got != Retry || !errors.Is(err, ErrInProgress) {
		t.Fatalf("copy during the first's call: %s, %v", got, err)
	}
	close(release)
	if got := <-first; got != Confirmed {
		t.Fatalf("first: %s", got)
	}
	if got, _ := d.Deliver(context.Background(), a, Attempt{}); got != Duplicate {
		t.Fatalf("copy after: %s", got)
	}
	if e.applied[a.Key] != 1 || len(e.calls) != 1 {
		t.Fatalf("applied %d, calls %v", e.applied[a.Key], e.calls)
	}
}

// blocking is scripted with an Apply that waits to be released.
type blocking struct {
	scripted
	entered chan struct{}
	release chan struct{}
}

func (b *blocking) Apply(ctx context.Context, a erp.Action) (string, error) {
	close(b.entered)
	<-b.release
	return b.scripted.Apply(ctx, a)
}

// TestUnknownStateIsNotWritten: a status in a state the model does not
// know (edited by hand, or written by a newer version) is not moved.
func TestUnknownStateIsNotWritten(t *testing.T) {
	e := &scripted{applied: map[string]int{}}
	s := newMemStore()
	a := action()
	if err := s.Put(context.Background(), erp.Status{Action: a, State: "on_hold", Version: 1}, nil); err != nil {
		t.Fatal(err)
	}
	d, _ := New(e, s, Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if got, err := d.Deliver(context.Background(), a, Attempt{}); got != Retry || err == nil || len(e.calls) != 0 {
		t.Fatalf("%s, %v, calls %v", got, err, e.calls)
	}
	if st, _, _ := s.Get(context.Background(), a.Tenant, a.Key); st.State != "on_hold" || st.Version != 1 {
		t.Fatalf("status written: %+v", st)
	}
}
