package sender_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/recoup-dev/recoup/shared/sender"
)

func TestMaskAddress(t *testing.T) {
	tests := []struct{ in, want string }{
		{"pat.doe@example.com", "p***@example.com"},
		{"Ünal@example.de", "Ü***@example.de"},
		{"@example.com", "***@example.com"},
		{"+16175550142", "+1********42"},
		{"+44", "***"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := sender.MaskAddress(tc.in); got != tc.want {
			t.Errorf("MaskAddress(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzMaskAddress(f *testing.F) {
	for _, s := range []string{"pat@example.com", "+16175550142", "", "@", "a@b@c", "\xff\xfe@x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := sender.MaskAddress(s)
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("MaskAddress(%q) = %q, not valid UTF-8", s, got)
		}
		// Anything long enough to identify someone is never shown whole.
		if r := []rune(got); strings.LastIndexByte(s, '@') < 0 && len(r) > 4 && strings.Trim(string(r[2:len(r)-2]), "*") != "" {
			t.Fatalf("MaskAddress(%q) = %q shows more than the ends", s, got)
		}
		if at := strings.LastIndexByte(s, '@'); at > 0 {
			local, _, _ := strings.Cut(got, "***@")
			if utf8.RuneCountInString(local) > 1 || !strings.HasSuffix(got, "***@"+s[at+1:]) {
				t.Fatalf("MaskAddress(%q) = %q shows the mailbox", s, got)
			}
		}
	})
}

func TestClassOf(t *testing.T) {
	pe := &sender.ProviderError{Class: sender.ClassPermanent, Code: "MessageRejected"}
	tests := []struct {
		err  error
		want sender.Class
	}{
		{pe, sender.ClassPermanent},
		{fmt.Errorf("wrapped: %w", pe), sender.ClassPermanent},
		{&sender.ProviderError{Class: sender.ClassTransient}, sender.ClassTransient},
		{errors.New("anything else"), sender.ClassInDoubt},
		{&sender.ProviderError{}, sender.ClassInDoubt},
		{sender.Invalid("no body"), sender.ClassPermanent},
	}
	for _, tc := range tests {
		if got := sender.ClassOf(tc.err); got != tc.want {
			t.Errorf("ClassOf(%v) = %s, want %s", tc.err, got, tc.want)
		}
	}
}

// TestProviderErrorKeepsProviderTextOut: provider messages can quote the
// destination; the error's text is class, code and detail only.
func TestProviderErrorKeepsProviderTextOut(t *testing.T) {
	err := &sender.ProviderError{Class: sender.ClassPermanent, Code: "MessageRejected", Detail: "HTTP 400",
		Err: errors.New("Email address is not verified: pat@example.com")}
	if got, want := err.Error(), "permanent provider error MessageRejected (HTTP 400)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
