package cycle

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/strategy"
)

type memRuns struct {
	mu   sync.Mutex
	runs map[string]Run
}

func (m *memRuns) Get(_ context.Context, t ledger.TenantID, c string) (Run, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.runs[string(t)+"/"+c]
	return r, ok, nil
}

func (m *memRuns) Put(_ context.Context, r Run) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.runs == nil {
		m.runs = map[string]Run{}
	}
	m.runs[string(r.Tenant)+"/"+r.Customer] = r
	return nil
}

func (m *memRuns) Begin(ctx context.Context, r Run) error {
	m.mu.Lock()
	cur, ok := m.runs[string(r.Tenant)+"/"+r.Customer]
	m.mu.Unlock()
	if ok && cur.Execution == r.Execution {
		return nil
	}
	return m.Put(ctx, r)
}

func (m *memRuns) Runs(_ context.Context, t ledger.TenantID, customers []string) (map[string]Run, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]Run{}
	for _, c := range customers {
		if r, ok := m.runs[string(t)+"/"+c]; ok {
			out[c] = r
		}
	}
	return out, nil
}

func (m *memRuns) TakeToken(_ context.Context, t ledger.TenantID, c, token string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.runs[string(t)+"/"+c]
	if !ok || r.Token != token {
		return false, nil
	}
	r.Token = ""
	m.runs[string(t)+"/"+c] = r
	return true, nil
}

// fakeExecutions is Step Functions as the cycle sees it.
type fakeExecutions struct {
	running map[string]bool   // execution → running
	tasks   map[string]string // live token → execution
	sendErr error
	sent    []string // outputs
	// onStart runs as an execution starts: the cycle racing its starter.
	onStart func(arn string)
	started []string // names
}

func (f *fakeExecutions) Start(_ context.Context, machine, name string, input []byte) (string, error) {
	arn := strings.Replace(machine, ":stateMachine:", ":execution:", 1) + ":" + name
	if f.running[arn] {
		return arn, nil
	}
	if _, ran := f.running[arn]; ran {
		return "", ErrAlreadyRan
	}
	var in map[string]string
	if err := json.Unmarshal(input, &in); err != nil || in["tenant"] == "" || in["customer"] == "" || in["mode"] == "" {
		return "", errors.New("bad input " + string(input))
	}
	f.running[arn] = true
	if f.onStart != nil {
		f.onStart(arn)
	}
	f.started = append(f.started, name)
	return arn, nil
}

func (f *fakeExecutions) Running(_ context.Context, arn string) (bool, error) {
	return f.running[arn], nil
}

func (f *fakeExecutions) SendTaskSuccess(_ context.Context, token string, out json.RawMessage) error {
	if f.sendErr != nil {
		return f.sendErr
	}
	if _, ok := f.tasks[token]; !ok {
		return ErrTaskGone
	}
	delete(f.tasks, token)
	f.sent = append(f.sent, string(out))
	return nil
}

type replans []Replan

func (r replans) ReplansOf(context.Context, ledger.TenantID, string, time.Time) ([]Replan, error) {
	return r, nil
}

const machine = "arn:aws:states:us-east-1:000000000000:stateMachine:recoup-cycle"

func TestWake(t *testing.T) {
	now := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
	exec := "arn:aws:states:us-east-1:000000000000:execution:recoup-cycle:acme-C1-20260309"
	ref := Ref{Tenant: "acme", Customer: "C1"}
	for _, tc := range []struct {
		name    string
		run     *Run
		running bool
		task    bool // the run's token is live
		sendErr error
		in      WakeInput
		want    Woken
		sent    int
		token   string // the run's token afterwards
		err     bool
	}{
		{name: "parked: woken", run: &Run{Execution: exec, Token: "tok"}, running: true, task: true,
			in: WakeInput{Ref: ref, Reason: "payment received"}, want: Woken{Action: "woken", Execution: exec, Customer: "C1"}, sent: 1},
		{name: "parked, daily run before its time: left waiting", run: &Run{Execution: exec, Token: "tok", Until: now.Add(time.Hour)}, running: true, task: true,
			in: WakeInput{Ref: ref, Reason: "daily", Start: true, Mode: ModeLive, AsOf: now}, want: Woken{Action: "waiting", Execution: exec, Customer: "C1"}, token: "tok"},
		{name: "parked, daily run after its time: woken", run: &Run{Execution: exec, Token: "tok", Until: now.Add(-time.Minute)}, running: true, task: true,
			in: WakeInput{Ref: ref, Reason: "daily", Start: true, Mode: ModeLive, AsOf: now}, want: Woken{Action: "woken", Execution: exec, Customer: "C1"}, sent: 1},
		{name: "parked before its time, an event: woken", run: &Run{Execution: exec, Token: "tok", Until: now.Add(time.Hour)}, running: true, task: true,
			in: WakeInput{Ref: ref, Reason: "payment received"}, want: Woken{Action: "woken", Execution: exec, Customer: "C1"}, sent: 1},
		{name: "busy, not parked: left to plan", run: &Run{Execution: exec}, running: true,
			in: WakeInput{Ref: ref, Reason: "x", Start: true, Mode: ModeLive}, want: Woken{Action: "running", Execution: exec, Customer: "C1"}},
		{name: "parked token timed out, execution replanning", run: &Run{Execution: exec, Token: "tok"}, running: true,
			in: WakeInput{Ref: ref, Reason: "x"}, want: Woken{Action: "running", Execution: exec, Customer: "C1"}},
		{name: "no run, event: nothing to wake", in: WakeInput{Ref: ref, Reason: "x"}, want: Woken{Action: "none", Customer: "C1"}},
		{name: "no run, daily: started", in: WakeInput{Ref: ref, Reason: "daily", Start: true, Mode: ModeLive, AsOf: now},
			want: Woken{Action: "started", Execution: "arn:aws:states:us-east-1:000000000000:execution:recoup-cycle:acme-C1-20260310", Customer: "C1"}},
		{name: "ended run, daily: a new one", run: &Run{Execution: exec}, in: WakeInput{Ref: ref, Reason: "daily", Start: true, Mode: ModeShadow, AsOf: now},
			want: Woken{Action: "started", Execution: "arn:aws:states:us-east-1:000000000000:execution:recoup-cycle:acme-C1-20260310", Customer: "C1"}},
		{name: "today's ran and closed: none", run: &Run{Execution: "arn:aws:states:us-east-1:000000000000:execution:recoup-cycle:acme-C1-20260310"},
			in: WakeInput{Ref: ref, Reason: "daily", Start: true, Mode: ModeLive, AsOf: now}, want: Woken{Action: "none", Customer: "C1"}},
		{name: "Step Functions down: transient, token kept", run: &Run{Execution: exec, Token: "tok"}, running: true, task: true,
			sendErr: errors.New("connection refused"), in: WakeInput{Ref: ref, Reason: "x"}, token: "tok", err: true},
		{name: "bad mode", in: WakeInput{Ref: ref, Start: true, Mode: "loud"}, err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runs := &memRuns{}
			ex := &fakeExecutions{running: map[string]bool{}, tasks: map[string]string{}, sendErr: tc.sendErr}
			if tc.run != nil {
				r := *tc.run
				r.Tenant, r.Customer = "acme", "C1"
				_ = runs.Put(context.Background(), r)
				ex.running[r.Execution] = tc.running
				if tc.task {
					ex.tasks[r.Token] = r.Execution
				}
			}
			w := &Waker{Runs: runs, Executions: ex, Machine: machine, Now: func() time.Time { return now }}
			got, err := w.Wake(context.Background(), tc.in)
			if (err != nil) != tc.err {
				t.Fatalf("error %v, want error %v", err, tc.err)
			}
			if tc.err {
				if tc.sendErr != nil && !errors.As(err, new(Transient)) {
					t.Errorf("error %v is not transient", err)
				}
				if r, _, _ := runs.Get(context.Background(), "acme", "C1"); r.Token != tc.token {
					t.Errorf("token %q after a failed wake, want %q", r.Token, tc.token)
				}
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("woken (-want +got):\n%s", diff)
			}
			if len(ex.sent) != tc.sent {
				t.Errorf("%d tokens sent, want %d", len(ex.sent), tc.sent)
			}
			if got.Action == "started" {
				if r, _, _ := runs.Get(context.Background(), "acme", "C1"); r.Execution != got.Execution || r.Token != "" {
					t.Errorf("run %+v after the start", r)
				}
			}
			// A second wake never sends the same token twice.
			if tc.sent > 0 {
				if _, err := w.Wake(context.Background(), tc.in); err != nil || len(ex.sent) != tc.sent {
					t.Errorf("second wake: %v, %d sent", err, len(ex.sent))
				}
			}
		})
	}
}

// TestParkWakesOnALateReplan: a STOP recorded after the plan was made
// wakes the execution the moment it parks, so it plans again instead of
// waiting days.
func TestPark(t *testing.T) {
	now := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
	exec := "arn:aws:states:us-east-1:000000000000:execution:recoup-cycle:acme-C1-20260310"
	plan := Plan{Route: RouteAct, WaitSeconds: 3600}
	plan.Trace = strategy.Trace{Facts: strategy.Facts{Now: now.Add(-time.Minute)}}
	for _, tc := range []struct {
		name    string
		replans replans
		sent    []string
		token   string
	}{
		{"no event: waits", nil, nil, "tok"},
		{"a STOP since the plan: woken at once", replans{{Event: "e1", Reason: "opt-out reply", At: now.Add(-30 * time.Second)}},
			[]string{`{"reason":"opt-out reply","event":"e1","at":"2026-03-10T15:00:00Z"}`}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runs := &memRuns{}
			ex := &fakeExecutions{running: map[string]bool{exec: true}, tasks: map[string]string{"tok": exec}}
			p := &Parker{Runs: runs, Executions: ex, Replans: tc.replans, Now: func() time.Time { return now }}
			if err := p.Park(context.Background(), ParkInput{Ref: Ref{Tenant: "acme", Customer: "C1", Execution: exec}, Token: "tok", Decision: plan}); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.sent, ex.sent); diff != "" {
				t.Errorf("sent (-want +got):\n%s", diff)
			}
			r, _, _ := runs.Get(context.Background(), "acme", "C1")
			want := Run{Tenant: "acme", Customer: "C1", Execution: exec, Token: tc.token, Until: now.Add(time.Hour), At: now}
			if diff := cmp.Diff(want, r); diff != "" {
				t.Errorf("run (-want +got):\n%s", diff)
			}
		})
	}
	p := &Parker{Runs: &memRuns{}, Executions: &fakeExecutions{}, Replans: replans(nil), Now: time.Now}
	if err := p.Park(context.Background(), ParkInput{Ref: Ref{Tenant: "acme", Customer: "C1"}, Token: "tok"}); !errors.Is(err, ErrInput) {
		t.Errorf("park without an execution: %v", err)
	}
}

func TestExecutionName(t *testing.T) {
	day := time.Date(2026, 3, 10, 23, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		tenant   ledger.TenantID
		customer string
		want     string
	}{
		{"acme", "C1", "acme-C1-20260310"},
		{"acme", "C.1/x", "20260310-"},
		{"acme", strings.Repeat("c", 80), "20260310-"},
	} {
		got := ExecutionName(tc.tenant, tc.customer, day)
		if !strings.HasPrefix(got, tc.want) || len(got) > 80 || nameUnsafe.MatchString(got) {
			t.Errorf("ExecutionName(%s, %s) = %q", tc.tenant, tc.customer, got)
		}
	}
	if ExecutionName("acme", "C.1", day) == ExecutionName("acme", "C_1", day) {
		t.Error("two customers share a name")
	}
}

// TestWakeStartRacesPark: a cycle that reaches Park (and records its
// token) before its starter records the start keeps its token, so the
// next wake still finds it.
func TestWakeStartRacesPark(t *testing.T) {
	now := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
	runs := &memRuns{}
	ex := &fakeExecutions{running: map[string]bool{}, tasks: map[string]string{}}
	ex.onStart = func(arn string) {
		_ = runs.Put(context.Background(), Run{Tenant: "acme", Customer: "C1", Execution: arn, Token: "tok", Until: now.Add(time.Hour), At: now})
	}
	w := &Waker{Runs: runs, Executions: ex, Machine: machine, Now: func() time.Time { return now }}
	got, err := w.Wake(context.Background(), WakeInput{Ref: Ref{Tenant: "acme", Customer: "C1"}, Reason: "daily", Start: true, Mode: ModeLive, AsOf: now})
	if err != nil || got.Action != "started" {
		t.Fatalf("wake: %+v, %v; want started", got, err)
	}
	if r, _, _ := runs.Get(context.Background(), "acme", "C1"); r.Token != "tok" || r.Execution != got.Execution {
		t.Errorf("run after the start %+v: the parked cycle's token was lost", r)
	}
}
