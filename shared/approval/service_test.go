package approval_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/shared/approval"
	"github.com/recoup-dev/recoup/shared/approval/approvaltest"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
	"github.com/recoup-dev/recoup/shared/strategy"
)

var t0 = time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// checker is the guardrail stand-in: it checks its inputs and refuses
// texts promising what a collector may not promise.
type checker struct {
	mu    sync.Mutex
	calls int
}

func (c *checker) Check(_ context.Context, r approval.Request, d approval.Draft) ([]string, error) {
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
	if !approval.ValidID(r.ID) || r.Token == "" || r.Status != approval.StatusPending {
		return nil, fmt.Errorf("checker: called for request %+v", r)
	}
	if d.Channel == "" {
		return nil, errors.New("checker: the draft has no channel")
	}
	var out []string
	if strings.TrimSpace(d.Body) == "" {
		out = append(out, "empty: nothing to send")
	}
	if strings.Contains(d.Body, "arrest") {
		out = append(out, "banned_phrase: threat of arrest")
	}
	return out, nil
}

func (c *checker) Calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

type fixture struct {
	svc     *approval.Service
	store   *approvaltest.Memory
	resumer *approvaltest.Resumer
	check   *checker
	clock   *clock
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{store: approvaltest.NewMemory(), resumer: approvaltest.NewResumer(), check: &checker{}, clock: &clock{now: t0}}
	svc, err := approval.NewService(f.store, f.resumer, f.check.Check)
	if err != nil {
		t.Fatal(err)
	}
	svc.Now = f.clock.Now
	f.svc = svc
	return f
}

// register registers a waiting task for token and returns its request.
func (f *fixture) register(t *testing.T, tenant ledger.TenantID, token string) approval.Request {
	t.Helper()
	f.resumer.Wait(token)
	r, err := f.svc.Register(context.Background(), approvaltest.Payload(tenant, token))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestNewServiceRefusesMissingDependencies(t *testing.T) {
	if _, err := approval.NewService(nil, approvaltest.NewResumer(), nil); err == nil {
		t.Error("nil store accepted")
	}
	if _, err := approval.NewService(approvaltest.NewMemory(), nil, nil); err == nil {
		t.Error("nil resumer accepted")
	}
}

func TestRegisterStoresOnePendingRequestPerToken(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	got := f.register(t, "acme", "token-1")
	want := approval.Request{
		ID: approval.IDOf("token-1"), Tenant: "acme", Customer: "C1", Token: "token-1", CreatedAt: t0, Mode: "live",
		Execution: "arn:aws:states:us-east-1:123456789012:execution:recoup-cycle:acme-C1-1",
		Outcome:   "act", Action: "firm_reminder", Channel: "email",
		Reasons: []strategy.ApprovalReason{{Code: "dispute", Detail: "INV-3 is disputed"}, {Code: "high_balance", Detail: "over 10000.00"}},
		Totals:  []strategy.Amount{{Amount: money.New(1250000, money.MustCurrency("USD"))}},
		When:    time.Date(2025, 6, 3, 14, 0, 0, 0, time.UTC), Invoices: []string{"INV-1", "INV-2"}, Reason: "second reminder",
		Draft:  &approval.Draft{Channel: "email", Subject: "Invoices INV-1 and INV-2", Body: "Dear Pat, invoices INV-1 and INV-2 are overdue."},
		Status: approval.StatusPending,
	}
	if diff := cmp.Diff(want, got, append(approvaltest.CmpOptions, cmp.FilterPath(func(p cmp.Path) bool {
		return p.Last().String() == ".Decision"
	}, cmp.Ignore()))...); diff != "" {
		t.Errorf("registered (-want +got):\n%s", diff)
	}
	if !json.Valid(got.Decision) || !strings.Contains(string(got.Decision), `"wait_seconds":3600`) {
		t.Errorf("the decision is kept whole and compact: %s", got.Decision)
	}

	// Step Functions retries the invoke: same token, later.
	f.clock.Advance(time.Minute)
	again, err := f.svc.Register(ctx, approvaltest.Payload("acme", "token-1"))
	if err != nil {
		t.Fatal(err)
	}
	if !again.CreatedAt.Equal(t0) || f.store.Len() != 1 {
		t.Errorf("second registration: created %v, %d requests stored; want the first, one", again.CreatedAt, f.store.Len())
	}
}

func TestRegisterRefusesUnusablePayloadsAndFailsTheTask(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*approval.Payload)
		field  string
		failed bool // the task is failed through SendTaskFailure
	}{
		{"no token", func(p *approval.Payload) { p.Token = "" }, "token", false},
		{"no execution", func(p *approval.Payload) { p.Execution = "" }, "execution", true},
		{"tenant with #", func(p *approval.Payload) { p.Tenant = "ac#me" }, "tenant", true},
		{"no customer", func(p *approval.Payload) { p.Customer = "" }, "customer", true},
		{"decision not an object", func(p *approval.Payload) { p.Decision = json.RawMessage(`[1]`) }, "decision", true},
		{"no decision", func(p *approval.Payload) { p.Decision = nil }, "decision", true},
		{"decision of another tenant", func(p *approval.Payload) {
			p.Decision = json.RawMessage(`{"tenant":"other","customer":"C1"}`)
		}, "decision.tenant", true},
		{"decision of another customer", func(p *approval.Payload) {
			p.Decision = json.RawMessage(`{"tenant":"acme","customer":"C2"}`)
		}, "decision.customer", true},
		{"amount in an unknown currency", func(p *approval.Payload) {
			p.Decision = json.RawMessage(`{"totals":[{"currency":"XYZ","minor":1}]}`)
		}, "decision", true},
		{"draft not an object", func(p *approval.Payload) { p.Draft = json.RawMessage(`"hello"`) }, "draft", true},
		{"draft body too long", func(p *approval.Payload) {
			p.Draft = json.RawMessage(`{"body":"` + strings.Repeat("a", approval.MaxBodyBytes+1) + `"}`)
		}, "draft.body", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			p := approvaltest.Payload("acme", "token-bad")
			tc.edit(&p)
			f.resumer.Wait(p.Token)
			_, err := f.svc.Register(context.Background(), p)
			var fe *approval.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field || !errors.Is(err, approval.ErrInvalid) {
				t.Fatalf("err %v, want a FieldError for %s", err, tc.field)
			}
			if strings.Contains(err.Error(), "token-bad") {
				t.Errorf("the error quotes the token: %v", err)
			}
			if f.store.Len() != 0 {
				t.Error("an unusable payload was stored")
			}
			var want []approvaltest.Failure
			if tc.failed {
				want = []approvaltest.Failure{{Token: "token-bad", Code: approval.FailureInvalid, Cause: err.Error()}}
			}
			if diff := cmp.Diff(want, f.resumer.Failures()); diff != "" {
				t.Errorf("task failures (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRegisterWithoutADraft(t *testing.T) {
	f := newFixture(t)
	p := approvaltest.Payload("acme", "token-review")
	p.Draft = json.RawMessage(`null`)
	r, err := f.svc.Register(context.Background(), p)
	if err != nil || r.Draft != nil || r.MessageChannel() != "email" {
		t.Fatalf("draft %+v channel %q, %v", r.Draft, r.MessageChannel(), err)
	}
}

func TestDecide(t *testing.T) {
	edited := func(body string) *approval.Draft { return &approval.Draft{Subject: "Invoices", Body: body} }
	tests := []struct {
		name    string
		verdict approval.Verdict
		noCheck bool // the service has no checker
		// want
		err         error
		field       string
		violations  []string
		output      *approval.Verdict // what the execution resumes with
		checkerUsed bool
	}{
		{name: "approved", verdict: approval.Verdict{Kind: approval.Approved, By: "col-7", Note: "fine"},
			output: &approval.Verdict{Kind: approval.Approved, By: "col-7", At: t0, Note: "fine"}},
		{name: "rejected", verdict: approval.Verdict{Kind: approval.Rejected, By: "col-7", Note: "customer called"},
			output: &approval.Verdict{Kind: approval.Rejected, By: "col-7", At: t0, Note: "customer called"}},
		{name: "handed off", verdict: approval.Verdict{Kind: approval.HandedOff, By: "col-7"},
			output: &approval.Verdict{Kind: approval.HandedOff, By: "col-7", At: t0}},
		{name: "edited, passes the guardrails", verdict: approval.Verdict{Kind: approval.Edited, By: "col-7", Draft: edited("Dear Pat, please pay INV-1.")},
			output: &approval.Verdict{Kind: approval.Edited, By: "col-7", At: t0,
				Draft: &approval.Draft{Channel: "email", Subject: "Invoices", Body: "Dear Pat, please pay INV-1."}},
			checkerUsed: true},
		{name: "edited, fails the guardrails", verdict: approval.Verdict{Kind: approval.Edited, By: "col-7", Draft: edited("Pay or face arrest.")},
			err: approval.ErrGuardrails, violations: []string{"banned_phrase: threat of arrest"}, checkerUsed: true},
		{name: "edited, empty", verdict: approval.Verdict{Kind: approval.Edited, By: "col-7", Draft: edited("  ")},
			err: approval.ErrGuardrails, violations: []string{"empty: nothing to send"}, checkerUsed: true},
		{name: "edited, no checker", verdict: approval.Verdict{Kind: approval.Edited, By: "col-7", Draft: edited("Dear Pat")}, noCheck: true,
			err: approval.ErrGuardrails, violations: []string{"edited drafts cannot be checked here"}},
		{name: "unknown verdict", verdict: approval.Verdict{Kind: "maybe", By: "col-7"}, err: approval.ErrInvalid, field: "verdict"},
		{name: "no collector", verdict: approval.Verdict{Kind: approval.Approved}, err: approval.ErrInvalid, field: "by"},
		{name: "edited without a draft", verdict: approval.Verdict{Kind: approval.Edited, By: "col-7"}, err: approval.ErrInvalid, field: "draft"},
		{name: "approved with a draft", verdict: approval.Verdict{Kind: approval.Approved, By: "col-7", Draft: edited("x")}, err: approval.ErrInvalid, field: "draft"},
		{name: "note too long", verdict: approval.Verdict{Kind: approval.Approved, By: "col-7", Note: strings.Repeat("é", approval.MaxNoteRunes+1)},
			err: approval.ErrInvalid, field: "note"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if tc.noCheck {
				svc, err := approval.NewService(f.store, f.resumer, nil)
				if err != nil {
					t.Fatal(err)
				}
				svc.Now = f.clock.Now
				f.svc = svc
			}
			r := f.register(t, "acme", "token-1")
			got, err := f.svc.Decide(context.Background(), "acme", r.ID, tc.verdict)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			var fe *approval.FieldError
			if tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field) {
				t.Errorf("err %v, want it to name %s", err, tc.field)
			}
			var ge *approval.GuardrailError
			if tc.violations != nil {
				if !errors.As(err, &ge) {
					t.Fatalf("err %v, want a GuardrailError", err)
				}
				if diff := cmp.Diff(tc.violations, ge.Violations); diff != "" {
					t.Errorf("violations (-want +got):\n%s", diff)
				}
			}
			if (f.check.Calls() > 0) != tc.checkerUsed {
				t.Errorf("checker called %d times, want used %v", f.check.Calls(), tc.checkerUsed)
			}
			stored, serr := f.store.Get(context.Background(), "acme", r.ID)
			if serr != nil {
				t.Fatal(serr)
			}
			if tc.output == nil {
				if len(f.resumer.Successes()) != 0 || stored.Status != approval.StatusPending || stored.Verdict != nil {
					t.Errorf("a refused verdict changed something: %d resumes, stored %s", len(f.resumer.Successes()), stored.Status)
				}
				return
			}
			want := []approvaltest.Success{{Token: "token-1", Output: *tc.output}}
			if diff := cmp.Diff(want, f.resumer.Successes()); diff != "" {
				t.Errorf("resumes (-want +got):\n%s", diff)
			}
			if got.Status != approval.StatusDecided || !got.Resumed || got.Token != "" || cmp.Diff(tc.output, got.Verdict) != "" {
				t.Errorf("result: status %s resumed %v token kept %v verdict %+v", got.Status, got.Resumed, got.Token != "", got.Verdict)
			}
			if stored.Status != approval.StatusDecided || !stored.Resumed || stored.Token != "" {
				t.Errorf("stored: status %s resumed %v token kept %v", stored.Status, stored.Resumed, stored.Token != "")
			}
		})
	}
}

func TestDecideValidatesTheKey(t *testing.T) {
	f := newFixture(t)
	v := approval.Verdict{Kind: approval.Approved, By: "col-7"}
	for _, tc := range []struct {
		tenant ledger.TenantID
		id     string
		err    error
		field  string
	}{
		{"acme", approval.IDOf("nobody"), approval.ErrNotFound, ""},
		{"acme", "not-an-id", approval.ErrInvalid, "id"},
		{"", approval.IDOf("x"), approval.ErrInvalid, "tenant"},
	} {
		_, err := f.svc.Decide(context.Background(), tc.tenant, tc.id, v)
		var fe *approval.FieldError
		if !errors.Is(err, tc.err) || (tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field)) {
			t.Errorf("%q/%q: %v, want %v naming %q", tc.tenant, tc.id, err, tc.err, tc.field)
		}
	}
}

func TestTheSameVerdictTwiceResumesOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.register(t, "acme", "token-1")
	v := approval.Verdict{Kind: approval.Edited, By: "col-7", Note: "softer", Draft: &approval.Draft{Subject: "Invoices", Body: "Dear Pat"}}
	first, err := f.svc.Decide(ctx, "acme", r.ID, v)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	second, err := f.svc.Decide(ctx, "acme", r.ID, v)
	if err != nil {
		t.Fatalf("the same verdict again: %v", err)
	}
	if diff := cmp.Diff(first, second, approvaltest.CmpOptions...); diff != "" {
		t.Errorf("second result differs from the first (-first +second):\n%s", diff)
	}
	if n := len(f.resumer.Successes()); n != 1 {
		t.Errorf("%d resumes, want 1", n)
	}
	if f.check.Calls() != 1 {
		t.Errorf("checker called %d times; a decided request's draft is not checked again", f.check.Calls())
	}
}

func TestAnotherVerdictAfterADecisionConflicts(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.register(t, "acme", "token-1")
	first := approval.Verdict{Kind: approval.Approved, By: "col-7"}
	if _, err := f.svc.Decide(ctx, "acme", r.ID, first); err != nil {
		t.Fatal(err)
	}
	for _, v := range []approval.Verdict{
		{Kind: approval.Rejected, By: "col-7"},
		{Kind: approval.Approved, By: "col-8"},
		{Kind: approval.Approved, By: "col-7", Note: "also fine"},
	} {
		_, err := f.svc.Decide(ctx, "acme", r.ID, v)
		var de *approval.DecidedError
		if !errors.As(err, &de) || !errors.Is(err, approval.ErrAlreadyDecided) {
			t.Fatalf("%+v: %v, want ErrAlreadyDecided", v, err)
		}
		want := first
		want.At = t0
		if diff := cmp.Diff(want, de.Verdict); diff != "" {
			t.Errorf("the conflict names the first verdict (-want +got):\n%s", diff)
		}
	}
	if n := len(f.resumer.Successes()); n != 1 {
		t.Errorf("%d resumes, want 1", n)
	}
}

func TestDecideAfterTheExecutionEnded(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.register(t, "acme", "token-1")
	f.resumer.End("token-1") // timed out, or the execution was stopped
	v := approval.Verdict{Kind: approval.Approved, By: "col-7"}
	got, err := f.svc.Decide(ctx, "acme", r.ID, v)
	if !errors.Is(err, approval.ErrExpired) {
		t.Fatalf("err %v, want ErrExpired", err)
	}
	if got.Status != approval.StatusExpired {
		t.Errorf("result status %s, want expired", got.Status)
	}
	stored, _ := f.store.Get(ctx, "acme", r.ID)
	if stored.Status != approval.StatusExpired || stored.Token != "" || !stored.ExpiredAt.Equal(t0) {
		t.Errorf("stored: %s, token kept %v, expired at %v", stored.Status, stored.Token != "", stored.ExpiredAt)
	}
	// Any later verdict, same or not, is told the same without calling
	// Step Functions again.
	before := f.store.Calls("Decide")
	for _, v := range []approval.Verdict{v, {Kind: approval.Rejected, By: "col-8"}} {
		if _, err := f.svc.Decide(ctx, "acme", r.ID, v); !errors.Is(err, approval.ErrExpired) {
			t.Errorf("again: %v, want ErrExpired", err)
		}
	}
	if f.store.Calls("Decide") != before {
		t.Error("an expired request was decided again")
	}
	page, err := f.svc.Pending(ctx, "acme", "", 0)
	if err != nil || len(page.Requests) != 0 {
		t.Errorf("pending after expiry: %d, %v", len(page.Requests), err)
	}
}

func TestDecideAfterTheApprovalTimeout(t *testing.T) {
	f := newFixture(t)
	r := f.register(t, "acme", "token-1")
	f.clock.Advance(approval.DefaultTimeout + time.Second)
	_, err := f.svc.Decide(context.Background(), "acme", r.ID, approval.Verdict{Kind: approval.Approved, By: "col-7"})
	if !errors.Is(err, approval.ErrExpired) {
		t.Fatalf("err %v, want ErrExpired", err)
	}
	if f.store.Calls("Decide") != 0 || len(f.resumer.Successes()) != 0 {
		t.Error("a timed-out request was decided or resumed")
	}
}

func TestATransientResumeFailureIsRetriedWithTheSameVerdict(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.register(t, "acme", "token-1")
	fail := true
	f.resumer.Before = func(string) error {
		if fail {
			fail = false
			return fmt.Errorf("ThrottlingException: %w", approval.ErrTransient)
		}
		return nil
	}
	v := approval.Verdict{Kind: approval.Approved, By: "col-7"}
	if _, err := f.svc.Decide(ctx, "acme", r.ID, v); !errors.Is(err, approval.ErrTransient) {
		t.Fatalf("err %v, want ErrTransient", err)
	}
	stored, _ := f.store.Get(ctx, "acme", r.ID)
	if stored.Status != approval.StatusDecided || stored.Resumed || !stored.LeaseUntil.IsZero() || stored.Token == "" {
		t.Fatalf("after the failure: %s resumed %v lease %v token kept %v; want decided, not resumed, lease released, token kept",
			stored.Status, stored.Resumed, stored.LeaseUntil, stored.Token != "")
	}
	// Another collector cannot slip in a different verdict meanwhile.
	if _, err := f.svc.Decide(ctx, "acme", r.ID, approval.Verdict{Kind: approval.Rejected, By: "col-8"}); !errors.Is(err, approval.ErrAlreadyDecided) {
		t.Errorf("different verdict after the failure: %v, want ErrAlreadyDecided", err)
	}
	f.clock.Advance(time.Second)
	got, err := f.svc.Decide(ctx, "acme", r.ID, v)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if !got.Resumed || !got.Verdict.At.Equal(t0) {
		t.Errorf("retry: resumed %v verdict at %v; want resumed with the first verdict's time", got.Resumed, got.Verdict.At)
	}
	if n := len(f.resumer.Successes()); n != 1 {
		t.Errorf("%d resumes, want 1", n)
	}
}

// TestALostAnswerIsCheckedBeforeExpiring: SendTaskSuccess resumed the
// execution but its answer was lost. The retry finds the task gone; the
// execution's history shows it took this verdict, so the request ends
// resumed, not expired. When the history cannot be read the request stays
// decided for another retry; when it shows no such verdict it expires.
func TestALostAnswerIsCheckedBeforeExpiring(t *testing.T) {
	v := approval.Verdict{Kind: approval.Approved, By: "col-7"}
	for _, tc := range []struct {
		name       string
		lost       bool  // the first answer is lost after the task took the verdict
		historyErr error // reading the history fails
		wantErr    error // of the retry; nil: resumed
		wantStatus approval.Status
		wantResume bool
	}{
		{name: "taken, answer lost", lost: true, wantStatus: approval.StatusDecided, wantResume: true},
		{name: "taken, history unreadable", lost: true, historyErr: fmt.Errorf("ThrottlingException: %w", approval.ErrTransient),
			wantErr: approval.ErrTransient, wantStatus: approval.StatusDecided},
		{name: "task ended without it", wantErr: approval.ErrExpired, wantStatus: approval.StatusExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			r := f.register(t, "acme", "token-1")
			if tc.lost {
				f.resumer.After = func(string) error {
					return fmt.Errorf("NoAnswer: the connection broke after sending: %w", approval.ErrTransient)
				}
				if _, err := f.svc.Decide(ctx, "acme", r.ID, v); !errors.Is(err, approval.ErrTransient) {
					t.Fatalf("first decide: %v, want ErrTransient", err)
				}
				f.resumer.After = nil
			} else {
				f.resumer.End("token-1") // stopped before anyone decided
			}
			f.resumer.HistoryErr = tc.historyErr
			f.clock.Advance(time.Minute)
			got, err := f.svc.Decide(ctx, "acme", r.ID, v)
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("retry: %v, want %v", err, tc.wantErr)
			}
			stored, _ := f.store.Get(ctx, "acme", r.ID)
			if stored.Status != tc.wantStatus || stored.Resumed != tc.wantResume {
				t.Errorf("stored %s resumed %v, want %s resumed %v", stored.Status, stored.Resumed, tc.wantStatus, tc.wantResume)
			}
			if tc.wantResume && !got.Resumed {
				t.Errorf("retry returned resumed %v, want true", got.Resumed)
			}
			if n := len(f.resumer.Successes()); n > 1 {
				t.Errorf("%d tasks resumed, want at most 1", n)
			}
		})
	}
}

// leakyLeases fails Release, so a failed decider's lease stays until it
// lapses.
type leakyLeases struct{ *approvaltest.Memory }

func (leakyLeases) Release(context.Context, ledger.TenantID, string, string) error {
	return errors.New("injected: release failed")
}

func TestAnUnreleasedLeaseDelaysTheRetryUntilItLapses(t *testing.T) {
	f := newFixture(t)
	svc, err := approval.NewService(leakyLeases{f.store}, f.resumer, f.check.Check)
	if err != nil {
		t.Fatal(err)
	}
	svc.Now = f.clock.Now
	ctx := context.Background()
	r := f.register(t, "acme", "token-1")
	calls := 0
	f.resumer.Before = func(string) error {
		if calls++; calls == 1 {
			return fmt.Errorf("503: %w", approval.ErrTransient)
		}
		return nil
	}
	v := approval.Verdict{Kind: approval.Approved, By: "col-7"}
	if _, err := svc.Decide(ctx, "acme", r.ID, v); !errors.Is(err, approval.ErrTransient) {
		t.Fatalf("first: %v, want ErrTransient", err)
	}
	if _, err := svc.Decide(ctx, "acme", r.ID, v); !errors.Is(err, approval.ErrInProgress) {
		t.Fatalf("within the lease: %v, want ErrInProgress", err)
	}
	f.clock.Advance(approval.DefaultLease)
	if _, err := svc.Decide(ctx, "acme", r.ID, v); err != nil {
		t.Fatalf("after the lease: %v", err)
	}
	if n := len(f.resumer.Successes()); n != 1 {
		t.Errorf("%d resumes, want 1", n)
	}
}

// forgetful fails to record that the execution resumed.
type forgetful struct{ *approvaltest.Memory }

func (forgetful) Resumed(context.Context, ledger.TenantID, string, time.Time) error {
	return errors.New("injected: write failed")
}

func TestAResumeIsASuccessEvenIfRecordingItFails(t *testing.T) {
	f := newFixture(t)
	svc, err := approval.NewService(forgetful{f.store}, f.resumer, f.check.Check)
	if err != nil {
		t.Fatal(err)
	}
	svc.Now = f.clock.Now
	r := f.register(t, "acme", "token-1")
	got, err := svc.Decide(context.Background(), "acme", r.ID, approval.Verdict{Kind: approval.Approved, By: "col-7"})
	if err != nil || !got.Resumed {
		t.Fatalf("resumed %v, %v; the execution has the verdict", got.Resumed, err)
	}
}

func TestConcurrentDecidersResumeOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		same bool
	}{{"same verdict", true}, {"different verdicts", false}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			r := f.register(t, "acme", "token-1")
			release := make(chan struct{})
			var once sync.Once
			f.resumer.Before = func(string) error {
				<-release // hold the winner inside the resume while the others arrive
				return nil
			}
			const n = 8
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					by := "col-7"
					if !tc.same {
						by = fmt.Sprintf("col-%d", i)
					}
					_, errs[i] = f.svc.Decide(context.Background(), "acme", r.ID, approval.Verdict{Kind: approval.Approved, By: by})
				})
			}
			time.AfterFunc(50*time.Millisecond, func() { once.Do(func() { close(release) }) })
			wg.Wait()
			ok := 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case errors.Is(err, approval.ErrInProgress) && tc.same:
				case errors.Is(err, approval.ErrAlreadyDecided) && !tc.same:
				default:
					t.Errorf("unexpected error %v", err)
				}
			}
			if ok < 1 {
				t.Error("nobody succeeded")
			}
			if got := len(f.resumer.Successes()); got != 1 {
				t.Errorf("%d resumes, want exactly 1", got)
			}
		})
	}
}

func TestPendingListsOldestFirstAndExpiresStaleRequests(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	old := f.register(t, "acme", "token-old")
	f.clock.Advance(approval.DefaultTimeout - time.Hour)
	var want []string
	for i := range 3 {
		f.clock.Advance(time.Minute)
		want = append(want, f.register(t, "acme", fmt.Sprintf("token-%d", i)).ID)
	}
	f.register(t, "other", "token-other")
	decided := f.register(t, "acme", "token-decided")
	if _, err := f.svc.Decide(ctx, "acme", decided.ID, approval.Verdict{Kind: approval.Rejected, By: "col-7"}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Hour) // the oldest is now past the Approval state's timeout

	var got []string
	after := ""
	for range 4 {
		page, err := f.svc.Pending(ctx, "acme", after, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Requests {
			got = append(got, r.ID)
		}
		if after = page.Next; after == "" {
			break
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pending (-want +got):\n%s", diff)
	}
	if s, _ := f.store.Get(ctx, "acme", old.ID); s.Status != approval.StatusExpired {
		t.Errorf("stale request is %s, want expired", s.Status)
	}
	for _, tc := range []struct {
		after string
		limit int
		field string
	}{{"", -1, "limit"}, {"", approval.MaxPageSize + 1, "limit"}, {"garbage", 0, "after"}} {
		_, err := f.svc.Pending(ctx, "acme", tc.after, tc.limit)
		var fe *approval.FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("after %q limit %d: %v, want a FieldError for %s", tc.after, tc.limit, err, tc.field)
		}
	}
}

func TestVerdictOutputIsWhatTheStateMachineReads(t *testing.T) {
	v := approval.Verdict{Kind: approval.Edited, By: "col-7", At: time.Date(2025, 6, 2, 11, 0, 0, 0, time.FixedZone("EDT", -4*3600)),
		Note: "softer", Draft: &approval.Draft{Channel: "email", Subject: "S", Body: "B"}}
	out, err := v.Output()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"verdict":"edited","by":"col-7","at":"2025-06-02T15:00:00Z","note":"softer","draft":{"channel":"email","subject":"S","body":"B"}}`
	if string(out) != want {
		t.Errorf("output\n got %s\nwant %s", out, want)
	}
	out, _ = approval.Verdict{Kind: approval.Rejected, By: "col-7", At: t0}.Output()
	if want := `{"verdict":"rejected","by":"col-7","at":"2025-06-02T09:00:00Z"}`; string(out) != want {
		t.Errorf("output\n got %s\nwant %s", out, want)
	}
}

func TestIDOfIsStableAndShort(t *testing.T) {
	id := approval.IDOf("AAAAKgAAAAIAAAAAAAAAAQ")
	if !approval.ValidID(id) || id != approval.IDOf("AAAAKgAAAAIAAAAAAAAAAQ") || id == approval.IDOf("AAAAKgAAAAIAAAAAAAAAAR") {
		t.Errorf("IDOf gives %q", id)
	}
	for _, bad := range []string{"", "ABCDEF0123456789abcdef0123456789", id[:31], id + "0", "g" + id[1:]} {
		if approval.ValidID(bad) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
}
