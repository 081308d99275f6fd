package ses_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/recoup-dev/recoup/events"
	"github.com/recoup-dev/recoup/shared/deadletter"
	"github.com/recoup-dev/recoup/shared/webhooks"
	"github.com/recoup-dev/recoup/shared/webhooks/ses"
)

const mid = "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000"

var rcptDigest = webhooks.Digest("recipient@example.com")

func ev(id string, at string, p events.Payload) events.Event {
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		panic(err)
	}
	return events.Event{ID: id, Tenant: "acme-supply", Customer: "C-10042", Debt: "INV-2025-0317",
		Channel: events.ChannelEmail, ContactPoint: "recipient@example.com", OccurredAt: t, Source: "ses", Payload: p}
}

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNormaliseDocumentedRecords runs every documented example record
// (with our tags added) through the normaliser.
func TestNormaliseDocumentedRecords(t *testing.T) {
	tests := []struct {
		file        string
		want        []events.Event
		ignored     int
		refusedKind string
	}{
		{file: "delivery", want: []events.Event{ev("ses:"+mid+":delivery:"+rcptDigest, "2016-10-19T23:21:04.133Z",
			events.EmailDelivered{AttemptID: "att-7f3a91"})}},
		{file: "bounce", want: []events.Event{ev("ses:"+mid+":bounce:"+rcptDigest, "2017-08-05T00:41:02.669Z",
			events.EmailBounced{BounceType: events.BouncePermanent, Diagnostic: "smtp; 550 5.1.1 user unknown", AttemptID: "att-7f3a91"})}},
		{file: "complaint", want: []events.Event{ev("ses:"+mid+":complaint:"+rcptDigest, "2017-08-05T00:41:02.669Z",
			events.EmailComplained{FeedbackType: "abuse", AttemptID: "att-7f3a91"})}},
		{file: "open", want: []events.Event{ev("ses:"+mid+":open:"+rcptDigest+":2017-08-09T22:00:19.652Z", "2017-08-09T22:00:19.652Z",
			events.EmailOpened{AttemptID: "att-7f3a91"})}},
		{file: "click", want: []events.Event{ev(webhooks.EventID("ses", mid, "click", rcptDigest, "2017-08-09T23:51:25.570Z",
			"http://docs.aws.amazon.com/ses/latest/DeveloperGuide/send-email-smtp.html"), "2017-08-09T23:51:25.570Z",
			events.EmailClicked{Link: "http://docs.aws.amazon.com/ses/latest/DeveloperGuide/send-email-smtp.html", AttemptID: "att-7f3a91"})}},
		{file: "send", ignored: 1},
		{file: "delivery-delay", ignored: 1},
		{file: "reject", refusedKind: deadletter.KindRejected},
		{file: "rendering-failure", refusedKind: deadletter.KindRejected},
		{file: "subscription", refusedKind: deadletter.KindRejected},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			o, err := ses.Normalise(read(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, o.Events, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			for _, e := range o.Events {
				if err := e.Validate(); err != nil {
					t.Errorf("event %s: %v", e.ID, err)
				}
				if _, err := events.Encode(e); err != nil {
					t.Errorf("event %s does not encode: %v", e.ID, err)
				}
			}
			if len(o.Ignored) != tt.ignored {
				t.Errorf("ignored %q, want %d", o.Ignored, tt.ignored)
			}
			var kinds []string
			for _, r := range o.Refused {
				kinds = append(kinds, r.Kind)
				if strings.Contains(r.Reason, "@") {
					t.Errorf("refusal reason holds an address: %s", r.Reason)
				}
			}
			var want []string
			if tt.refusedKind != "" {
				want = []string{tt.refusedKind}
			}
			if diff := cmp.Diff(want, kinds, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("refusals (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRedeliveryKeepsIDs(t *testing.T) {
	for _, f := range []string{"delivery", "bounce", "complaint", "open", "click"} {
		a, err := ses.Normalise(read(t, f))
		if err != nil {
			t.Fatal(err)
		}
		b, err := ses.Normalise(read(t, f))
		if err != nil {
			t.Fatal(err)
		}
		if a.Events[0].ID != b.Events[0].ID || strings.Contains(a.Events[0].ID, "@") {
			t.Errorf("%s: ids %q and %q; want equal and without the address", f, a.Events[0].ID, b.Events[0].ID)
		}
	}
}

func TestNormaliseMappings(t *testing.T) {
	tagged := `"mail":{"timestamp":"2026-04-14T15:00:00.000Z","messageId":"m1","destination":["Pat.Doe@Example.COM"],
		"tags":{"recoup_tenant":["acme"],"recoup_customer":["b32.IMQDCLZS"],"recoup_attempt":["a1"]}}`
	tests := []struct {
		name     string
		record   string
		wantType events.Type
		check    func(t *testing.T, e events.Event)
		refused  string
	}{
		{name: "transient bounce", record: `{"eventType":"Bounce",` + tagged + `,"bounce":{"bounceType":"Transient","bounceSubType":"MailboxFull",
			"timestamp":"2026-04-14T15:01:00Z","bouncedRecipients":[{"emailAddress":"Pat.Doe@Example.COM"}]}}`,
			wantType: events.TypeEmailBounced, check: func(t *testing.T, e events.Event) {
				if e.Payload.(events.EmailBounced).BounceType != events.BounceTransient {
					t.Errorf("bounce type %v", e.Payload)
				}
				if e.ContactPoint != "pat.doe@example.com" {
					t.Errorf("contact point %q, want lower case", e.ContactPoint)
				}
				if e.Customer != "C 1/2" {
					t.Errorf("customer %q: the b32. tag value was not decoded", e.Customer)
				}
			}},
		{name: "undetermined bounce", record: `{"eventType":"Bounce",` + tagged + `,"bounce":{"bounceType":"Undetermined",
			"timestamp":"2026-04-14T15:01:00Z","bouncedRecipients":[{"emailAddress":"rfc822; <pat.doe@example.com>"}]}}`,
			wantType: events.TypeEmailBounced, check: func(t *testing.T, e events.Event) {
				if e.Payload.(events.EmailBounced).BounceType != events.BounceUndetermined || e.ContactPoint != "pat.doe@example.com" {
					t.Errorf("got %+v", e)
				}
			}},
		{name: "unknown bounce type is undetermined", record: `{"eventType":"Bounce",` + tagged + `,"bounce":{"bounceType":"Novel",
			"timestamp":"2026-04-14T15:01:00Z","bouncedRecipients":[{"emailAddress":"pat.doe@example.com"}]}}`,
			wantType: events.TypeEmailBounced, check: func(t *testing.T, e events.Event) {
				if e.Payload.(events.EmailBounced).BounceType != events.BounceUndetermined {
					t.Errorf("got %+v", e.Payload)
				}
			}},
		{name: "no tags", record: `{"eventType":"Delivery","mail":{"messageId":"m1","timestamp":"2026-04-14T15:00:00Z"},
			"delivery":{"timestamp":"2026-04-14T15:00:01Z","recipients":["pat@example.com"]}}`, refused: deadletter.KindUnknownTenant},
		{name: "feedback notification", record: `{"notificationType":"Bounce","mail":{"messageId":"m1"},"bounce":{}}`,
			refused: deadletter.KindUnsupported},
		{name: "unknown event type", record: `{"eventType":"Teleport",` + tagged + `}`, refused: deadletter.KindUnknownType},
		{name: "open of a two-recipient message", record: `{"eventType":"Open","mail":{"timestamp":"2026-04-14T15:00:00Z","messageId":"m1",
			"destination":["a@example.com","b@example.com"],"tags":{"recoup_tenant":["acme"],"recoup_customer":["C1"]}},
			"open":{"timestamp":"2026-04-14T15:05:00Z"}}`, refused: deadletter.KindRejected},
		{name: "click on a link the contract refuses", record: `{"eventType":"Click",` + tagged + `,"click":{"timestamp":"2026-04-14T15:05:00Z","link":"javascript:alert(1)"}}`,
			refused: deadletter.KindInvalid},
		{name: "recipient that is no address", record: `{"eventType":"Delivery",` + tagged + `,"delivery":{"timestamp":"2026-04-14T15:00:01Z","recipients":["nobody"]}}`,
			refused: deadletter.KindInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := ses.Normalise([]byte(tt.record))
			if err != nil {
				t.Fatal(err)
			}
			if tt.refused != "" {
				if len(o.Refused) != 1 || o.Refused[0].Kind != tt.refused || len(o.Events) != 0 {
					t.Fatalf("outcome %+v, want one refusal of kind %s", o, tt.refused)
				}
				return
			}
			if len(o.Events) != 1 || o.Events[0].Type() != tt.wantType {
				t.Fatalf("outcome %+v, want one %s", o, tt.wantType)
			}
			tt.check(t, o.Events[0])
		})
	}
}

func TestMalformed(t *testing.T) {
	for _, rec := range []string{``, `[]`, `{`, `{"mail":{"messageId":"m"}}`, `{"eventType":"Delivery","mail":{}}`,
		`{"eventType":"Delivery","mail":{"messageId":"m"}}`, `{"eventType":"Bounce","mail":{"messageId":"m"},"bounce":"x"}`} {
		if _, err := ses.Normalise([]byte(rec)); !errors.Is(err, webhooks.ErrMalformed) {
			t.Errorf("Normalise(%q) = %v, want ErrMalformed", rec, err)
		}
	}
}

// FuzzNormalise: never panics; an error is always ErrMalformed; every
// event produced passes the contract.
func FuzzNormalise(f *testing.F) {
	for _, n := range []string{"delivery", "bounce", "complaint", "open", "click", "send", "reject", "subscription"} {
		b, err := os.ReadFile("testdata/" + n + ".json")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		o, err := ses.Normalise(rec)
		if err != nil {
			if !errors.Is(err, webhooks.ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		for _, e := range o.Events {
			if err := e.Validate(); err != nil {
				t.Fatalf("invalid event %+v: %v", e, err)
			}
		}
	})
}
