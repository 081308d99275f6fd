package events_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/events"
	"github.com/recoup-dev/recoup/events/internal/jsonschema"
	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

// equalEvents compares events field by field; money.Currency keeps its
// code unexported, so it is compared as a value.
var equalEvents = cmp.Options{cmp.Comparer(func(a, b money.Currency) bool { return a == b })}

func schema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	b, err := os.ReadFile("schema/engagement-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	s, err := jsonschema.Compile(b)
	if err != nil {
		t.Fatalf("compile schema/engagement-v1.json: %v", err)
	}
	return s
}

// samples returns every file in samples/, by event type (the file name).
func samples(t testing.TB) map[events.Type][]byte {
	t.Helper()
	files, err := filepath.Glob("samples/*.json")
	if err != nil {
		t.Fatal(err)
	}
	out := map[events.Type][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[events.Type(strings.TrimSuffix(filepath.Base(f), ".json"))] = b
	}
	return out
}

func TestSamplesCoverEveryType(t *testing.T) {
	got := slices.Sorted(func(yield func(events.Type) bool) {
		for typ := range samples(t) {
			if !yield(typ) {
				return
			}
		}
	})
	want := events.Types()
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("samples/*.json and Types() differ (-Types +samples):\n%s", diff)
	}
}

func TestSamplesRoundTrip(t *testing.T) {
	s := schema(t)
	for typ, data := range samples(t) {
		t.Run(string(typ), func(t *testing.T) {
			if err := s.Validate(data); err != nil {
				t.Errorf("sample breaks the schema: %v", err)
			}
			e, err := events.Decode(data)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if e.Type() != typ {
				t.Errorf("samples/%s.json decodes as %s", typ, e.Type())
			}
			out, err := events.Encode(e)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if err := s.Validate(out); err != nil {
				t.Errorf("encoded event breaks the schema: %v\n%s", err, out)
			}
			again, err := events.Decode(out)
			if err != nil {
				t.Fatalf("Decode(Encode(sample)): %v\n%s", err, out)
			}
			if diff := cmp.Diff(e, again, equalEvents); diff != "" {
				t.Errorf("Decode → Encode → Decode changed the event (-first +second):\n%s", diff)
			}
			out2, err := events.Encode(again)
			if err != nil || !bytes.Equal(out, out2) {
				t.Errorf("Encode is not deterministic:\n%s\n%s (%v)", out, out2, err)
			}
			if want := string(e.Tenant) + "#" + e.Customer; e.PartitionKey() != want {
				t.Errorf("PartitionKey() = %q, want %q", e.PartitionKey(), want)
			}
		})
	}
}

// TestVocabularyMatchesTheDomain: the contract spells channels, consent
// sources, revocation routes and call outcomes as shared/consent and
// shared/compliance do, so the consumer passes them through unmapped.
func TestVocabularyMatchesTheDomain(t *testing.T) {
	for _, c := range events.Channels() {
		_, err := consent.ParseChannel(string(c))
		if consentable := c != events.ChannelWeb && c != events.ChannelPayment; consentable != (err == nil) {
			t.Errorf("channel %s: consent.ParseChannel error %v, want one only for web and payment", c, err)
		}
	}
	for _, v := range []events.Via{events.ViaSMSReply, events.ViaEmailReply, events.ViaCall, events.ViaLetter,
		events.ViaWeb, events.ViaAgent} {
		if !consent.Via(v).Valid() {
			t.Errorf("via %s is not a consent.Via", v)
		}
	}
	for _, s := range []events.ConsentSource{events.ConsentDirect, events.ConsentApplication, events.ConsentWritten} {
		if !consent.Source(s).Valid() {
			t.Errorf("consent source %s is not a consent.Source", s)
		}
	}
	for _, o := range []events.Outcome{events.OutcomeConnected, events.OutcomeConversation, events.OutcomeVoicemail,
		events.OutcomeNoAnswer, events.OutcomeBusy, events.OutcomeNotInService} {
		if !slices.Contains([]compliance.Outcome{compliance.OutcomeConnected, compliance.OutcomeConversation,
			compliance.OutcomeVoicemail, compliance.OutcomeNoAnswer, compliance.OutcomeBusy,
			compliance.OutcomeNotInService}, compliance.Outcome(o)) {
			t.Errorf("call outcome %s is not a compliance.Outcome", o)
		}
	}
}

// TestSampleContactPointsAreConsentAddresses: a contact point is already in
// the consent ledger's normal form, so a STOP and the texts it stops share
// one history.
func TestSampleContactPointsAreConsentAddresses(t *testing.T) {
	for typ, data := range samples(t) {
		e, err := events.Decode(data)
		if err != nil || e.ContactPoint == "" {
			continue
		}
		a, err := consent.NormaliseAddress(e.ContactPoint)
		if err != nil || strings.SplitN(string(a), ":", 2)[1] != e.ContactPoint {
			t.Errorf("%s: contact point %q normalises to %q (%v)", typ, e.ContactPoint, a, err)
		}
	}
}

// awsTestdata finds aws-lambda-go's sample events in the module cache.
func awsTestdata(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-lambda-go").Output()
	if err != nil {
		t.Fatalf("locate aws-lambda-go: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "events", "testdata")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("aws-lambda-go sample events: %v (run go mod download)", err)
	}
	return dir
}

// TestAWSSamplesAreNotEngagementEvents replays every provider sample event
// shipped with aws-lambda-go through Decode: each is refused with a named
// reason, none is mistaken for one of ours, nothing panics.
func TestAWSSamplesAreNotEngagementEvents(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(awsTestdata(t), "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 50 {
		t.Fatalf("found %d aws-lambda-go sample events, expected about 100", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		e, err := events.Decode(data)
		var fe *events.FieldError
		if err == nil || !errors.Is(err, events.ErrInvalid) || !errors.As(err, &fe) {
			t.Errorf("%s: Decode = %+v, %v; want a *FieldError wrapping ErrInvalid", filepath.Base(f), e, err)
			continue
		}
		t.Logf("%s: %v", filepath.Base(f), err)
	}
}

// TestAWSKinesisSamplesCarryNoEngagementEvent: the Kinesis samples are real
// Kinesis records, but their data ("Hello World") is not our schema.
func TestAWSKinesisSamplesCarryNoEngagementEvent(t *testing.T) {
	dir := awsTestdata(t)
	n := 0
	for _, name := range []string{"kinesis-event.json", "kinesis-time-window-event.json"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		var ev lambdaevents.KinesisEvent
		if err := json.Unmarshal(data, &ev); err != nil {
			t.Fatalf("%s: not a Kinesis event: %v", name, err)
		}
		for _, rec := range ev.Records {
			n++
			_, err := events.DecodeKinesisRecord(rec)
			if err == nil || !errors.Is(err, events.ErrInvalid) {
				t.Errorf("%s record %s: err = %v, want ErrInvalid", name, rec.EventID, err)
				continue
			}
			if msg := err.Error(); !strings.Contains(msg, rec.EventID) || !strings.Contains(msg, "not valid JSON") {
				t.Errorf("%s: error %q should name the record and say the data is not JSON", name, msg)
			}
		}
	}
	if n == 0 {
		t.Fatal("no Kinesis records in the samples")
	}
}

// TestDecodeKinesisRecord puts every sample through the Kinesis event JSON
// a Lambda receives (data base64-encoded) and back.
func TestDecodeKinesisRecord(t *testing.T) {
	for typ, data := range samples(t) {
		want, err := events.Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		in := lambdaevents.KinesisEvent{Records: []lambdaevents.KinesisEventRecord{{
			EventSource: "aws:kinesis",
			EventID:     "shardId-000000000000:4959",
			Kinesis:     lambdaevents.KinesisRecord{Data: data, PartitionKey: want.PartitionKey()},
		}}}
		wire, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		var ev lambdaevents.KinesisEvent
		if err := json.Unmarshal(wire, &ev); err != nil {
			t.Fatal(err)
		}
		got, err := events.DecodeKinesisRecord(ev.Records[0])
		if err != nil {
			t.Errorf("%s: %v", typ, err)
			continue
		}
		if diff := cmp.Diff(want, got, equalEvents); diff != "" {
			t.Errorf("%s: (-Decode +DecodeKinesisRecord):\n%s", typ, diff)
		}
	}
	_, err := events.DecodeKinesisRecord(lambdaevents.KinesisEventRecord{EventID: "shardId-000000000000:1"})
	if !errors.Is(err, events.ErrInvalid) || !strings.Contains(err.Error(), "empty") {
		t.Errorf("a record without data: %v, want an error saying it is empty", err)
	}
}

func TestPartitionKeyStaysWithinKinesisLimit(t *testing.T) {
	long := strings.Repeat("c", 128)
	e := events.Event{Tenant: ledger.TenantID(strings.Repeat("t", 128)), Customer: long}
	k := e.PartitionKey()
	if len(k) > 256 || !strings.HasPrefix(k, strings.Repeat("t", 128)+"#") {
		t.Errorf("PartitionKey() = %q (%d characters), want tenant# and at most 256", k, len(k))
	}
	other := e
	other.Customer = long[:127] + "d"
	if other.PartitionKey() == k {
		t.Error("two customers' long keys collide")
	}
	if e.PartitionKey() != k {
		t.Error("PartitionKey is not deterministic")
	}
}

// validEvent is a well-formed event to break one field at a time.
func validEvent() events.Event {
	return events.Event{
		ID:         "payments:pi_1:succeeded",
		Tenant:     "acme-supply",
		Customer:   "C-10058",
		Debt:       "INV-2025-0355",
		Channel:    events.ChannelPayment,
		OccurredAt: time.Date(2025, 3, 4, 17, 9, 13, 0, time.UTC),
		Source:     "payments",
		Payload: events.PromiseMade{
			Amount:       money.New(50000, money.MustCurrency("USD")),
			PromisedDate: ledger.Date(2025, 3, 14),
			Invoices:     []string{"INV-2025-0355"},
		},
	}
}

func TestEncodeRefusesInvalidEvents(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*events.Event)
		field string
	}{
		{"no payload", func(e *events.Event) { e.Payload = nil }, "payload"},
		{"pointer payload", func(e *events.Event) { e.Payload = &events.HardshipStated{} }, "payload"},
		{"no id", func(e *events.Event) { e.ID = "" }, "id"},
		{"id with the key separator", func(e *events.Event) { e.ID = "a#b" }, "id"},
		{"id of invalid UTF-8", func(e *events.Event) { e.ID = "a\xffb" }, "id"},
		{"no tenant", func(e *events.Event) { e.Tenant = "" }, "tenant"},
		{"customer with trailing space", func(e *events.Event) { e.Customer = "C-1 " }, "customer"},
		{"no time", func(e *events.Event) { e.OccurredAt = time.Time{} }, "occurred_at"},
		{"no channel", func(e *events.Event) { e.Channel = "" }, "channel"},
		{"no source", func(e *events.Event) { e.Source = "" }, "source"},
		{"zero amount", func(e *events.Event) {
			p := e.Payload.(events.PromiseMade)
			p.Amount.Minor = 0
			e.Payload = p
		}, "payload.amount"},
		{"no currency", func(e *events.Event) {
			p := e.Payload.(events.PromiseMade)
			p.Amount = money.Amount{Minor: 100}
			e.Payload = p
		}, "payload.currency"},
		{"amount too large for the wire form", func(e *events.Event) {
			p := e.Payload.(events.PromiseMade)
			p.Amount.Minor = 1 << 62
			e.Payload = p
		}, "payload.amount"},
		{"promised date not a calendar date", func(e *events.Event) {
			p := e.Payload.(events.PromiseMade)
			p.PromisedDate = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
			e.Payload = p
		}, "payload.promised_date"},
		{"invoice of invalid UTF-8", func(e *events.Event) {
			p := e.Payload.(events.PromiseMade)
			p.Invoices = []string{"INV-\xff"}
			e.Payload = p
		}, "payload.invoices[0]"},
		{"text too long", func(e *events.Event) {
			e.Payload = events.HardshipStated{Note: strings.Repeat("é", 4001)}
		}, "payload.note"},
	}
	for _, tt := range tests {
		e := validEvent()
		tt.edit(&e)
		_, err := events.Encode(e)
		var fe *events.FieldError
		if !errors.As(err, &fe) || fe.Field != tt.field || !errors.Is(err, events.ErrInvalid) {
			t.Errorf("%s: Encode error %v, want a FieldError on %s", tt.name, err, tt.field)
		}
	}
}

func TestEncodeWritesUTC(t *testing.T) {
	e := validEvent()
	e.OccurredAt = time.Date(2025, 3, 4, 12, 9, 13, 5e8, time.FixedZone("EST", -5*3600))
	out, err := events.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte(`"occurred_at":"2025-03-04T17:09:13.5Z"`)) {
		t.Errorf("Encode did not write the time in UTC: %s", out)
	}
	got, err := events.Decode(out)
	if err != nil || !got.OccurredAt.Equal(e.OccurredAt) || got.OccurredAt.Location() != time.UTC {
		t.Errorf("decoded time %v (%v), want %v in UTC", got.OccurredAt, err, e.OccurredAt)
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, typ := range []events.Type{events.TypeSMSInbound, events.TypePaymentReceived} {
		data := samples(b)[typ]
		b.Run(string(typ), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := events.Decode(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestDecodeConcurrently: Decode keeps a shared cache of phone-number
// verdicts; run with -race, concurrent decodes must not race on it.
func TestDecodeConcurrently(t *testing.T) {
	all := samples(t)
	done := make(chan error)
	for range 8 {
		go func() {
			var err error
			for range 50 {
				for _, data := range all {
					if _, e := events.Decode(data); e != nil {
						err = e
					}
				}
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
