package events_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/recoup-dev/recoup/events"
	"github.com/recoup-dev/recoup/shared/money"
)

// edit decodes a sample into a generic map, applies change and encodes it
// again, so each bad input differs from a valid event in one place.
func edit(t *testing.T, typ events.Type, change func(e map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(samples(t)[typ]))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	change(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func payload(e map[string]any) map[string]any { return e["payload"].(map[string]any) }

// schemaAlso says whether the schema file alone refuses the input too. The
// rules marked goOnly are the ones JSON Schema cannot state; the table makes
// that list explicit.
const (
	schemaAlso = true
	goOnly     = false
)

func TestDecodeRefusesBadInput(t *testing.T) {
	s := schema(t)
	sample := samples(t)[events.TypePaymentReceived]
	tests := []struct {
		name   string
		in     []byte
		field  string // FieldError.Field
		reason string // part of the message
		is     error  // a sentinel besides ErrInvalid
		schema bool   // the schema refuses it too
	}{
		// Not an event at all.
		{"empty", nil, "", "empty", nil, schemaAlso},
		{"whitespace", []byte(" \n\t"), "", "empty", nil, schemaAlso},
		{"invalid JSON", []byte(`{"schema_version": "1", "id": `), "", "not valid JSON", nil, schemaAlso},
		{"truncated", sample[:len(sample)/2], "", "not valid JSON", nil, schemaAlso},
		{"trailing data", append(append([]byte{}, sample...), []byte(` {}`)...), "", "more data after", nil, schemaAlso},
		{"an array", []byte(`[1, 2]`), "", "want a JSON object, got an array", nil, schemaAlso},
		{"a string", []byte(`"STOP"`), "", "got a string", nil, schemaAlso},
		{"null", []byte(`null`), "", "got null", nil, schemaAlso},
		{"base64 of an event", []byte(base64.StdEncoding.EncodeToString(sample)), "", "base64", nil, schemaAlso},
		{"base64 garbage", []byte("SGVsbG8gV29ybGQ="), "", "base64", nil, schemaAlso},
		{"binary garbage", []byte{0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe, 0x00, 0x7b}, "", "not valid UTF-8", nil, schemaAlso},
		{"invalid UTF-8 inside a string", bytes.Replace(sample, []byte("pi_3OxR2a"), []byte("pi_\xff\xfe"), 1), "", "UTF-8", nil, goOnly},
		{"1 MB record", append(append([]byte{}, sample[:len(sample)-1]...), bytes.Repeat([]byte(" "), 1<<20)...), "", "more than the 262144-byte limit", events.ErrTooLarge, goOnly},
		{"1 MB of valid JSON", edit(t, events.TypeSMSInbound, func(e map[string]any) { payload(e)["text"] = strings.Repeat("STOP ", 200_000) }), "", "262144-byte limit", events.ErrTooLarge, schemaAlso},
		{"too many fields", edit(t, events.TypeSMSInbound, func(e map[string]any) {
			for i := range 40 {
				e[fmt.Sprint("f", i)] = i
			}
		}), "", "more than 32 fields", nil, schemaAlso},
		{"deep nesting", []byte(`{"schema_version": "1", "x": ` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`), "", "not valid JSON", nil, schemaAlso},

		// Envelope.
		{"unknown version", edit(t, events.TypeSMSInbound, func(e map[string]any) { e["schema_version"] = "2" }), "schema_version", `"2" is not supported`, events.ErrUnsupportedVersion, schemaAlso},
		{"version as a number", edit(t, events.TypeSMSInbound, func(e map[string]any) { e["schema_version"] = 1 }), "schema_version", "want a string", nil, schemaAlso},
		{"no version", edit(t, events.TypeSMSInbound, func(e map[string]any) { delete(e, "schema_version") }), "schema_version", "required", nil, schemaAlso},
		{"unknown type", edit(t, events.TypeSMSInbound, func(e map[string]any) { e["type"] = "sms.exploded" }), "type", `unknown event type "sms.exploded"`, events.ErrUnknownType, schemaAlso},
		{"no type", edit(t, events.TypeSMSInbound, func(e map[string]any) { delete(e, "type") }), "type", "required", nil, schemaAlso},
		{"missing tenant", edit(t, events.TypeSMSInbound, func(e map[string]any) { delete(e, "tenant") }), "tenant", "required", nil, schemaAlso},
		{"empty tenant", edit(t, events.TypeSMSInbound, func(e map[string]any) { e["tenant"] = "" }), "tenant", "required", nil, schemaAlso},
		{"null tenant", edit(t, events.TypeSMSInbound, func(e map[string]any) { e["tenant"] = nil }), "tenant", "null", nil, schemaAlso},
		{"tenant with the key separator", edit(t, events.TypeSMSInbound, func(e map[string]any) { e["tenant"] = "acme#evil" }), "tenant", `contains '#'`, nil, schemaAlso},
		{"tenant with a newline", edit(t, events.TypeSMSInbound, func(e map[string]any) { e["tenant"] = "acme\n" }), "tenant", "", nil, schemaAlso},
		{"id over 128 bytes", edit(t, events.TypeSMSInbound, func(e map[string]any) { e["id"] = strings.Repeat("é", 100) }), "id", "longer than 128 bytes", nil, goOnly},
		{"missing id", edit(t, events.TypeSMSInbound, func(e map[string]any) { delete(e, "id") }), "id", "required", nil, schemaAlso},
		{"missing customer", edit(t, events.TypeSMSInbound, func(e map[string]any) { delete(e, "customer") }), "customer", "required", nil, schemaAlso},
		{"empty optional debt", edit(t, events.TypeSMSInbound, func(e map[string]any) { e["debt"] = "" }), "debt", "omit the field", nil, schemaAlso},
		{"extra field", edit(t, events.TypeSMSInbound, func(e map[string]any) { e["priority"] = "high" }), "priority", "unknown field", nil, schemaAlso},
		{"field name in another case", edit(t, events.TypeSMSInbound, func(e map[string]any) { e["Tenant"] = e["tenant"]; delete(e, "tenant") }), "Tenant", "unknown field", nil, schemaAlso},
		{"two tenants in one record", []byte(strings.Replace(string(samples(t)[events.TypeSMSInbound]), `"tenant": "acme-supply",`, `"tenant": "acme-supply", "tenant": "globex",`, 1)), "tenant", "more than once", nil, goOnly},
		{"unknown channel", edit(t, events.TypeSMSInbound, func(e map[string]any) { e["channel"] = "fax" }), "channel", `unknown channel "fax"`, nil, schemaAlso},
		{"channel the type cannot happen on", edit(t, events.TypeSMSInbound, func(e map[string]any) { e["channel"] = "voice" }), "channel", "sms.inbound cannot happen on voice", nil, schemaAlso},
		{"time without zone", edit(t, events.TypeSMSInbound, func(e map[string]any) { e["occurred_at"] = "2025-03-04T17:03:22" }), "occurred_at", "RFC 3339 UTC", nil, schemaAlso},
		{"time with an offset", edit(t, events.TypeSMSInbound, func(e map[string]any) { e["occurred_at"] = "2025-03-04T12:03:22-05:00" }), "occurred_at", "RFC 3339 UTC", nil, schemaAlso},
		{"time in another format", edit(t, events.TypeSMSInbound, func(e map[string]any) { e["occurred_at"] = "03/04/2025 17:03" }), "occurred_at", "RFC 3339 UTC", nil, schemaAlso},
		{"time that never was", edit(t, events.TypeSMSInbound, func(e map[string]any) { e["occurred_at"] = "2025-02-30T17:03:22Z" }), "occurred_at", "not a real time", nil, schemaAlso},
		{"time before 1970", edit(t, events.TypeSMSInbound, func(e map[string]any) { e["occurred_at"] = "0001-01-01T00:00:00Z" }), "occurred_at", "", nil, goOnly},
		{"time as a number", edit(t, events.TypeSMSInbound, func(e map[string]any) { e["occurred_at"] = 1741107802 }), "occurred_at", "want a string, got a number", nil, schemaAlso},
		{"producer in capitals", edit(t, events.TypeSMSInbound, func(e map[string]any) { e["source"] = "SES" }), "source", "producer name", nil, schemaAlso},

		// Contact points.
		{"invalid E.164", edit(t, events.TypeSMSInbound, func(e map[string]any) { e["contact_point"] = "+10000000000" }), "contact_point", "not a valid E.164 phone number", nil, goOnly},
		{"national number", edit(t, events.TypeSMSInbound, func(e map[string]any) { e["contact_point"] = "(617) 555-0123" }), "contact_point", "neither an E.164 phone number", nil, schemaAlso},
		{"e-mail in capitals", edit(t, events.TypeEmailOpened, func(e map[string]any) { e["contact_point"] = "Pat.Doe@Example.com" }), "contact_point", "lower case", nil, schemaAlso},
		{"e-mail with two dots", edit(t, events.TypeEmailOpened, func(e map[string]any) { e["contact_point"] = "pat..doe@example.com" }), "contact_point", "not an e-mail address", nil, schemaAlso},
		{"e-mail for a text", edit(t, events.TypeSMSInbound, func(e map[string]any) { e["contact_point"] = "pat.doe@example.com" }), "contact_point", "not a phone number, but the channel is sms", nil, schemaAlso},
		{"number for an e-mail", edit(t, events.TypeEmailOpened, func(e map[string]any) { e["contact_point"] = "+16175550123" }), "contact_point", "phone number, but the channel is email", nil, schemaAlso},
		{"contact point on a letter", edit(t, events.TypeCeaseRequested, func(e map[string]any) { e["contact_point"] = "+16175550123" }), "contact_point", "a letter has no contact point", nil, schemaAlso},
		{"inbound text without a number", edit(t, events.TypeSMSInbound, func(e map[string]any) { delete(e, "contact_point") }), "contact_point", "required for sms.inbound", nil, schemaAlso},

		// Payloads.
		{"no payload", edit(t, events.TypeSMSInbound, func(e map[string]any) { delete(e, "payload") }), "payload", "required", nil, schemaAlso},
		{"null payload", edit(t, events.TypeSMSInbound, func(e map[string]any) { e["payload"] = nil }), "payload", "null", nil, schemaAlso},
		{"payload not an object", edit(t, events.TypeSMSInbound, func(e map[string]any) { e["payload"] = "STOP" }), "payload", "want a JSON object, got a string", nil, schemaAlso},
		{"wrong payload for type", edit(t, events.TypeSMSInbound, func(e map[string]any) { e["payload"] = map[string]any{"bounce_type": "permanent"} }), "payload.bounce_type", "unknown field (want text)", nil, schemaAlso},
		{"payload missing a required field", edit(t, events.TypeSMSInbound, func(e map[string]any) { e["payload"] = map[string]any{} }), "payload.text", "required", nil, schemaAlso},
		{"extra payload field", edit(t, events.TypeSMSInbound, func(e map[string]any) { payload(e)["keyword"] = "STOP" }), "payload.keyword", "unknown field", nil, schemaAlso},
		{"duplicate payload field", []byte(strings.Replace(string(samples(t)[events.TypeSMSInbound]), `{"text": "STOP"}`, `{"text": "STOP", "text": "YES"}`, 1)), "payload.text", "more than once", nil, goOnly},
		{"text too long", edit(t, events.TypeSMSInbound, func(e map[string]any) { payload(e)["text"] = strings.Repeat("x", 1601) }), "payload.text", "more than 1600", nil, schemaAlso},
		{"float amount", edit(t, events.TypePaymentReceived, func(e map[string]any) { payload(e)["amount"] = 1234.5 }), "payload.amount", "never JSON numbers", nil, schemaAlso},
		{"amount with more decimals than the currency", edit(t, events.TypePaymentReceived, func(e map[string]any) { payload(e)["amount"] = "12.345" }), "payload.amount", `"12.345" has more decimals than USD allows`, money.ErrAmount, goOnly},
		{"yen with decimals", edit(t, events.TypePaymentReceived, func(e map[string]any) { payload(e)["amount"] = "1200.5"; payload(e)["currency"] = "JPY" }), "payload.amount", "more decimals than JPY allows", money.ErrAmount, goOnly},
		{"amount with a thousands comma", edit(t, events.TypePaymentReceived, func(e map[string]any) { payload(e)["amount"] = "1,234.50" }), "payload.amount", "not a decimal amount", money.ErrAmount, schemaAlso},
		{"negative amount", edit(t, events.TypePaymentReceived, func(e map[string]any) { payload(e)["amount"] = "-5.00" }), "payload.amount", "not a decimal amount", money.ErrAmount, schemaAlso},
		{"zero amount", edit(t, events.TypePaymentReceived, func(e map[string]any) { payload(e)["amount"] = "0.00" }), "payload.amount", "not greater than zero", nil, schemaAlso},
		{"amount in exponent form", edit(t, events.TypePaymentReceived, func(e map[string]any) { payload(e)["amount"] = "1e3" }), "payload.amount", "not a decimal amount", money.ErrAmount, schemaAlso},
		{"currency in lower case", edit(t, events.TypePaymentReceived, func(e map[string]any) { payload(e)["currency"] = "usd" }), "payload.currency", "upper-case ISO 4217", money.ErrUnknownCurrency, schemaAlso},
		{"unknown currency", edit(t, events.TypePaymentReceived, func(e map[string]any) { payload(e)["currency"] = "ABC" }), "payload.currency", `unknown currency "ABC"`, money.ErrUnknownCurrency, goOnly},
		{"gold is not money", edit(t, events.TypePaymentReceived, func(e map[string]any) { payload(e)["currency"] = "XAU" }), "payload.currency", "unknown currency", money.ErrUnknownCurrency, goOnly},
		{"empty invoice list", edit(t, events.TypePaymentReceived, func(e map[string]any) { payload(e)["invoices"] = []string{} }), "payload.invoices", "omit the field", nil, schemaAlso},
		{"invoice listed twice", edit(t, events.TypePaymentReceived, func(e map[string]any) { payload(e)["invoices"] = []string{"INV-1", "INV-1"} }), "payload.invoices[1]", "listed twice", nil, schemaAlso},
		{"invoice as a number", edit(t, events.TypePaymentReceived, func(e map[string]any) { payload(e)["invoices"] = []any{"INV-1", 2} }), "payload.invoices", "want an array of strings", nil, schemaAlso},
		{"call outcome unknown", edit(t, events.TypeCallOutcome, func(e map[string]any) { payload(e)["outcome"] = "hung_up" }), "payload.outcome", `unknown call outcome "hung_up"`, nil, schemaAlso},
		{"duration as a string", edit(t, events.TypeCallOutcome, func(e map[string]any) { payload(e)["duration_seconds"] = "41" }), "payload.duration_seconds", "want a whole number", nil, schemaAlso},
		{"fractional duration", edit(t, events.TypeCallOutcome, func(e map[string]any) { payload(e)["duration_seconds"] = 41.5 }), "payload.duration_seconds", "want a whole number", nil, schemaAlso},
		{"negative duration", edit(t, events.TypeCallOutcome, func(e map[string]any) { payload(e)["duration_seconds"] = -1 }), "payload.duration_seconds", "outside 0-86400", nil, schemaAlso},
		{"call without an attempt", edit(t, events.TypeCallOutcome, func(e map[string]any) { delete(payload(e), "attempt_id") }), "payload.attempt_id", "required", nil, schemaAlso},
		{"promise on a date that never was", edit(t, events.TypePromiseMade, func(e map[string]any) { payload(e)["promised_date"] = "2025-02-30" }), "payload.promised_date", "not a calendar date", nil, schemaAlso},
		{"promise date with a sign", edit(t, events.TypePromiseMade, func(e map[string]any) { payload(e)["promised_date"] = "+025-03-14" }), "payload.promised_date", "not a calendar date", nil, schemaAlso},
		{"promise dated before it was made", edit(t, events.TypePromiseMade, func(e map[string]any) { payload(e)["promised_date"] = "2025-03-01" }), "payload.promised_date", "before the promise was made", nil, goOnly},
		{"dispute of another invoice than the debt", edit(t, events.TypeDisputeRaised, func(e map[string]any) { payload(e)["invoice"] = "INV-9" }), "payload.invoice", "disagrees with the event's debt", nil, goOnly},
		{"written as a string", edit(t, events.TypeDisputeRaised, func(e map[string]any) { payload(e)["written"] = "yes" }), "payload.written", "want true or false", nil, schemaAlso},
		{"bounce type unknown", edit(t, events.TypeEmailBounced, func(e map[string]any) { payload(e)["bounce_type"] = "Permanent" }), "payload.bounce_type", "not permanent, transient or undetermined", nil, schemaAlso},
		{"link that is not http", edit(t, events.TypeEmailClicked, func(e map[string]any) { payload(e)["link"] = "javascript:alert(1)" }), "payload.link", "not an http or https URL", nil, schemaAlso},
		{"link with a space", edit(t, events.TypeEmailClicked, func(e map[string]any) { payload(e)["link"] = "https://pay.example.com/a b" }), "payload.link", "space or control character", nil, schemaAlso},
		{"consent to the portal", edit(t, events.TypeConsentGiven, func(e map[string]any) { payload(e)["channel"] = "web" }), "payload.channel", "not a consent channel", nil, schemaAlso},
		{"imported consent", edit(t, events.TypeConsentGiven, func(e map[string]any) { payload(e)["source"] = "import" }), "payload.source", "not direct, application or written", nil, schemaAlso},
		{"revocation by pigeon", edit(t, events.TypeConsentRevoked, func(e map[string]any) { payload(e)["via"] = "pigeon" }), "payload.via", `"pigeon" is not a way`, nil, schemaAlso},
		{"revocation naming a channel twice", edit(t, events.TypeConsentRevoked, func(e map[string]any) { payload(e)["channels"] = []string{"sms", "sms"} }), "payload.channels[1]", "listed twice", nil, schemaAlso},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := events.Decode(tt.in)
			if err == nil {
				t.Fatalf("Decode accepted it: %+v", e)
			}
			var fe *events.FieldError
			if !errors.As(err, &fe) || !errors.Is(err, events.ErrInvalid) {
				t.Fatalf("error %v (%T) is not a *FieldError wrapping ErrInvalid", err, err)
			}
			if fe.Field != tt.field || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q, want field %q and a reason containing %q", err, tt.field, tt.reason)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q does not wrap %v", err, tt.is)
			}
			if tt.field != "" && !strings.HasPrefix(err.Error(), tt.field+": ") {
				t.Errorf("error %q does not start with the field name", err)
			}
			serr := s.Validate(tt.in)
			if tt.schema && serr == nil {
				t.Errorf("the schema accepts it, but the table says the schema refuses it too")
			}
			if !tt.schema && serr != nil {
				t.Errorf("the schema refuses it (%v), but the table calls the rule Go-only", serr)
			}
		})
	}
}

// TestErrorNamesTheFieldAsTheBriefSaysIt pins the message a collector sees
// in the dead-letter queue for the commonest money mistake.
func TestErrorNamesTheFieldAsTheBriefSaysIt(t *testing.T) {
	in := edit(t, events.TypePaymentReceived, func(e map[string]any) { payload(e)["amount"] = "12.345" })
	_, err := events.Decode(in)
	if want := `payload.amount: "12.345" has more decimals than USD allows`; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %v, want it to start %q", err, want)
	}
}
