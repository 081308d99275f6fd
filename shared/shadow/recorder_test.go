package shadow_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/cycle"
	"github.com/recoup-dev/recoup/shared/shadow"
	"github.com/recoup-dev/recoup/shared/shadow/shadowtest"
	"github.com/recoup-dev/recoup/shared/strategy"
)

const execution = "arn:aws:states:us-east-1:123456789012:execution:recoup-cycle:acme-C1-1"

// shadowInput is what the Shadow state's Parameters build after an
// approved email reminder.
const shadowInput = `{
  "tenant": "acme", "customer": "C1", "execution": "` + execution + `",
  "decision": {"tenant":"acme","customer":"C1","outcome":"act","action":"firm_reminder","step":"r2","segment":"smb",
    "channel":"email","when":"2025-06-03T14:00:00Z","tone":"firm","dunning_level":2,"invoices":["INV-1","INV-2"],
    "totals":[{"currency":"USD","minor":1250000,"decimal":"12500.00"}],"requires_approval":true,
    "approval_reasons":[{"code":"high_balance","detail":"over 10000.00"}],"reason":"second reminder",
    "trace":{"config_version":"v3","config_hash":"c0ffee","facts":{"now":"2025-06-03T13:59:30.25Z","key_account":false,
      "customer_segment":"retail","overdue_invoices":2,"days_past_due":21,"contacts_last_week":0},"path":["sequence"]},
    "route":"act","wait_seconds":3600},
  "draft": {"channel":"email","subject":"Invoices INV-1 and INV-2","body":"Dear Pat, two invoices are overdue.","source":"model",
    "model":"anthropic.claude","input_tokens":900,"output_tokens":120}
}`

func decodeInput(t *testing.T, raw string) shadow.Input {
	t.Helper()
	var in shadow.Input
	if err := json.Unmarshal([]byte(raw), &in); err != nil {
		t.Fatal(err)
	}
	return in
}

func newRecorder(t *testing.T, store shadow.Store, now *time.Time) *shadow.Recorder {
	t.Helper()
	rc, err := shadow.NewRecorder(store, func() time.Time { return *now })
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

func TestRecorderRecordsOncePerExecutionAndPlan(t *testing.T) {
	ctx := context.Background()
	store := shadowtest.NewMemory()
	now := time.Date(2025, 6, 3, 14, 0, 5, 0, time.FixedZone("EDT", -4*3600))
	rc := newRecorder(t, store, &now)

	res, err := rc.Handle(ctx, json.RawMessage(shadowInput))
	if err != nil {
		t.Fatal(err)
	}
	planned := time.Date(2025, 6, 3, 13, 59, 30, 250_000_000, time.UTC)
	id := shadow.RecommendationID(execution, planned)
	if diff := cmp.Diff(shadow.Result{Recorded: true, Recommendation: id}, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}

	// The task retried a minute later: same id, nothing new.
	now = now.Add(time.Minute)
	res, err = rc.Record(ctx, decodeInput(t, shadowInput))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(shadow.Result{Recorded: false, Recommendation: id}, res); diff != "" {
		t.Errorf("retry (-want +got):\n%s", diff)
	}

	got, err := store.Recommendations(ctx, "acme", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	want := []shadow.Recommendation{{
		ID: id, Tenant: "acme", Customer: "C1", Execution: execution, At: planned,
		RecordedAt: time.Date(2025, 6, 3, 18, 0, 5, 0, time.UTC), Outcome: strategy.OutcomeAct,
		Action: strategy.ActionFirmReminder, Step: "r2", Channel: consent.Email, When: time.Date(2025, 6, 3, 14, 0, 0, 0, time.UTC),
		Segment: "smb", CustomerSegment: "retail", Invoices: []string{"INV-1", "INV-2"}, RequiresApproval: true,
		ApprovalReasons: []string{"high_balance"}, Reason: "second reminder", Route: "act", ConfigVersion: "v3", ConfigHash: "c0ffee",
		DraftSource: "model",
		Draft:       &shadow.Draft{Channel: consent.Email, Subject: "Invoices INV-1 and INV-2", Body: "Dear Pat, two invoices are overdue.", Model: "anthropic.claude"},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}
	if got[0].RecordedAt.Location() != time.UTC {
		t.Errorf("recorded_at %v is not UTC", got[0].RecordedAt)
	}
}

func TestRecorderNextPassIsANewRecommendation(t *testing.T) {
	ctx := context.Background()
	store := shadowtest.NewMemory()
	now := time.Date(2025, 6, 3, 14, 0, 0, 0, time.UTC)
	rc := newRecorder(t, store, &now)
	first := decodeInput(t, shadowInput)
	next := decodeInput(t, shadowInput)
	next.Decision.Trace.Facts.Now = next.Decision.Trace.Facts.Now.Add(24 * time.Hour)
	r1, err1 := rc.Record(ctx, first)
	r2, err2 := rc.Record(ctx, next)
	if err1 != nil || err2 != nil || !r1.Recorded || !r2.Recorded || r1.Recommendation == r2.Recommendation {
		t.Errorf("two passes: %+v %v, %+v %v; want two recommendations", r1, err1, r2, err2)
	}
}

func TestRecorderWithoutADraft(t *testing.T) {
	in := decodeInput(t, strings.Replace(shadowInput, `"draft": {`, `"draft": null, "ignored": {`, 1))
	if in.Draft != nil {
		t.Fatal("draft decoded")
	}
	store := shadowtest.NewMemory()
	now := time.Date(2025, 6, 3, 14, 0, 0, 0, time.UTC)
	if _, err := newRecorder(t, store, &now).Record(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	got, _ := store.Recommendations(context.Background(), "acme", time.Time{}, time.Time{})
	if len(got) != 1 || got[0].Draft != nil || got[0].DraftSource != "" {
		t.Errorf("stored %+v, want one recommendation without a draft", got)
	}
}

func TestRecorderRefusesBadInput(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*shadow.Input)
		field string
	}{
		{"no tenant", func(in *shadow.Input) { in.Tenant = "" }, "tenant is empty"},
		{"customer with the key separator", func(in *shadow.Input) { in.Customer = "C#1" }, "customer"},
		{"no execution", func(in *shadow.Input) { in.Execution = "" }, "execution"},
		{"decision for another tenant", func(in *shadow.Input) { in.Decision.Tenant = "other" }, "decision.tenant"},
		{"decision for another customer", func(in *shadow.Input) { in.Decision.Customer = "C2" }, "decision.customer"},
		{"unknown outcome", func(in *shadow.Input) { in.Decision.Outcome = "maybe" }, "decision.outcome"},
		{"unknown action", func(in *shadow.Input) { in.Decision.Action = "nag" }, "decision.action"},
		{"act without an action", func(in *shadow.Input) { in.Decision.Action = "" }, "decision.action"},
		{"unknown channel", func(in *shadow.Input) { in.Decision.Channel, in.Draft.Channel = "fax", "fax" }, "decision.channel"},
		{"unknown route", func(in *shadow.Input) { in.Decision.Route = "send" }, "decision.route"},
		{"no planning instant", func(in *shadow.Input) { in.Decision.Trace.Facts.Now = time.Time{} }, "decision.trace.facts.now"},
		{"draft for another channel", func(in *shadow.Input) { in.Draft.Channel = consent.SMS }, "draft.channel"},
		{"empty draft", func(in *shadow.Input) { in.Draft.Body = "" }, "draft.body"},
		{"draft of unknown source", func(in *shadow.Input) { in.Draft.Source = "" }, "draft.source"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := decodeInput(t, shadowInput)
			tt.edit(&in)
			store := shadowtest.NewMemory()
			now := time.Date(2025, 6, 3, 14, 0, 0, 0, time.UTC)
			_, err := newRecorder(t, store, &now).Record(context.Background(), in)
			if !errors.Is(err, cycle.ErrInput) || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("error %v, want ErrInput naming %s", err, tt.field)
			}
			if store.Calls("PutRecommendation") != 0 {
				t.Error("a refused input reached the store")
			}
		})
	}
}

func TestRecorderRefusesUndecodableInput(t *testing.T) {
	tests := []struct{ name, raw, want string }{
		{"decision is text", `{"tenant":"acme","customer":"C1","execution":"e","decision":"act"}`, "decision"},
		{"when is not a time", strings.Replace(shadowInput, `"when":"2025-06-03T14:00:00Z"`, `"when":"tomorrow"`, 1), "shadow input"},
		{"two documents", shadowInput + `{}`, "more than one"},
		{"not JSON", `{"tenant":`, "shadow input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Now()
			_, err := newRecorder(t, shadowtest.NewMemory(), &now).Handle(context.Background(), json.RawMessage(tt.raw))
			if !errors.Is(err, cycle.ErrInput) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want ErrInput saying %q", err, tt.want)
			}
		})
	}
}

func TestRecorderStoreFailures(t *testing.T) {
	down := errors.New("connection refused")
	tests := []struct {
		name      string
		fail      error
		transient bool
	}{
		{"transient", errors.Join(shadow.ErrTransient, down), true},
		{"permanent", errors.New("access denied"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := shadowtest.NewMemory()
			store.Fail = tt.fail
			now := time.Now()
			_, err := newRecorder(t, store, &now).Record(context.Background(), decodeInput(t, shadowInput))
			if err == nil {
				t.Fatal("no error")
			}
			// The state's Retry matches the error's type name, so Transient
			// must be the error itself, not wrapped.
			_, bare := err.(cycle.Transient)
			if bare != tt.transient || errors.Is(err, cycle.ErrInput) {
				t.Errorf("error %v (%T): transient %v, want %v", err, err, bare, tt.transient)
			}
			if !errors.Is(err, tt.fail) {
				t.Errorf("error %v does not wrap the store's", err)
			}
		})
	}
}

func TestNewRecorderRefusesNil(t *testing.T) {
	if _, err := shadow.NewRecorder(nil, time.Now); err == nil {
		t.Error("nil store accepted")
	}
	if _, err := shadow.NewRecorder(shadowtest.NewMemory(), nil); err == nil {
		t.Error("nil clock accepted")
	}
}

func TestFromDecision(t *testing.T) {
	at := time.Date(2025, 6, 3, 9, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	d := strategy.Decision{Tenant: "acme", Customer: "C1", Outcome: strategy.OutcomeWait, Action: strategy.ActionCall,
		Step: "c1", Channel: consent.Voice, When: at.Add(48 * time.Hour), Segment: "smb", Invoices: []string{"INV-9"},
		Approval: []strategy.ApprovalReason{{Code: "dispute", Detail: "INV-8 is disputed"}}, Reason: "not due yet",
		Trace: strategy.Trace{ConfigVersion: "v1", ConfigHash: "h", Facts: strategy.Facts{Now: at, CustomerSegment: "retail"}}}
	got := shadow.FromDecision("exec-1", d, "")
	want := shadow.Recommendation{ID: shadow.RecommendationID("exec-1", at), Tenant: "acme", Customer: "C1", Execution: "exec-1",
		At: at.UTC(), Outcome: strategy.OutcomeWait, Action: strategy.ActionCall, Step: "c1", Channel: consent.Voice,
		When: at.Add(48 * time.Hour).UTC(), Segment: "smb", CustomerSegment: "retail", Invoices: []string{"INV-9"},
		ApprovalReasons: []string{"dispute"}, Reason: "not due yet", ConfigVersion: "v1", ConfigHash: "h"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got.At.Location() != time.UTC || got.When.Location() != time.UTC {
		t.Errorf("times not in UTC: %v %v", got.At, got.When)
	}
	if a, ch := got.Expected(); a != shadow.ActionNone || ch != "" {
		t.Errorf("a wait is compared as %s/%s, want none", a, ch)
	}
	if err := got.Validate(); err != nil {
		t.Error(err)
	}
	d.Invoices[0] = "changed"
	if got.Invoices[0] != "INV-9" {
		t.Error("the recommendation shares the decision's invoices")
	}
}
