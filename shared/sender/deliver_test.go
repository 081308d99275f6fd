package sender_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/dispatch"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/sender"
	"github.com/recoup-dev/recoup/shared/sender/ledgertest"
)

var now = time.Date(2026, 5, 4, 15, 0, 0, 0, time.UTC)

// fakeGate decides each attempt id once, as the dispatch gate does: a
// repeat gets Duplicate and the recorded decision.
type fakeGate struct {
	mu       sync.Mutex
	decision compliance.Decision
	decided  map[string]compliance.Decision
	err      error
	calls    int
}

func newGate(d compliance.Decision) *fakeGate {
	return &fakeGate{decision: d, decided: map[string]compliance.Decision{}}
}

func (g *fakeGate) Dispatch(_ context.Context, req dispatch.Request) (dispatch.Outcome, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls++
	out := dispatch.Outcome{AttemptID: req.AttemptID}
	if g.err != nil {
		return out, g.err
	}
	if d, ok := g.decided[req.AttemptID]; ok {
		out.Duplicate, out.Result.Decision = true, d
		return out, nil
	}
	g.decided[req.AttemptID] = g.decision
	out.Result = compliance.Result{Decision: g.decision}
	if g.decision != compliance.Allow {
		out.Result.Reason = "quiet hours"
	}
	return out, nil
}

// scriptSender answers each call with the next scripted error (nil: a
// receipt m1, m2...), after an optional delay.
type scriptSender struct {
	mu     sync.Mutex
	msgs   []sender.Message
	errs   []error
	window time.Duration
	delay  time.Duration
}

func (s *scriptSender) Send(ctx context.Context, m sender.Message) (sender.Receipt, error) {
	s.mu.Lock()
	s.msgs = append(s.msgs, m)
	n := len(s.msgs)
	var err error
	if len(s.errs) > 0 {
		err, s.errs = s.errs[0], s.errs[1:]
	}
	s.mu.Unlock()
	if s.delay > 0 {
		time.Sleep(s.delay)
	}
	if err != nil {
		return sender.Receipt{}, err
	}
	return sender.Receipt{Provider: "test", ProviderID: fmt.Sprintf("m%d", n), At: now}, nil
}

func (s *scriptSender) DedupWindow() time.Duration { return s.window }

func (s *scriptSender) calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.msgs)
}

func request(id string, ch compliance.Channel, to string) dispatch.Request {
	return dispatch.Request{Tenant: "acme", AttemptID: id, Collector: ledger.FirstParty, Customer: "C1",
		Debts:   []compliance.Debt{{ID: "INV-1"}},
		Attempt: compliance.Attempt{At: now, Channel: ch, Debt: "INV-1", To: to}}
}

var (
	permanent = &sender.ProviderError{Class: sender.ClassPermanent, Code: "MessageRejected"}
	transient = &sender.ProviderError{Class: sender.ClassTransient, Code: "ThrottlingException"}
	inDoubt   = &sender.ProviderError{Class: sender.ClassInDoubt, Code: "NoAnswer"}
)

func sendingRecord(claimed, first time.Time) sender.Record {
	return sender.Record{Tenant: "acme", AttemptID: "A1", Customer: "C1", Channel: compliance.ChannelSMS,
		State: sender.StateSending, Token: "dead-run", ClaimedAt: claimed, FirstClaimedAt: first}
}

func TestDeliverStateMachine(t *testing.T) {
	const week = 7 * 24 * time.Hour
	sent := sender.Record{Tenant: "acme", AttemptID: "A1", Customer: "C1", Channel: compliance.ChannelSMS, State: sender.StateSent,
		Token: "t0", ClaimedAt: now.Add(-time.Hour), FirstClaimedAt: now.Add(-time.Hour),
		Receipt: sender.Receipt{Provider: "test", ProviderID: "m-earlier", At: now.Add(-time.Hour)}}
	failed := sender.Record{Tenant: "acme", AttemptID: "A1", Customer: "C1", Channel: compliance.ChannelSMS, State: sender.StateFailed,
		Token: "t0", ClaimedAt: now.Add(-time.Hour), FirstClaimedAt: now.Add(-time.Hour), Reason: "provider refused: ConflictException"}

	tests := []struct {
		name string
		// decided: the gate decided this attempt before (a retried task).
		decided  *compliance.Decision
		decision compliance.Decision
		prior    *sender.Record
		errs     []error
		window   time.Duration
		want     sender.Result
		wantErr  error
		calls    int
		// after is the ledger's state afterwards ("" for no record).
		after sender.State
	}{
		{name: "allowed: sent once and the receipt recorded", decision: compliance.Allow,
			want:  sender.Result{Status: sender.StatusSent, Receipt: sender.Receipt{Provider: "test", ProviderID: "m1", At: now}},
			calls: 1, after: sender.StateSent},
		{name: "blocked by the gate: never reaches a sender", decision: compliance.Block,
			want: sender.Result{Status: sender.StatusBlocked, Reason: "block: quiet hours"}},
		{name: "routed to a person: never reaches a sender", decision: compliance.RouteToHuman,
			want: sender.Result{Status: sender.StatusBlocked, Reason: "route_to_human: quiet hours"}},
		{name: "retry after sent: the stored receipt, nothing sent", decided: ptr(compliance.Allow), prior: &sent,
			want: sender.Result{Status: sender.StatusSent, Receipt: sent.Receipt, Repeat: true}, after: sender.StateSent},
		{name: "retry after a permanent failure: not sent again", decided: ptr(compliance.Allow), prior: &failed,
			want: sender.Result{Status: sender.StatusFailed, Reason: failed.Reason, Repeat: true}, after: sender.StateFailed},
		{name: "retry after the gate allowed but nothing was claimed: sent", decided: ptr(compliance.Allow),
			want:  sender.Result{Status: sender.StatusSent, Receipt: sender.Receipt{Provider: "test", ProviderID: "m1", At: now}},
			calls: 1, after: sender.StateSent},
		{name: "retry of a blocked attempt: still blocked", decided: ptr(compliance.Block),
			want: sender.Result{Status: sender.StatusBlocked, Reason: "block"}},
		{name: "decided outside the gate's window, no send recorded: blocked", decided: ptr(compliance.Decision("")),
			want: sender.Result{Status: sender.StatusBlocked, Reason: "decided before, outside the gate's history window: not sent now"}},
		{name: "decided outside the gate's window, sent then: the stored receipt", decided: ptr(compliance.Decision("")), prior: &sent,
			want: sender.Result{Status: sender.StatusSent, Receipt: sent.Receipt, Repeat: true}, after: sender.StateSent},
		{name: "decided outside the gate's window, claim never finished: in doubt", decided: ptr(compliance.Decision("")),
			prior: ptr(sendingRecord(now.Add(-time.Hour), now.Add(-time.Hour))), window: 7 * 24 * time.Hour,
			want: sender.Result{Status: sender.StatusInDoubt, Repeat: true}, after: sender.StateSending},
		{name: "permanent provider error: failed, recorded, never resent", decision: compliance.Allow, errs: []error{permanent},
			want:  sender.Result{Status: sender.StatusFailed, Reason: "provider refused: MessageRejected"},
			calls: 1, after: sender.StateFailed},
		{name: "transient provider error: claim released for the task's retry", decision: compliance.Allow, errs: []error{transient},
			wantErr: sender.ErrTransient, calls: 1},
		{name: "answer lost, provider does not deduplicate: in doubt, claim kept", decision: compliance.Allow, errs: []error{inDoubt},
			want:  sender.Result{Status: sender.StatusInDoubt},
			calls: 1, after: sender.StateSending},
		{name: "unclassified sender error counts as in doubt", decision: compliance.Allow, errs: []error{errors.New("boom")},
			want:  sender.Result{Status: sender.StatusInDoubt},
			calls: 1, after: sender.StateSending},
		{name: "answer lost, provider deduplicates: retryable, claim kept", decision: compliance.Allow, errs: []error{inDoubt}, window: week,
			wantErr: sender.ErrTransient, calls: 1, after: sender.StateSending},
		{name: "another delivery holds a fresh claim: in progress", decided: ptr(compliance.Allow),
			prior: ptr(sendingRecord(now.Add(-time.Minute), now.Add(-time.Minute))), window: week,
			wantErr: sender.ErrInProgress, after: sender.StateSending},
		{name: "a delivery died mid-send, SES/SMS: in doubt, not resent", decided: ptr(compliance.Allow),
			prior: ptr(sendingRecord(now.Add(-time.Hour), now.Add(-time.Hour))),
			want:  sender.Result{Status: sender.StatusInDoubt, Repeat: true}, after: sender.StateSending},
		{name: "a delivery died mid-call, Connect within its token window: called again", decided: ptr(compliance.Allow),
			prior: ptr(sendingRecord(now.Add(-time.Hour), now.Add(-time.Hour))), window: week,
			want:  sender.Result{Status: sender.StatusSent, Receipt: sender.Receipt{Provider: "test", ProviderID: "m1", At: now}},
			calls: 1, after: sender.StateSent},
		{name: "a delivery died mid-call, Connect token expired: in doubt", decided: ptr(compliance.Allow),
			prior: ptr(sendingRecord(now.Add(-time.Hour), now.Add(-week))), window: week,
			want: sender.Result{Status: sender.StatusInDoubt, Repeat: true}, after: sender.StateSending},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gate := newGate(tc.decision)
			if tc.decided != nil {
				gate.decided["A1"] = *tc.decided
			}
			led := ledgertest.NewMemory()
			if tc.prior != nil {
				led.Put(*tc.prior)
			}
			s := &scriptSender{errs: tc.errs, window: tc.window}
			d, err := sender.NewDeliverer(gate, led, map[compliance.Channel]sender.Sender{compliance.ChannelSMS: s})
			if err != nil {
				t.Fatal(err)
			}
			d.Now = func() time.Time { return now }
			got, err := d.Deliver(context.Background(), request("A1", compliance.ChannelSMS, "+1 617 555 0142"), sender.Content{Text: "hi"})
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("error = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil {
				// Reasons of in-doubt results are long prose: checked for
				// their marker only.
				if tc.want.Status == sender.StatusInDoubt && !strings.Contains(got.Reason, "needs reconciliation") {
					t.Errorf("in-doubt reason %q does not say it needs reconciliation", got.Reason)
				}
				opts := cmp.Options{cmpopts.IgnoreFields(sender.Result{}, "Outcome")}
				if tc.want.Status == sender.StatusInDoubt {
					opts = append(opts, cmpopts.IgnoreFields(sender.Result{}, "Reason"))
				}
				if diff := cmp.Diff(tc.want, got, opts...); diff != "" {
					t.Errorf("result (-want +got):\n%s", diff)
				}
			}
			if n := s.calls(); n != tc.calls {
				t.Errorf("provider calls = %d, want %d", n, tc.calls)
			}
			rec, found, _ := led.Get(context.Background(), "acme", "A1")
			if state := map[bool]sender.State{true: rec.State}[found]; state != tc.after {
				t.Errorf("ledger state afterwards = %q, want %q", state, tc.after)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestDeliverTakeoverKeepsFirstClaimTime(t *testing.T) {
	led := ledgertest.NewMemory()
	first := now.Add(-2 * time.Hour)
	led.Put(sendingRecord(now.Add(-time.Hour), first))
	gate := newGate(compliance.Allow)
	gate.decided["A1"] = compliance.Allow
	s := &scriptSender{window: 7 * 24 * time.Hour}
	d, _ := sender.NewDeliverer(gate, led, map[compliance.Channel]sender.Sender{compliance.ChannelSMS: s})
	d.Now = func() time.Time { return now }
	if _, err := d.Deliver(context.Background(), request("A1", compliance.ChannelSMS, "+16175550142"), sender.Content{Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	rec, _, _ := led.Get(context.Background(), "acme", "A1")
	if !rec.FirstClaimedAt.Equal(first) || !rec.ClaimedAt.Equal(now) || rec.Token == "dead-run" {
		t.Errorf("after takeover: first claimed %s (want %s), claimed %s (want %s), token %q", rec.FirstClaimedAt, first, rec.ClaimedAt, now, rec.Token)
	}
}

func TestDeliverTransientThenRetrySends(t *testing.T) {
	gate := newGate(compliance.Allow)
	led := ledgertest.NewMemory()
	s := &scriptSender{errs: []error{transient}}
	d, _ := sender.NewDeliverer(gate, led, map[compliance.Channel]sender.Sender{compliance.ChannelSMS: s})
	d.Now = func() time.Time { return now }
	req := request("A1", compliance.ChannelSMS, "+16175550142")
	if _, err := d.Deliver(context.Background(), req, sender.Content{Text: "hi"}); !errors.Is(err, sender.ErrTransient) {
		t.Fatalf("first delivery: %v, want ErrTransient", err)
	}
	res, err := d.Deliver(context.Background(), req, sender.Content{Text: "hi"})
	if err != nil || res.Status != sender.StatusSent || res.Repeat || !res.Outcome.Duplicate {
		t.Fatalf("retry: %+v, %v; want a fresh send on a duplicate gate outcome", res, err)
	}
	if s.calls() != 2 {
		t.Errorf("provider calls = %d, want 2 (one throttled, one sent)", s.calls())
	}
}

// TestDeliverMessageComesFromTheGatesRequest: the sender gets the address
// the gate judged, normalised, and the request's ids.
func TestDeliverMessageComesFromTheGatesRequest(t *testing.T) {
	tests := []struct {
		ch   compliance.Channel
		to   string
		want string
	}{
		{compliance.ChannelSMS, "(617) 555-0142", "+16175550142"},
		{compliance.ChannelAIVoice, "tel:+1 617 555 0142", "+16175550142"},
		{compliance.ChannelEmail, "Pat.Doe@Example.COM", "pat.doe@example.com"},
		// The ERP prints a letter from its own master data.
		{compliance.ChannelLetter, "", ""},
	}
	for _, tc := range tests {
		s := &scriptSender{}
		d, _ := sender.NewDeliverer(newGate(compliance.Allow), ledgertest.NewMemory(), map[compliance.Channel]sender.Sender{tc.ch: s})
		d.Now = func() time.Time { return now }
		content := sender.Content{Subject: "Invoice INV-1", Text: "hi"}
		if _, err := d.Deliver(context.Background(), request("A1", tc.ch, tc.to), content); err != nil {
			t.Fatalf("%s: %v", tc.ch, err)
		}
		want := []sender.Message{{Tenant: "acme", Customer: "C1", AttemptID: "A1", Debt: "INV-1", Channel: tc.ch, To: tc.want, Content: content}}
		if diff := cmp.Diff(want, s.msgs); diff != "" {
			t.Errorf("%s: message (-want +got):\n%s", tc.ch, diff)
		}
	}
}

func TestDeliverRefusesBeforeTheGate(t *testing.T) {
	tests := []struct {
		name    string
		req     dispatch.Request
		wantErr error
	}{
		{"a channel with no sender", request("A1", compliance.ChannelLetter, ""), sender.ErrNoSender},
		{"no destination", request("A1", compliance.ChannelSMS, ""), sender.ErrInvalid},
		{"an e-mail address for a text", request("A1", compliance.ChannelSMS, "pat@example.com"), sender.ErrInvalid},
		{"a number for an e-mail", request("A1", compliance.ChannelEmail, "+16175550142"), sender.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gate := newGate(compliance.Allow)
			s := &scriptSender{}
			d, _ := sender.NewDeliverer(gate, ledgertest.NewMemory(),
				map[compliance.Channel]sender.Sender{compliance.ChannelSMS: s, compliance.ChannelEmail: s})
			_, err := d.Deliver(context.Background(), tc.req, sender.Content{Text: "hi"})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error = %v, want %v", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "555") || strings.Contains(err.Error(), "pat@") {
				t.Errorf("error quotes the address: %v", err)
			}
			if gate.calls != 0 || s.calls() != 0 {
				t.Errorf("gate calls %d, sender calls %d, want none", gate.calls, s.calls())
			}
		})
	}
}

func TestDeliverGateErrorSendsNothing(t *testing.T) {
	gate := newGate(compliance.Allow)
	gate.err = dispatch.ErrConflict
	s := &scriptSender{}
	d, _ := sender.NewDeliverer(gate, ledgertest.NewMemory(), map[compliance.Channel]sender.Sender{compliance.ChannelSMS: s})
	if _, err := d.Deliver(context.Background(), request("A1", compliance.ChannelSMS, "+16175550142"), sender.Content{Text: "hi"}); !errors.Is(err, dispatch.ErrConflict) {
		t.Fatalf("error = %v, want the gate's", err)
	}
	if s.calls() != 0 {
		t.Errorf("sender called %d times", s.calls())
	}
}

// failingComplete is a ledger whose Complete always fails.
type failingComplete struct{ *ledgertest.Memory }

func (failingComplete) Complete(context.Context, ledger.TenantID, string, string, sender.Receipt) error {
	return errors.New("dynamodb unavailable")
}

func TestDeliverSentButUnrecorded(t *testing.T) {
	led := failingComplete{ledgertest.NewMemory()}
	s := &scriptSender{}
	d, _ := sender.NewDeliverer(newGate(compliance.Allow), led, map[compliance.Channel]sender.Sender{compliance.ChannelSMS: s})
	d.Now = func() time.Time { return now }
	res, err := d.Deliver(context.Background(), request("A1", compliance.ChannelSMS, "+16175550142"), sender.Content{Text: "hi"})
	if !errors.Is(err, sender.ErrUnrecorded) || res.Status != sender.StatusSent || res.Receipt.ProviderID != "m1" {
		t.Fatalf("got %+v, %v; want a sent result with ErrUnrecorded", res, err)
	}
	// The claim stays: a retry cannot know the message went, so it
	// reports the attempt in doubt rather than texting again.
	d.Now = func() time.Time { return now.Add(time.Hour) }
	res, err = d.Deliver(context.Background(), request("A1", compliance.ChannelSMS, "+16175550142"), sender.Content{Text: "hi"})
	if err != nil || res.Status != sender.StatusInDoubt || s.calls() != 1 {
		t.Fatalf("retry: %+v, %v, %d provider calls; want in doubt with no new call", res, err, s.calls())
	}
}

// TestDeliverConcurrentSameAttempt: eight deliveries of one attempt at once
// make exactly one provider call; the others are told it is in progress or,
// once it is done, get its receipt.
func TestDeliverConcurrentSameAttempt(t *testing.T) {
	for _, window := range []time.Duration{0, 7 * 24 * time.Hour} {
		gate := newGate(compliance.Allow)
		s := &scriptSender{delay: 20 * time.Millisecond, window: window}
		d, _ := sender.NewDeliverer(gate, ledgertest.NewMemory(), map[compliance.Channel]sender.Sender{compliance.ChannelSMS: s})
		d.Now = func() time.Time { return now }
		var wg sync.WaitGroup
		var mu sync.Mutex
		statuses := map[string]int{}
		for range 8 {
			wg.Go(func() {
				res, err := d.Deliver(context.Background(), request("A1", compliance.ChannelSMS, "+16175550142"), sender.Content{Text: "hi"})
				key := string(res.Status)
				switch {
				case errors.Is(err, sender.ErrInProgress):
					key = "in progress"
				case err != nil:
					key = "error: " + err.Error()
				}
				mu.Lock()
				statuses[key]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if s.calls() != 1 {
			t.Errorf("window %s: provider calls = %d, want exactly 1 (%v)", window, s.calls(), statuses)
		}
		if statuses["sent"] < 1 || statuses["sent"]+statuses["in progress"] != 8 {
			t.Errorf("window %s: outcomes %v", window, statuses)
		}
	}
}

func TestMemoryLedgerContract(t *testing.T) {
	ledgertest.Run(t, func(*testing.T) sender.Ledger { return ledgertest.NewMemory() })
}

func TestNewDelivererRefusesMissingParts(t *testing.T) {
	s := map[compliance.Channel]sender.Sender{compliance.ChannelSMS: &scriptSender{}}
	for name, f := range map[string]func() (*sender.Deliverer, error){
		"no gate":   func() (*sender.Deliverer, error) { return sender.NewDeliverer(nil, ledgertest.NewMemory(), s) },
		"no ledger": func() (*sender.Deliverer, error) { return sender.NewDeliverer(newGate(compliance.Allow), nil, s) },
		"no senders": func() (*sender.Deliverer, error) {
			return sender.NewDeliverer(newGate(compliance.Allow), ledgertest.NewMemory(), nil)
		},
		"nil sender": func() (*sender.Deliverer, error) {
			return sender.NewDeliverer(newGate(compliance.Allow), ledgertest.NewMemory(), map[compliance.Channel]sender.Sender{compliance.ChannelSMS: nil})
		},
	} {
		if _, err := f(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
