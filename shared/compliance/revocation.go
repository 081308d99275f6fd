package compliance

import (
	"strings"
	"unicode"
)

// revocationKeywords are honoured as a revocation wherever they stand as a
// word, in any case (47 CFR 64.1200(a)(10)-(12); FCC 24-24 names STOP, QUIT,
// END, REVOKE, OPT OUT, CANCEL and UNSUBSCRIBE; STOPALL is the carriers'
// keyword). A false positive only stops automated contact, so we accept
// "end" or "cancel" inside a sentence too.
var revocationKeywords = []string{"STOP", "STOPALL", "QUIT", "END", "REVOKE", "CANCEL", "UNSUBSCRIBE", "OPTOUT"}

// Plain-language revocations ("any reasonable means", FCC 24-24). Each
// pattern is a sequence of word alternatives matched on lower-case words with
// apostrophes dropped, so "Don't call me anymore" matches dont + call.
var revocationPhrases = []struct {
	name  string
	words [][]string
}{
	{"do not contact", [][]string{{"dont", "donot", "never"}, contactVerbs}},
	{"do not contact", [][]string{{"do", "please"}, {"not"}, contactVerbs}},
	{"stop contacting", [][]string{{"quit", "cease", "halt"}, contactVerbs}},
	{"remove my number", [][]string{{"remove", "delete", "unlist"}, {"me", "my", "this", "us", "our"}}},
	{"take me off", [][]string{{"take", "get", "put"}, {"me", "my", "this", "us", "our"}, {"off", "out"}}},
	{"no more messages", [][]string{{"no"}, {"more", "further"}, contactNouns}},
	{"leave me alone", [][]string{{"leave"}, {"me", "us"}, {"alone"}}},
	{"wrong number", [][]string{{"wrong"}, {"number", "person", "phone"}}},
	{"opt out", [][]string{{"opt"}, {"out", "me"}}},
	{"i revoke consent", [][]string{{"withdraw", "revoking", "revoked"}, {"my", "consent", "permission"}}},
}

var contactVerbs = []string{"call", "calls", "calling", "text", "texts", "texting", "txt", "message",
	"messages", "messaging", "contact", "contacting", "email", "emailing", "phone", "phoning",
	"ring", "ringing", "bother", "bothering", "harass", "harassing", "send", "sending", "robocall", "robocalls"}

var contactNouns = []string{"calls", "texts", "messages", "emails", "contact", "robocalls", "txts", "sms"}

// Revocation reports whether text revokes consent to automated contact and
// what matched: a keyword in upper case ("STOP", "OPT OUT") or the name of a
// phrase ("do not contact"). Keywords count as standalone words in any case;
// plain words count when they say to stop contact.
func Revocation(text string) (revoked bool, keyword string) {
	words := splitWords(text)
	for i, w := range words {
		for _, k := range revocationKeywords {
			if strings.EqualFold(w, k) {
				if k == "OPTOUT" {
					return true, "OPT OUT"
				}
				return true, k
			}
		}
		if strings.EqualFold(w, "opt") && i+1 < len(words) && strings.EqualFold(words[i+1], "out") {
			return true, "OPT OUT"
		}
	}
	lower := make([]string, len(words))
	for i, w := range words {
		lower[i] = strings.ToLower(w)
	}
	for _, p := range revocationPhrases {
		if matchPhrase(lower, p.words) {
			return true, p.name
		}
	}
	return false, ""
}

// matchPhrase finds the alternatives in order, allowing one filler word
// between them ("don't ever call", "take my number off").
func matchPhrase(words []string, pattern [][]string) bool {
	for start := range words {
		if !oneOf(words[start], pattern[0]) {
			continue
		}
		pos, ok := start, true
		for _, alts := range pattern[1:] {
			found := false
			for j := pos + 1; j < len(words) && j <= pos+2; j++ {
				if oneOf(words[j], alts) {
					pos, found = j, true
					break
				}
			}
			if !found {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func oneOf(w string, alts []string) bool {
	for _, a := range alts {
		if w == a {
			return true
		}
	}
	return false
}

// splitWords splits on anything but letters and digits, dropping
// apostrophes inside words so "don't" reads as "dont".
func splitWords(text string) []string {
	var words []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			words = append(words, b.String())
			b.Reset()
		}
	}
	for _, r := range text {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		case (r == '\'' || r == '’') && b.Len() > 0:
			// an apostrophe inside a word: "don't" → "dont"
		default:
			flush()
		}
	}
	flush()
	return words
}

// mediaMentioned says which media plain words name ("stop texting me" names
// texts), so a revocation also refuses that medium under 1006.14(h).
func mediaMentioned(text string) (voice, sms, email bool) {
	for _, w := range splitWords(text) {
		switch strings.ToLower(w) {
		case "call", "calls", "calling", "phone", "phoning", "ring", "ringing", "voicemail", "voicemails", "robocall", "robocalls":
			voice = true
		case "text", "texts", "texting", "txt", "txts", "sms", "message", "messages", "messaging":
			sms = true
		case "email", "emails", "emailing", "mail":
			email = true
		}
	}
	return voice, sms, email
}
