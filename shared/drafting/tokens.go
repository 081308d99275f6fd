package drafting

import (
	"bytes"
	"unicode"
	"unicode/utf8"
)

// The guardrails read a draft as tokens over a working copy of its text in
// which the facts' own literals (names, disclosure texts) are blanked out,
// so "Smith Law Group" or a mini-Miranda never trips a content rule. Every
// transformation keeps byte offsets, so a violation can quote the draft.

type tokKind uint8

const (
	tokWord  tokKind = iota // letters, maybe with internal ' - . / _ #
	tokNum                  // ASCII digits, maybe with internal , . / - :
	tokMixed                // letters and digits: INV-1001, 5th, 9am
	tokSym                  // one rune of punctuation or a symbol: $ € ( ) + @
)

type token struct {
	kind       tokKind
	start, end int
}

// text is a draft prepared for the checks: orig keeps the draft's case,
// low is lower-cased with the same byte offsets; masked spans are spaces in
// both. raw is the draft itself, never masked.
type text struct {
	raw       string
	orig, low []byte
	toks      []token
}

func newText(s string) *text {
	return &text{raw: s, orig: []byte(s), low: foldBytes(s)}
}

// foldBytes lower-cases s without changing any rune's encoded length, so
// offsets into the result are offsets into s. The few runes whose lower case
// is longer or shorter keep their case.
func foldBytes(s string) []byte {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b = append(b, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if l := unicode.ToLower(r); r != utf8.RuneError && l != r && utf8.RuneLen(l) == n {
			b = utf8.AppendRune(b, l)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return b
}

func fold(s string) string { return string(foldBytes(s)) }

// mask blanks [i, j) in both copies.
func (t *text) mask(i, j int) {
	for k := i; k < j; k++ {
		t.orig[k], t.low[k] = ' ', ' '
	}
}

// maskLiteral blanks every occurrence of lit (folded, see findLiteral).
func (t *text) maskLiteral(lit string) {
	lit = literalKey(lit)
	if lit == "" {
		return
	}
	for from := 0; ; {
		i, j := findLiteral(t.low, lit, from)
		if i < 0 {
			return
		}
		t.mask(i, j)
		from = j
	}
}

// literalKey is the form findLiteral compares: folded, straight
// apostrophes, without trailing sentence punctuation (a model may end the
// sentence differently) and surrounding space.
func literalKey(s string) string {
	b := bytes.TrimSpace(foldBytes(s))
	b = bytes.ReplaceAll(b, []byte("’"), []byte("'"))
	b = bytes.TrimRight(b, ".!;, ")
	return string(b)
}

// findLiteral finds lit in low at or after from: whitespace in lit matches
// any run of whitespace (a draft may wrap a disclosure over lines), a
// straight apostrophe matches a curly one, and a literal that begins or ends
// with a letter or digit must begin or end at a word boundary. It returns
// -1, -1 when there is none.
func findLiteral(low []byte, lit string, from int) (int, int) {
	if lit == "" {
		return -1, -1
	}
	first := lit[0]
	for from < len(low) {
		k := bytes.IndexByte(low[from:], first)
		if first == '\'' {
			if c := bytes.Index(low[from:], []byte("’")); c >= 0 && (k < 0 || c < k) {
				k = c
			}
		}
		if k < 0 {
			return -1, -1
		}
		i := from + k
		if j := matchAt(low, i, lit); j >= 0 && boundaryBefore(low, i, lit) && boundaryAfter(low, j, lit) {
			return i, j
		}
		from = i + 1
	}
	return -1, -1
}

func matchAt(low []byte, i int, lit string) int {
	p := 0
	for p < len(lit) {
		c := lit[p]
		switch {
		case isSpaceByte(c):
			if i >= len(low) || !isSpaceByte(low[i]) {
				return -1
			}
			for i < len(low) && isSpaceByte(low[i]) {
				i++
			}
			for p < len(lit) && isSpaceByte(lit[p]) {
				p++
			}
			continue
		case c == '\'' && bytes.HasPrefix(low[i:], []byte("’")):
			i += len("’")
		case i < len(low) && low[i] == c:
			i++
		default:
			return -1
		}
		p++
	}
	return i
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

func boundaryBefore(low []byte, i int, lit string) bool {
	r, _ := utf8.DecodeRuneInString(lit)
	if !isAlnum(r) || i == 0 {
		return true
	}
	p, _ := utf8.DecodeLastRune(low[:i])
	return !isAlnum(p)
}

func boundaryAfter(low []byte, j int, lit string) bool {
	r, _ := utf8.DecodeLastRuneInString(lit)
	if !isAlnum(r) || j >= len(low) {
		return true
	}
	n, _ := utf8.DecodeRune(low[j:])
	return !isAlnum(n)
}

func isAlnum(r rune) bool {
	return r < utf8.RuneSelf && ('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') ||
		r >= utf8.RuneSelf && r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r))
}

func isDigit(r rune) bool { return '0' <= r && r <= '9' }

// tokenize splits the (masked) text into tokens. Connectors join runs of
// letters and digits: "don't", "INV-1001", "1,234.56", "2025-03-05",
// "pay.example.com". A comma or colon joins digits only, so "5, 2025" and
// "Note:" stay apart.
func (t *text) tokenize() {
	s := t.orig
	t.toks = t.toks[:0]
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRune(s[i:])
		if unicode.IsSpace(r) {
			i += n
			continue
		}
		if !isAlnum(r) {
			t.toks = append(t.toks, token{kind: tokSym, start: i, end: i + n})
			i += n
			continue
		}
		start := i
		letters, digits := false, false
		prev := r
		for i < len(s) {
			r, n := utf8.DecodeRune(s[i:])
			if isAlnum(r) {
				if isDigit(r) {
					digits = true
				} else {
					letters = true
				}
				prev = r
				i += n
				continue
			}
			next, _ := utf8.DecodeRune(s[i+n:])
			if !isAlnum(next) || !joins(r, prev, next) {
				break
			}
			i += n
		}
		k := tokWord
		switch {
		case digits && letters:
			k = tokMixed
		case digits:
			k = tokNum
		}
		t.toks = append(t.toks, token{kind: k, start: start, end: i})
	}
}

func joins(c, prev, next rune) bool {
	switch c {
	case '-', '\'', '’', '.', '_', '/', '#':
		return true
	case ',', ':':
		return isDigit(prev) && isDigit(next)
	}
	return false
}

// word is the token's folded text, without allocating a string.
func (t *text) word(k token) []byte { return t.low[k.start:k.end] }

// quote is the token's text as the draft wrote it.
func (t *text) quote(k token) string { return string(t.orig[k.start:k.end]) }

// gap reports whether tokens a and b (a before b) are separated by nothing
// but at most max bytes of horizontal space.
func (t *text) gap(a, b token, max int) bool {
	if b.start-a.end > max {
		return false
	}
	for _, c := range t.orig[a.end:b.start] {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}
