package compliance

import (
	"strings"
	"testing"
)

func TestRevocation(t *testing.T) {
	tests := []struct {
		text    string
		revoked bool
		keyword string
	}{
		{"STOP", true, "STOP"},
		{"stop", true, "STOP"},
		{"Stop.", true, "STOP"},
		{"Stop texting me", true, "STOP"},
		{"please STOP!!!", true, "STOP"},
		{"StopAll", true, "STOPALL"},
		{"quit", true, "QUIT"},
		{"END", true, "END"},
		{"revoke", true, "REVOKE"},
		{"Cancel", true, "CANCEL"},
		{"unsubscribe me", true, "UNSUBSCRIBE"},
		{"OPT OUT", true, "OPT OUT"},
		{"opt-out", true, "OPT OUT"},
		{"optout", true, "OPT OUT"},
		{"don't call me anymore", true, "do not contact"},
		{"Don’t text me", true, "do not contact"},
		{"do not contact me again", true, "do not contact"},
		{"please do not ever call", true, "do not contact"},
		{"never call this number again", true, "do not contact"},
		{"please remove my number", true, "remove my number"},
		{"Remove me from your list", true, "remove my number"},
		{"take me off your list", true, "take me off"},
		{"take my number off", true, "take me off"},
		{"no more texts please", true, "no more messages"},
		{"leave me alone", true, "leave me alone"},
		{"you have the wrong number", true, "wrong number"},
		{"opt me out", true, "opt out"},
		{"I withdraw my consent", true, "i revoke consent"},
		{"", false, ""},
		{"I will pay on Friday", false, ""},
		{"Can you call me tomorrow?", false, ""},
		{"I don't have the money right now", false, ""},
		{"my stopwatch broke", false, ""},
		{"unstoppable", false, ""},
		{"Thanks, I'll call you back", false, ""},
		{"Yes", false, ""},
		{"what is this about?", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			revoked, kw := Revocation(tt.text)
			if revoked != tt.revoked || kw != tt.keyword {
				t.Errorf("Revocation(%q) = %v, %q; want %v, %q", tt.text, revoked, kw, tt.revoked, tt.keyword)
			}
		})
	}
}

// FuzzRevocation: never panics, a keyword comes with every revocation, and
// any text with a standalone STOP in any mix of case is a revocation.
func FuzzRevocation(f *testing.F) {
	for _, s := range []string{"", "STOP", "stop texting me", "don't call me anymore", "please remove my number",
		"I will pay Friday", "stopwatch", "ſtop", "STOP\u0301", "\xff\xfe", "opt-out", "Ｓｔｏｐ"} {
		f.Add(s, s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, prefix, suffix string, caseMask uint8) {
		revoked, kw := Revocation(prefix)
		if revoked != (kw != "") {
			t.Fatalf("Revocation(%q) = %v, %q", prefix, revoked, kw)
		}
		word := []byte("stop")
		for i := range word {
			if caseMask&(1<<i) != 0 {
				word[i] = word[i] - 'a' + 'A'
			}
		}
		text := prefix + " " + string(word) + " " + suffix
		if revoked, _ := Revocation(text); !revoked {
			t.Fatalf("Revocation(%q) = false with a standalone %s", text, word)
		}
		if revoked, _ := Revocation(strings.ToUpper(text)); !revoked {
			t.Fatalf("Revocation(%q) = false", strings.ToUpper(text))
		}
	})
}
