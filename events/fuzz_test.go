package events_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/events"
)

// FuzzDecode: Decode never panics; it refuses with a *FieldError wrapping
// ErrInvalid, or it accepts an event that the schema file also accepts, that
// Encode writes (schema-valid too) and that decodes back equal, byte for
// byte the same when encoded again.
func FuzzDecode(f *testing.F) {
	s := schema(f)
	for _, data := range samples(f) {
		f.Add(data)
	}
	for _, seed := range []string{
		``, `{}`, `[]`, `null`, `"x"`, `{"schema_version":"1"}`, `{"schema_version":"2","type":"sms.inbound"}`,
		`{"schema_version":"1","type":"sms.inbound","payload":{"text":1}}`, "SGVsbG8gV29ybGQ=", "\xff\xfe",
		`{"schema_version":"1","id":"a","tenant":"t","customer":"c","type":"hardship.stated","channel":"web","occurred_at":"2025-01-01T00:00:00Z","source":"x","payload":{}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := events.Decode(data)
		if err != nil {
			var fe *events.FieldError
			if !errors.As(err, &fe) || !errors.Is(err, events.ErrInvalid) {
				t.Fatalf("Decode error %v (%T) is not a *FieldError wrapping ErrInvalid", err, err)
			}
			return
		}
		if err := s.Validate(data); err != nil {
			t.Fatalf("Decode accepted an event the schema refuses: %v\n%q", err, data)
		}
		out, err := events.Encode(e)
		if err != nil {
			t.Fatalf("Encode refused a decoded event: %v\n%q", err, data)
		}
		if err := s.Validate(out); err != nil {
			t.Fatalf("Encode wrote an event the schema refuses: %v\n%s", err, out)
		}
		again, err := events.Decode(out)
		if err != nil {
			t.Fatalf("Decode(Encode(e)): %v\n%s", err, out)
		}
		if diff := cmp.Diff(e, again, equalEvents); diff != "" {
			t.Fatalf("round trip changed the event (-first +second):\n%s", diff)
		}
		if out2, err := events.Encode(again); err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("Encode is not stable: %s vs %s (%v)", out, out2, err)
		}
	})
}
