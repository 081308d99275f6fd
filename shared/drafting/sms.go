package drafting

import (
	"unicode/utf16"
	"unicode/utf8"
)

// SMSEncoding is how a text message is encoded on the air interface.
type SMSEncoding string

// Encodings (3GPP TS 23.038). A single character outside the GSM 7-bit
// alphabet (an emoji, a curly quote) switches the whole message to UCS-2,
// which more than halves what fits in a segment.
const (
	GSM7 SMSEncoding = "GSM-7"
	UCS2 SMSEncoding = "UCS-2"
)

// Segment sizes: a single message, and each part of a concatenated one
// (whose user-data header takes 6 bytes).
const (
	gsmSingle, gsmPart   = 160, 153 // septets
	ucs2Single, ucs2Part = 70, 67   // UTF-16 code units
)

// gsmBasic is the GSM 03.38 default alphabet; gsmExtension the characters
// reached through the escape code, which cost two septets each.
var (
	gsmBasic = runeSet("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
	gsmExtension = runeSet("\f^{}\\[~]|€")
)

func runeSet(s string) map[rune]bool {
	m := make(map[rune]bool, len(s))
	for _, r := range s {
		m[r] = true
	}
	return m
}

// ascii7 marks the ASCII runes in the basic alphabet: the fast path.
var ascii7 = func() (a [128]bool) {
	for r := range gsmBasic {
		if r < 128 {
			a[r] = true
		}
	}
	return a
}()

// SMSSize is the measured size of a text message.
type SMSSize struct {
	Encoding SMSEncoding
	Units    int // septets for GSM-7 (extension characters count 2), UTF-16 code units for UCS-2
	Segments int // 0 for an empty message
}

// MeasureSMS sizes s as carriers bill it. Concatenated parts never split
// an escape sequence or a surrogate pair, so the count can exceed
// ceil(Units/153).
func MeasureSMS(s string) SMSSize { return measureSMS(s, 0) }

// measureSMS sizes s followed by extra GSM basic characters (a payment link
// appended later: URLs are ASCII).
func measureSMS(s string, extra int) SMSSize {
	gsm := true
	for _, r := range s {
		if r < 128 && ascii7[r] || r >= 128 && gsmBasic[r] || gsmExtension[r] {
			continue
		}
		gsm = false
		break
	}
	if gsm {
		return pack(GSM7, s, extra, gsmSingle, gsmPart, func(r rune) int {
			if gsmExtension[r] {
				return 2
			}
			return 1
		})
	}
	return pack(UCS2, s, extra, ucs2Single, ucs2Part, func(r rune) int {
		if r == utf8.RuneError {
			return 1
		}
		return utf16.RuneLen(r)
	})
}

func pack(enc SMSEncoding, s string, extra, single, part int, size func(rune) int) SMSSize {
	units := extra
	for _, r := range s {
		units += size(r)
	}
	out := SMSSize{Encoding: enc, Units: units}
	switch {
	case units == 0:
		return out
	case units <= single:
		out.Segments = 1
		return out
	}
	segs, cur := 1, 0
	add := func(n int) {
		if cur+n > part {
			segs++
			cur = 0
		}
		cur += n
	}
	for _, r := range s {
		add(size(r))
	}
	for range extra {
		add(1)
	}
	out.Segments = segs
	return out
}
