package webhooks_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/shared/webhooks"
)

func TestEventID(t *testing.T) {
	tests := []struct {
		parts []string
		want  string
	}{
		{[]string{"m1", "delivery"}, "ses:m1:delivery"},
		{[]string{"m1", "a#b"}, "ses:sha256:"}, // '#' separates key parts
		{[]string{strings.Repeat("x", 130)}, "ses:sha256:"},
		{[]string{"m1", "line\nbreak"}, "ses:sha256:"},
	}
	for _, tt := range tests {
		got := webhooks.EventID("ses", tt.parts...)
		if !strings.HasPrefix(got, tt.want) || len(got) > 128 {
			t.Errorf("EventID(%q) = %q, want prefix %q and at most 128 bytes", tt.parts, got, tt.want)
		}
		if again := webhooks.EventID("ses", tt.parts...); again != got {
			t.Errorf("EventID is not deterministic: %q then %q", got, again)
		}
	}
}

func TestValueRoundTrip(t *testing.T) {
	for _, v := range []string{"C-10042", "acme_supply.eu@x", "C 1/2", "b32.looks-encoded", "Café #9", strings.Repeat("y", 300)} {
		enc := webhooks.EncodeValue(v)
		for i := 0; i < len(enc); i++ {
			c := enc[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_.@-", c) >= 0) {
				t.Errorf("EncodeValue(%q) = %q holds %q, which SES refuses in a tag", v, enc, c)
			}
		}
		got, err := webhooks.DecodeValue(enc)
		if err != nil || got != v {
			t.Errorf("DecodeValue(EncodeValue(%q)) = %q, %v", v, got, err)
		}
	}
	if _, err := webhooks.DecodeValue("b32.!!"); err == nil {
		t.Error("bad base32 accepted")
	}
}

func TestReadCorrelation(t *testing.T) {
	tags := map[string]string{"recoup_tenant": "acme", "recoup_customer": webhooks.EncodeValue("C 1"), "recoup_attempt": "a1"}
	got, err := webhooks.ReadCorrelation(func(k string) (string, bool) { v, ok := tags[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(webhooks.Correlation{Tenant: "acme", Customer: "C 1", Attempt: "a1"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	delete(tags, "recoup_customer")
	if _, err := webhooks.ReadCorrelation(func(k string) (string, bool) { v, ok := tags[k]; return v, ok }); err == nil ||
		!strings.Contains(err.Error(), "recoup_customer") {
		t.Errorf("missing customer: %v", err)
	}
}

// FuzzDecodeValue: decoding never panics, and encoding what it decodes
// gives a value that decodes to the same.
func FuzzDecodeValue(f *testing.F) {
	f.Add("C-10042")
	f.Add("b32.IMQDCLZS")
	f.Add("b32.")
	f.Fuzz(func(t *testing.T, v string) {
		d, err := webhooks.DecodeValue(v)
		if err != nil {
			return
		}
		back, err := webhooks.DecodeValue(webhooks.EncodeValue(d))
		if err != nil || back != d {
			t.Fatalf("round trip of %q: %q, %v", d, back, err)
		}
	})
}
