package drafting

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// dateToken is one date-looking span of a draft.
type dateToken struct {
	start, end int
	date       civil // year 0: no year written; day 0: month and year only
	valid      bool  // the day exists
}

var months = map[string]time.Month{
	"january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
	"may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
	"sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}

var weekdays = map[string]time.Weekday{"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday,
	"wednesday": time.Wednesday, "thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday}

// monthAt reads a month name at token i. "May" and the three-letter
// abbreviations that are also words ("mar", "dec") must be capitalised.
func monthAt(t *text, k token) (time.Month, bool) {
	if k.kind != tokWord {
		return 0, false
	}
	w := string(t.word(k))
	m, ok := months[w]
	if !ok {
		return 0, false
	}
	if len(w) <= 4 || w == "may" {
		r, _ := utf8.DecodeRune(t.orig[k.start:])
		if !unicode.IsUpper(r) {
			return 0, false
		}
	}
	return m, true
}

// dayAt reads a day of month: "5", "05", "5th".
func dayAt(t *text, k token) (int, bool) {
	w := string(t.word(k))
	switch k.kind {
	case tokNum:
	case tokMixed:
		for _, suf := range []string{"st", "nd", "rd", "th"} {
			if s, ok := strings.CutSuffix(w, suf); ok {
				w = s
				break
			}
		}
	default:
		return 0, false
	}
	if len(w) < 1 || len(w) > 2 || !allDigits(w) {
		return 0, false
	}
	d, _ := strconv.Atoi(w)
	return d, true
}

func yearAt(t *text, k token) (int, bool) {
	w := string(t.word(k))
	if k.kind != tokNum || len(w) != 4 || !allDigits(w) {
		return 0, false
	}
	y, _ := strconv.Atoi(w)
	return y, y >= 1900 && y <= 2199
}

// extractDates finds every date-looking span: month-name dates ("March 5,
// 2025", "Mar. 5th", "March 2025"), day-first ones ("5 March 2025", "5th of
// March"), ISO dates (2025-03-05) and US numeric ones (3/5/2025, 03-05-25,
// 3/5). Numeric forms are read month first, as drafts for US customers
// write them; a numeric form that is no date either way ("24/7") is left
// alone.
func extractDates(t *text) []dateToken {
	var out []dateToken
	toks := t.toks
	next := func(i int, k token) (token, bool) {
		if i+1 < len(toks) && t.gap(k, toks[i+1], 2) {
			return toks[i+1], true
		}
		return token{}, false
	}
	isSym := func(k token, s string) bool { return k.kind == tokSym && string(t.word(k)) == s }
	for i := 0; i < len(toks); i++ {
		k := toks[i]
		if m, ok := monthAt(t, k); ok {
			j, last := i, k
			if n, ok := next(j, last); ok && isSym(n, ".") {
				j, last = j+1, n
			}
			n, ok := next(j, last)
			if !ok {
				continue
			}
			if d, ok := dayAt(t, n); ok {
				j, last = j+1, n
				c := civil{m: m, d: d}
				j, last, c.y = yearAfter(t, toks, j, last)
				out = append(out, dateToken{start: k.start, end: last.end, date: c, valid: c.valid()})
				i = j
				continue
			}
			if y, ok := yearAt(t, n); ok {
				c := civil{y: y, m: m}
				out = append(out, dateToken{start: k.start, end: n.end, date: c, valid: true})
				i = j + 1
			}
			continue
		}
		if d, ok := dayAt(t, k); ok {
			j, last := i, k
			if n, ok := next(j, last); ok && n.kind == tokWord && string(t.word(n)) == "of" {
				j, last = j+1, n
			}
			n, ok := next(j, last)
			if !ok {
				continue
			}
			if m, ok := monthAt(t, n); ok {
				j, last = j+1, n
				if n, ok := next(j, last); ok && isSym(n, ".") {
					j, last = j+1, n
				}
				c := civil{m: m, d: d}
				j, last, c.y = yearAfter(t, toks, j, last)
				out = append(out, dateToken{start: k.start, end: last.end, date: c, valid: c.valid()})
				i = j
			}
			continue
		}
		if k.kind == tokNum {
			if c, ok := numericDate(string(t.word(k))); ok {
				out = append(out, dateToken{start: k.start, end: k.end, date: c, valid: c.valid()})
			}
		}
	}
	return out
}

// yearAfter reads an optional ", 2025" after token j.
func yearAfter(t *text, toks []token, j int, last token) (int, token, int) {
	p := j + 1
	if p < len(toks) && toks[p].kind == tokSym && string(t.word(toks[p])) == "," && t.gap(last, toks[p], 1) {
		p++
	}
	if p < len(toks) && t.gap(toks[p-1], toks[p], 2) {
		if y, ok := yearAt(t, toks[p]); ok {
			return p, toks[p], y
		}
	}
	return j, last, 0
}

// numericDate reads ISO and US numeric dates. It reports false for numbers
// that are not dates in any reading, so phone numbers and fractions pass
// on to the other checks.
func numericDate(s string) (civil, bool) {
	var sep byte
	for _, c := range []byte{'-', '/', '.'} {
		if strings.IndexByte(s, c) >= 0 {
			if sep != 0 {
				return civil{}, false
			}
			sep = c
		}
	}
	if sep == 0 || strings.ContainsAny(s, ",:") {
		return civil{}, false
	}
	parts := strings.Split(s, string(sep))
	nums := make([]int, len(parts))
	for i, p := range parts {
		if !allDigits(p) || len(p) > 4 {
			return civil{}, false
		}
		nums[i], _ = strconv.Atoi(p)
	}
	switch {
	case len(parts) == 3 && len(parts[0]) == 4 && len(parts[1]) <= 2 && len(parts[2]) <= 2 && sep != '.':
		return civil{y: nums[0], m: time.Month(nums[1]), d: nums[2]}, nums[1] >= 1 && nums[1] <= 12 && nums[2] >= 1 && nums[2] <= 31
	case len(parts) == 3 && len(parts[0]) <= 2 && len(parts[1]) <= 2 && (len(parts[2]) == 4 || len(parts[2]) == 2 && sep != '.'):
		y := nums[2]
		if len(parts[2]) == 2 {
			y += 2000
		}
		return civil{y: y, m: time.Month(nums[0]), d: nums[1]}, nums[0] >= 1 && nums[0] <= 12 && nums[1] >= 1 && nums[1] <= 31
	case len(parts) == 2 && sep == '/' && len(parts[0]) <= 2 && len(parts[1]) <= 2:
		return civil{m: time.Month(nums[0]), d: nums[1]}, nums[0] >= 1 && nums[0] <= 12 && nums[1] >= 1 && nums[1] <= 31
	}
	return civil{}, false
}

// matches reports whether a written date names one of the facts' dates:
// the same day, ignoring the year when none was written; the same month and
// year when no day was.
func (c civil) matches(facts []civil) bool {
	for _, f := range facts {
		switch {
		case c.d == 0:
			if c.y == f.y && c.m == f.m {
				return true
			}
		case c.y == 0:
			if c.m == f.m && c.d == f.d {
				return true
			}
		case c == f:
			return true
		}
	}
	return false
}
