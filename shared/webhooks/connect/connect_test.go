package connect_test

import (
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/recoup-dev/recoup/events"
	"github.com/recoup-dev/recoup/shared/deadletter"
	"github.com/recoup-dev/recoup/shared/webhooks"
	"github.com/recoup-dev/recoup/shared/webhooks/connect"
)

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func normalise(t *testing.T, body []byte) webhooks.Outcome {
	t.Helper()
	ev, err := connect.ParseEvent(body)
	if err != nil {
		t.Fatal(err)
	}
	o, err := connect.Normalise(ev)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestDocumentedSamples(t *testing.T) {
	// The documented DISCONNECTED sample has an agent connected at 17:29:09,
	// after the 17:18:37 disconnect (the sample's own inconsistency): a
	// conversation, of no measurable length.
	o := normalise(t, read(t, "disconnected"))
	want := []events.Event{{ID: "connect:11111111-1111-1111-1111-111111111111:DISCONNECTED", Tenant: "acme-supply",
		Customer: "C-10077", Debt: "INV-2025-0402", Channel: events.ChannelVoice, ContactPoint: "+13125550188",
		OccurredAt: time.Date(2021, 8, 4, 17, 18, 37, 0, time.UTC), Source: "connect",
		Payload: events.CallOutcome{Outcome: events.OutcomeConversation, DurationSeconds: 0, AttemptID: "att-7f3e02"}}}
	if diff := cmp.Diff(want, o.Events); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	o = normalise(t, read(t, "connected-to-agent"))
	if len(o.Events) != 0 || len(o.Ignored) != 1 {
		t.Errorf("CONNECTED_TO_AGENT: %+v, want ignored", o)
	}
}

// disconnected returns the documented sample with detail fields replaced.
func disconnected(t *testing.T, set map[string]any) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(read(t, "disconnected"), &ev); err != nil {
		t.Fatal(err)
	}
	d := ev["detail"].(map[string]any)
	delete(d, "AgentInfo")
	delete(d, "connectedToSystemTimestamp")
	for k, v := range set {
		if v == nil {
			delete(d, k)
		} else {
			d[k] = v
		}
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOutcomes(t *testing.T) {
	agent := map[string]any{"connectedToAgentTimestamp": "2021-08-04T17:18:00.000Z"}
	tests := []struct {
		name     string
		set      map[string]any
		want     events.Outcome
		seconds  int
		refused  string
		ignored  bool
		wantChan events.Channel
	}{
		{name: "agent conversation", set: map[string]any{"agentInfo": agent, "connectedToSystemTimestamp": "2021-08-04T17:17:55.000Z"},
			want: events.OutcomeConversation, seconds: 37},
		{name: "answered by the system only", set: map[string]any{"connectedToSystemTimestamp": "2021-08-04T17:17:55.000Z"},
			want: events.OutcomeConnected, seconds: 42},
		{name: "voicemail by answering machine detection", set: map[string]any{"connectedToSystemTimestamp": "2021-08-04T17:17:55.000Z",
			"answeringMachineDetectionStatus": "VOICEMAIL_BEEP"}, want: events.OutcomeVoicemail, seconds: 42},
		{name: "SIT tone", set: map[string]any{"connectedToSystemTimestamp": "2021-08-04T17:17:55.000Z",
			"answeringMachineDetectionStatus": "SIT_TONE_INVALID_NUMBER"}, want: events.OutcomeNotInService},
		{name: "busy", set: map[string]any{"disconnectReason": "TELECOM_BUSY"}, want: events.OutcomeBusy},
		{name: "number invalid", set: map[string]any{"disconnectReason": "TELECOM_NUMBER_INVALID"}, want: events.OutcomeNotInService},
		{name: "unanswered", set: map[string]any{"disconnectReason": "TELECOM_UNANSWERED"}, want: events.OutcomeNoAnswer},
		{name: "rang out", set: map[string]any{"disconnectReason": "TELECOM_TIMEOUT"}, want: events.OutcomeNoAnswer},
		{name: "cancelled before answer", set: map[string]any{"disconnectReason": "TELECOM_ORIGINATOR_CANCEL"}, want: events.OutcomeNoAnswer},
		{name: "hung up before connecting", set: map[string]any{"disconnectReason": "CUSTOMER_DISCONNECT"}, want: events.OutcomeNoAnswer},
		{name: "no reason at all", set: map[string]any{"disconnectReason": nil}, want: events.OutcomeNoAnswer},
		{name: "voice AI channel tag", set: map[string]any{"connectedToSystemTimestamp": "2021-08-04T17:17:55.000Z",
			"tags": map[string]any{"recoup_tenant": "acme-supply", "recoup_customer": "C-10077", "recoup_attempt": "a1",
				"recoup_channel": "voice_ai", "recoup_to": "+13125550188"}}, want: events.OutcomeConnected, seconds: 42, wantChan: events.ChannelVoiceAI},
		{name: "customer endpoint instead of the tag", set: map[string]any{"customerEndpoint": map[string]any{"address": "+13125550188", "type": "TELEPHONE_NUMBER"},
			"tags": map[string]any{"recoup_tenant": "acme-supply", "recoup_customer": "C-10077", "recoup_attempt": "a1"}}, want: events.OutcomeNoAnswer},
		{name: "never placed", set: map[string]any{"disconnectReason": "OUTBOUND_RESOURCE_ERROR"}, refused: deadletter.KindRejected},
		{name: "no tags: placed outside the dispatch gate", set: map[string]any{"tags": nil}, refused: deadletter.KindUnknownTenant},
		{name: "no attempt tag", set: map[string]any{"tags": map[string]any{"recoup_tenant": "acme-supply", "recoup_customer": "C-10077", "recoup_to": "+13125550188"}},
			refused: deadletter.KindRejected},
		{name: "no number", set: map[string]any{"tags": map[string]any{"recoup_tenant": "acme-supply", "recoup_customer": "C-10077", "recoup_attempt": "a1"}},
			refused: deadletter.KindInvalid},
		{name: "inbound call", set: map[string]any{"initiationMethod": "INBOUND"}, ignored: true},
		{name: "chat", set: map[string]any{"channel": "CHAT"}, ignored: true},
		{name: "not yet ended", set: map[string]any{"eventType": "CONNECTED_TO_SYSTEM"}, ignored: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := normalise(t, disconnected(t, tt.set))
			switch {
			case tt.refused != "":
				if len(o.Refused) != 1 || o.Refused[0].Kind != tt.refused || len(o.Events) != 0 {
					t.Fatalf("outcome %+v, want refusal %s", o, tt.refused)
				}
			case tt.ignored:
				if len(o.Ignored) != 1 || len(o.Events) != 0 {
					t.Fatalf("outcome %+v, want ignored", o)
				}
			default:
				if len(o.Events) != 1 {
					t.Fatalf("outcome %+v, want one event", o)
				}
				got := o.Events[0].Payload.(events.CallOutcome)
				if got.Outcome != tt.want || got.DurationSeconds != tt.seconds {
					t.Errorf("outcome %s for %ds, want %s for %ds", got.Outcome, got.DurationSeconds, tt.want, tt.seconds)
				}
				want := tt.wantChan
				if want == "" {
					want = events.ChannelVoice
				}
				if o.Events[0].Channel != want {
					t.Errorf("channel %s, want %s", o.Events[0].Channel, want)
				}
			}
		})
	}
}

func TestNotAContactEvent(t *testing.T) {
	o := normalise(t, []byte(`{"version":"0","id":"e1","detail-type":"Object Created","source":"aws.s3","time":"2026-04-14T15:00:00Z","detail":{}}`))
	if diff := cmp.Diff([]string{deadletter.KindUnsupported}, kinds(o), cmpopts.EquateEmpty()); diff != "" {
		t.Error(diff)
	}
}

func kinds(o webhooks.Outcome) []string {
	var k []string
	for _, r := range o.Refused {
		k = append(k, r.Kind)
	}
	return k
}

func TestMalformed(t *testing.T) {
	for _, b := range []string{``, `[]`, `{`, `{"source":"aws.connect"}`, `{"version":"0","time":"not a time","detail-type":"x","source":"y","detail":{}}`} {
		if _, err := connect.ParseEvent([]byte(b)); !errors.Is(err, webhooks.ErrMalformed) {
			t.Errorf("ParseEvent(%q) = %v, want ErrMalformed", b, err)
		}
	}
	ev, err := connect.ParseEvent([]byte(`{"version":"0","id":"e","detail-type":"Amazon Connect Contact Event","source":"aws.connect","time":"2026-04-14T15:00:00Z","detail":{"eventType":"DISCONNECTED"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := connect.Normalise(ev); !errors.Is(err, webhooks.ErrMalformed) {
		t.Errorf("detail without contactId: %v, want ErrMalformed", err)
	}
}

// FuzzNormalise: never panics; errors are malformed; events are valid.
func FuzzNormalise(f *testing.F) {
	f.Add(read(f, "disconnected"))
	f.Add(read(f, "connected-to-agent"))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := connect.ParseEvent(body)
		if err != nil {
			if !errors.Is(err, webhooks.ErrMalformed) {
				t.Fatalf("ParseEvent error %v is not ErrMalformed", err)
			}
			return
		}
		o, err := connect.Normalise(ev)
		if err != nil {
			if !errors.Is(err, webhooks.ErrMalformed) {
				t.Fatalf("Normalise error %v is not ErrMalformed", err)
			}
			return
		}
		for _, e := range o.Events {
			if err := e.Validate(); err != nil {
				t.Fatalf("invalid event: %v", err)
			}
		}
	})
}
