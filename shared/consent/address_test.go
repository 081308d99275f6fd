package consent

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormaliseAddress(t *testing.T) {
	tests := []struct {
		in      string
		want    Address
		wantErr string // substring; "" = no error
	}{
		{in: "+16175550123", want: "tel:+16175550123"},
		{in: "(617) 555-0123", want: "tel:+16175550123"},
		{in: "1 617 555 0123", want: "tel:+16175550123"},
		{in: "  tel:+1-617-555-0123 ", want: "tel:+16175550123"},
		{in: "TEL:6175550123", want: "tel:+16175550123"},
		{in: "+44 20 7946 0958", want: "tel:+442079460958"},
		{in: "Pat@Example.COM", want: "mailto:pat@example.com"},
		{in: "MailTo: Pat.Lee+ar@Example.com", want: "mailto:pat.lee+ar@example.com"},
		{in: "o'brien@mail.example.co.uk", want: "mailto:o'brien@mail.example.co.uk"},
		{in: "josé@exämple.com", want: "mailto:josé@exämple.com"},
		{in: "customer:C-001", want: "customer:C-001"},
		{in: "Customer: C-001 ", want: "customer:C-001"},
		{in: "", wantErr: `address ""`},
		{in: "pat", wantErr: `address "pat" is neither a phone number`},
		{in: "555-0123", wantErr: `"555-0123"`},
		{in: "tel:12", wantErr: `phone number "tel:12"`},
		{in: "+1 617 555 01234567", wantErr: `"+1 617 555 01234567"`},
		{in: "pat@", wantErr: `e-mail address "pat@" has no domain`},
		{in: "@example.com", wantErr: `nothing before the '@'`},
		{in: "pat@localhost", wantErr: `has no domain with a '.'`},
		{in: "pat lee@example.com", wantErr: `contains ' '`},
		{in: "pat..lee@example.com", wantErr: `misplaced '.'`},
		{in: "pat@exa_mple.com", wantErr: `invalid domain`},
		{in: "pat@-example.com", wantErr: `invalid domain`},
		{in: "mailto:", wantErr: `e-mail address "mailto:" has no '@'`},
		{in: "customer:", wantErr: `customer address "customer:"`},
		{in: "customer:a#b", wantErr: `contains '#'`},
		{in: "\xff@example.com", wantErr: `not valid UTF-8`},
		{in: strings.Repeat("1", 2000), wantErr: `longer than 1024 bytes`},
	}
	for _, tt := range tests {
		got, err := NormaliseAddress(tt.in)
		if tt.wantErr != "" {
			if err == nil {
				t.Errorf("NormaliseAddress(%q) = %q, want error containing %s", tt.in, got, tt.wantErr)
				continue
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("NormaliseAddress(%q) error = %v, want ErrInvalid containing %s", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormaliseAddress(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestAddressKindAndAllows(t *testing.T) {
	tel, mail, cust := Address("tel:+16175550123"), Address("mailto:pat@example.com"), Address("customer:C1")
	tests := []struct {
		a    Address
		c    Channel
		want bool
	}{
		{tel, SMS, true}, {tel, Voice, true}, {tel, VoiceAI, true}, {tel, Prerecorded, true},
		{tel, Email, false}, {tel, Letter, false},
		{mail, Email, true}, {mail, SMS, false}, {mail, Letter, false},
		{cust, Letter, true}, {cust, Email, true}, {cust, SMS, true}, {cust, "fax", false},
		{"pat@example.com", Email, false},
	}
	for _, tt := range tests {
		if got := tt.a.Allows(tt.c); got != tt.want {
			t.Errorf("%s.Allows(%s) = %v, want %v", tt.a, tt.c, got, tt.want)
		}
	}
	if id, ok := cust.Customer(); !ok || id != "C1" {
		t.Errorf("customer id of %s = %q, %v", cust, id, ok)
	}
	if _, ok := tel.Customer(); ok {
		t.Errorf("%s has a customer id", tel)
	}
	if err := Address("tel:6175550123").Validate(); err == nil || !strings.Contains(err.Error(), `want "tel:+16175550123"`) {
		t.Errorf("Validate of an unnormalised number = %v", err)
	}
}

func TestParseChannel(t *testing.T) {
	for _, c := range AllChannels() {
		if got, err := ParseChannel(string(c)); err != nil || got != c {
			t.Errorf("ParseChannel(%q) = %q, %v", c, got, err)
		}
	}
	if _, err := ParseChannel("call"); err == nil || !strings.Contains(err.Error(), `"call"`) {
		t.Errorf("ParseChannel(call) error = %v, want one naming the input", err)
	}
	var automated []Channel
	for _, c := range AllChannels() {
		if c.Automated() {
			automated = append(automated, c)
		}
	}
	if fmt.Sprint(automated) != fmt.Sprint(AutomatedChannels()) {
		t.Errorf("automated channels %v, AutomatedChannels() %v", automated, AutomatedChannels())
	}
}

// FuzzNormaliseAddress checks that normalisation never panics, that its
// output is a fixed point (normalising twice changes nothing) that Validate
// accepts and whose channels make sense, and that every error names the
// input.
func FuzzNormaliseAddress(f *testing.F) {
	for _, s := range []string{
		"+16175550123", "(617) 555-0123", "tel:+442079460958", "Pat@Example.com", "mailto:a.b+c@d.co",
		"customer:C1", "customer: x ", "josé@exämple.com", "İ@example.com", "1-800-FLOWERS", "+1 617 555 0123 ext. 4",
		"tel:", "mailto:@", "@", "", "\x00", "a@b.c", "+0", "011 44 20 7946 0958",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := NormaliseAddress(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("NormaliseAddress(%q) error %v does not wrap ErrInvalid", s, err)
			}
			if len(s) <= maxInputLen && !strings.Contains(err.Error(), fmt.Sprintf("%q", s)) {
				t.Fatalf("NormaliseAddress(%q) error %q does not name the input", s, err)
			}
			return
		}
		if a.Kind() == "" || !utf8.ValidString(string(a)) {
			t.Fatalf("NormaliseAddress(%q) = %q: no scheme or invalid UTF-8", s, a)
		}
		again, err := NormaliseAddress(string(a))
		if err != nil || again != a {
			t.Fatalf("NormaliseAddress(%q) = %q, but normalising that gives %q, %v", s, a, again, err)
		}
		if err := a.Validate(); err != nil {
			t.Fatalf("Validate(%q) = %v", a, err)
		}
		n := 0
		for _, c := range AllChannels() {
			if a.Allows(c) {
				n++
			}
		}
		if n == 0 {
			t.Fatalf("no channel reaches %q", a)
		}
	})
}
