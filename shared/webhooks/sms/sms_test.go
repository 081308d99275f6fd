package sms_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/recoup-dev/recoup/events"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/deadletter"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/webhooks"
	"github.com/recoup-dev/recoup/shared/webhooks/sms"
)

// customers is a Resolver from a fixed map, recording what it was asked.
type customers struct {
	by    map[string][]string // "tenant|address"
	err   error
	asked []string
}

func (c *customers) CustomersByAddress(_ context.Context, tenant ledger.TenantID, address string) ([]string, error) {
	c.asked = append(c.asked, string(tenant)+"|"+address)
	return c.by[string(tenant)+"|"+address], c.err
}

// consentLog is a Consent store recording what it was given.
type consentLog struct {
	err      error
	recorded []consent.Event
	owners   []string
}

func (c *consentLog) Record(_ context.Context, _ ledger.TenantID, customer string, ev consent.Event) (bool, error) {
	if c.err != nil {
		return false, c.err
	}
	c.recorded = append(c.recorded, ev)
	c.owners = append(c.owners, customer)
	return true, nil
}

var snsTime = time.Date(2026, 4, 14, 17, 3, 22, 0, time.UTC)

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newNormaliser(t *testing.T, c *customers) *sms.Normaliser {
	t.Helper()
	return newNormaliserWith(t, c, &consentLog{})
}

func newNormaliserWith(t *testing.T, c *customers, cs *consentLog) *sms.Normaliser {
	t.Helper()
	nums, err := sms.ParseNumbers([]byte(`{"(212) 555-0101": "acme-supply"}`))
	if err != nil {
		t.Fatal(err)
	}
	n, err := sms.New(nums, c, cs)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDeliveryEvents(t *testing.T) {
	at := time.UnixMilli(1686975103470).UTC()
	delivered := events.Event{ID: "sms:862a8790-60c0-4430-9b2b-658bdexample:DELIVERED", Tenant: "acme-supply",
		Customer: "C-10058", Debt: "INV-2025-0355", Channel: events.ChannelSMS, ContactPoint: "+14255550156",
		OccurredAt: at, Source: "sms", Payload: events.SMSDelivered{AttemptID: "att-7f3d10"}}
	failed := delivered
	failed.ID = "sms:862a8790-60c0-4430-9b2b-658bdexample:UNREACHABLE"
	failed.Payload = events.SMSFailed{Reason: "UNREACHABLE", AttemptID: "att-7f3d10"}
	tests := []struct {
		file    string
		want    []events.Event
		ignored int
	}{
		{file: "text-delivered", want: []events.Event{delivered}},
		// The documented example: TEXT_SUCCESSFUL, final. Same id as
		// TEXT_DELIVERED, so both arriving make one event.
		{file: "text-successful", want: []events.Event{delivered}},
		{file: "text-unreachable", want: []events.Event{failed}},
		{file: "text-pending", ignored: 1},
		{file: "voice-completed", ignored: 1},
	}
	n := newNormaliser(t, &customers{})
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			o, err := n.Normalise(context.Background(), sms.Notification{MessageID: "sns-1", Timestamp: snsTime, Message: read(t, tt.file)})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, o.Events, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if len(o.Ignored) != tt.ignored || len(o.Refused) != 0 {
				t.Errorf("ignored %q refused %+v, want %d ignored", o.Ignored, o.Refused, tt.ignored)
			}
		})
	}
}

func TestDeliveryFailureMappings(t *testing.T) {
	n := newNormaliser(t, &customers{})
	ctx := `"context":{"recoup_tenant":"acme","recoup_customer":"C1"}`
	tests := []struct {
		name, event string
		wantReason  string // sms.failed reason; "" = not an sms.failed
		ignored     bool
		refused     string
	}{
		{"every documented failure", `{"eventType":"TEXT_CARRIER_BLOCKED","isFinal":true,"messageId":"m","destinationPhoneNumber":"+16175550123",` + ctx + `}`, "CARRIER_BLOCKED", false, ""},
		{"status preferred", `{"eventType":"TEXT_SPAM","messageStatus":"SPAM","messageId":"m","destinationPhoneNumber":"+16175550123",` + ctx + `}`, "SPAM", false, ""},
		{"TTL expired", `{"eventType":"TEXT_TTL_EXPIRED","messageId":"m","destinationPhoneNumber":"+16175550123",` + ctx + `}`, "TTL_EXPIRED", false, ""},
		{"non-final failure", `{"eventType":"TEXT_CARRIER_UNREACHABLE","isFinal":false,"messageId":"m","destinationPhoneNumber":"+16175550123",` + ctx + `}`, "", true, ""},
		{"non-final success", `{"eventType":"TEXT_SUCCESSFUL","isFinal":false,"messageId":"m","destinationPhoneNumber":"+16175550123",` + ctx + `}`, "", true, ""},
		{"queued", `{"eventType":"TEXT_QUEUED","messageId":"m"}`, "", true, ""},
		{"unknown text type", `{"eventType":"TEXT_TELEPORTED","messageId":"m",` + ctx + `}`, "", false, deadletter.KindUnknownType},
		{"no context", `{"eventType":"TEXT_DELIVERED","messageId":"m","destinationPhoneNumber":"+16175550123"}`, "", false, deadletter.KindUnknownTenant},
		{"bad destination", `{"eventType":"TEXT_DELIVERED","messageId":"m","destinationPhoneNumber":"12",` + ctx + `}`, "", false, deadletter.KindInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := n.Normalise(context.Background(), sms.Notification{Timestamp: snsTime, Message: []byte(tt.event)})
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.refused != "":
				if len(o.Refused) != 1 || o.Refused[0].Kind != tt.refused {
					t.Errorf("outcome %+v, want refusal %s", o, tt.refused)
				}
			case tt.ignored:
				if len(o.Ignored) != 1 || len(o.Events) != 0 {
					t.Errorf("outcome %+v, want ignored", o)
				}
			default:
				if len(o.Events) != 1 {
					t.Fatalf("outcome %+v, want one event", o)
				}
				if got := o.Events[0].Payload.(events.SMSFailed).Reason; got != tt.wantReason {
					t.Errorf("reason %q, want %q", got, tt.wantReason)
				}
				if !o.Events[0].OccurredAt.Equal(snsTime) {
					t.Errorf("without eventTimestamp occurred_at is %v, want the SNS time", o.Events[0].OccurredAt)
				}
			}
		})
	}
}

func TestInbound(t *testing.T) {
	const addr = "acme-supply|tel:+14255550182"
	base := events.Event{Tenant: "acme-supply", Channel: events.ChannelSMS, ContactPoint: "+14255550182",
		OccurredAt: snsTime, Source: "sms", Payload: events.SMSInbound{Text: "EXAMPLE"}}
	with := func(customer string) events.Event {
		e := base
		e.Customer = customer
		e.ID = "sms:inbound:cae173d2-66b9-564c-8309-21f858e9fb84:" + customer
		return e
	}
	tests := []struct {
		name    string
		by      map[string][]string
		message string
		want    []events.Event
		refused string
	}{
		{name: "one customer", by: map[string][]string{addr: {"C-10058"}}, want: []events.Event{with("C-10058")}},
		{name: "a shared number: one event per customer", by: map[string][]string{addr: {"C-10058", "C-10077", "C-10058"}},
			want: []events.Event{with("C-10058"), with("C-10077")}},
		{name: "unknown sender", by: map[string][]string{}, refused: deadletter.KindUnknownCustomer},
		{name: "number no tenant owns", message: `{"originationNumber":"+14255550182","destinationNumber":"+13125550188","messageBody":"STOP","inboundMessageId":"x"}`,
			refused: deadletter.KindUnknownTenant},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &customers{by: tt.by}
			n := newNormaliser(t, c)
			msg := read(t, "inbound")
			if tt.message != "" {
				msg = []byte(tt.message)
			}
			o, err := n.Normalise(context.Background(), sms.Notification{MessageID: "sns-1", Timestamp: snsTime, Message: msg})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, o.Events, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if tt.refused != "" {
				if len(o.Refused) != 1 || o.Refused[0].Kind != tt.refused {
					t.Errorf("refused %+v, want %s", o.Refused, tt.refused)
				}
				if strings.Contains(o.Refused[0].Reason, "555") || strings.Contains(o.Refused[0].Reason, "STOP") {
					t.Errorf("refusal reason holds personal data: %s", o.Refused[0].Reason)
				}
			}
		})
	}
}

// TestInboundStopFromAnUnknownSender: a revocation from a number no
// customer has is recorded on the number at once and still dead-lettered
// for a person to match; other words are only dead-lettered.
func TestInboundStopFromAnUnknownSender(t *testing.T) {
	const stop = `{"originationNumber":"(425) 555-0182","destinationNumber":"+12125550101","messageBody":"Stop texting me","inboundMessageId":"in-1"}`
	cs := &consentLog{}
	n := newNormaliserWith(t, &customers{}, cs)
	o, err := n.Normalise(context.Background(), sms.Notification{MessageID: "sns-1", Timestamp: snsTime, Message: []byte(stop)})
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Events) != 0 || len(o.Refused) != 1 || o.Refused[0].Kind != deadletter.KindUnknownCustomer ||
		!strings.Contains(o.Refused[0].Reason, "recorded") {
		t.Errorf("outcome %+v, want one unknown_customer letter saying the revocation was recorded", o)
	}
	want := []consent.Event{consent.Revoke{ID: "sms:inbound:in-1", Tenant: "acme-supply", Address: "tel:+14255550182",
		Channels: []consent.Channel{consent.SMS}, Via: consent.ViaSMSReply, At: snsTime, Text: "Stop texting me"}}
	if diff := cmp.Diff(want, cs.recorded); diff != "" {
		t.Errorf("consent recorded (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{""}, cs.owners); diff != "" {
		t.Errorf("recorded for customers (-want +got):\n%s", diff)
	}

	cs = &consentLog{}
	n = newNormaliserWith(t, &customers{}, cs)
	o, err = n.Normalise(context.Background(), sms.Notification{Timestamp: snsTime, Message: read(t, "inbound")})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs.recorded) != 0 || len(o.Refused) != 1 || o.Refused[0].Kind != deadletter.KindUnknownCustomer {
		t.Errorf("a text that is no revocation: recorded %v, outcome %+v; want only the dead letter", cs.recorded, o)
	}

	n = newNormaliserWith(t, &customers{}, &consentLog{err: errors.New("dynamodb throttled")})
	if _, err := n.Normalise(context.Background(), sms.Notification{Timestamp: snsTime, Message: []byte(stop)}); err == nil ||
		errors.Is(err, webhooks.ErrMalformed) {
		t.Errorf("consent store down: err = %v, want a transient error so SNS delivers again", err)
	}
}

func TestInboundLookupFailureIsTransient(t *testing.T) {
	n := newNormaliser(t, &customers{err: errors.New("dynamodb throttled")})
	_, err := n.Normalise(context.Background(), sms.Notification{Timestamp: snsTime, Message: read(t, "inbound")})
	if err == nil || errors.Is(err, webhooks.ErrMalformed) {
		t.Fatalf("err = %v, want a transient (not malformed) error", err)
	}
}

func TestMalformed(t *testing.T) {
	n := newNormaliser(t, &customers{})
	for _, m := range []string{``, `"x"`, `{`, `{}`, `{"eventType":"TEXT_DELIVERED"}`, `{"eventType":1}`,
		`{"originationNumber":"+14255550182"}`} {
		if _, err := n.Normalise(context.Background(), sms.Notification{Timestamp: snsTime, Message: []byte(m)}); !errors.Is(err, webhooks.ErrMalformed) {
			t.Errorf("Normalise(%q) = %v, want ErrMalformed", m, err)
		}
	}
}

func TestParseNumbers(t *testing.T) {
	got, err := sms.ParseNumbers([]byte(`{"+1 (212) 555-0101": "acme", "6175550100": "globex"}`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sms.MapNumbers{"+12125550101": "acme", "+16175550100": "globex"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, bad := range []string{`[]`, `{"12": "acme"}`, `{"+12125550101": "a#b"}`, `{"+12125550101": "a", "2125550101": "b"}`} {
		if _, err := sms.ParseNumbers([]byte(bad)); err == nil {
			t.Errorf("ParseNumbers(%s) accepted", bad)
		}
	}
}

// FuzzNormalise: never panics; errors are malformed (the resolver never
// fails here); every event passes the contract.
func FuzzNormalise(f *testing.F) {
	for _, n := range []string{"text-delivered", "text-successful", "text-unreachable", "text-pending", "inbound"} {
		b, err := os.ReadFile("testdata/" + n + ".json")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	nums := sms.MapNumbers{"+12125550101": "acme-supply"}
	n, err := sms.New(nums, &customers{by: map[string][]string{"acme-supply|tel:+14255550182": {"C-10058"}}}, &consentLog{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		o, err := n.Normalise(context.Background(), sms.Notification{MessageID: "sns", Timestamp: snsTime, Message: msg})
		if err != nil {
			if !errors.Is(err, webhooks.ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
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
