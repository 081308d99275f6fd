package deadletter

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var at = time.Date(2026, 11, 3, 14, 0, 0, 0, time.FixedZone("CET", 3600))

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestNewKeepsAtMostMaxBody(t *testing.T) {
	tests := []struct {
		name          string
		size          int
		wantKept      int
		wantTruncated bool
	}{
		{"empty", 0, 0, false},
		{"small", 10, 10, false},
		{"exactly MaxBody", MaxBody, MaxBody, false},
		{"one over", MaxBody + 1, MaxBody, true},
		{"much larger", 3 * MaxBody, MaxBody, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := make([]byte, tt.size)
			for i := range body {
				body[i] = byte(i % 251)
			}
			l := New("engagement", KindTooLarge, "too big", body, at)
			if len(l.Body) != tt.wantKept || l.Truncated != tt.wantTruncated {
				t.Errorf("kept %d bytes, truncated %v; want %d, %v", len(l.Body), l.Truncated, tt.wantKept, tt.wantTruncated)
			}
			if !bytes.Equal(l.Body, body[:tt.wantKept]) {
				t.Error("Body is not the first bytes of the input")
			}
			// BodyBytes and BodySHA256 describe the whole input, not what was kept.
			if l.BodyBytes != tt.size {
				t.Errorf("BodyBytes = %d, want %d", l.BodyBytes, tt.size)
			}
			if l.BodySHA256 != sha(body) {
				t.Errorf("BodySHA256 = %s, want %s", l.BodySHA256, sha(body))
			}
			if !l.At.Equal(at) || l.At.Location() != time.UTC {
				t.Errorf("At = %v, want %v in UTC", l.At, at)
			}
			if err := l.Validate(); err != nil {
				t.Errorf("Validate() = %v", err)
			}
		})
	}
}

func TestNewCopiesBody(t *testing.T) {
	body := []byte("original")
	l := New("engagement", KindInvalid, "bad", body, at)
	body[0] = 'X'
	if string(l.Body) != "original" {
		t.Errorf("Body = %q after the caller changed its slice, want a copy", l.Body)
	}
}

func TestValidateRefuses(t *testing.T) {
	valid := New("webhooks/ses", KindForged, "signature does not verify", []byte(`{}`), at)
	tests := []struct {
		name   string
		change func(*Letter)
		want   string // in the error
	}{
		{"no source", func(l *Letter) { l.Source = "" }, "no source"},
		{"no kind", func(l *Letter) { l.Kind = "" }, "no kind"},
		{"no reason", func(l *Letter) { l.Reason = "" }, "no reason"},
		{"no time", func(l *Letter) { l.At = time.Time{} }, "no time"},
		{"body over MaxBody", func(l *Letter) { l.Body = make([]byte, MaxBody+1) }, "over"},
	}
	if err := valid.Validate(); err != nil {
		t.Fatalf("Validate() of a letter from New = %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := valid
			tt.change(&l)
			err := l.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.want)
			}
			if _, err := Encode(l); err == nil {
				t.Error("Encode() of an invalid letter = nil error")
			}
		})
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	big := bytes.Repeat([]byte("\x00\xffé\"x"), MaxBody/5+10)
	letters := map[string]Letter{
		"minimal":          New("engagement", KindInvalid, "record 1: not JSON", []byte("{"), at),
		"empty body":       New("engagement", KindInvalid, "record 2: empty", nil, at),
		"truncated binary": New("webhooks/ses", KindTooLarge, "over the limit", big, at),
	}
	full := New("engagement", KindUnknownCustomer, "customer c-9 is not in the ledger", []byte(`{"customer":"c-9"}`), at)
	full.Field = "payload.customer"
	full.RecordID = "evt-42"
	full.Tenant = "acme"
	full.Origin = map[string]string{"shard": "shardId-000000000000", "sequence": "4959"}
	letters["every field"] = full
	for name, want := range letters {
		t.Run(name, func(t *testing.T) {
			b, err := Encode(want)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(b)
			if err != nil {
				t.Fatalf("Decode(%.200s) = %v", b, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeRefuses(t *testing.T) {
	for _, in := range []string{``, `not json`, `[]`, `{"source":"engagement"}`} {
		if _, err := Decode([]byte(in)); err == nil {
			t.Errorf("Decode(%q) = nil error", in)
		}
	}
}
