package drafting

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/recoup-dev/recoup/shared/money"
)

// amountToken is one money-looking span of a draft.
type amountToken struct {
	start, end int
	number     string   // the digits as written: "1,234.56"
	codes      []string // currencies the marker allows; nil: the facts' currency (a bare amount)
	cents      bool     // "50 cents": number is in minor units
	malformed  bool     // a currency marker followed by something that is not an exact amount
}

var dollarCodes = []string{"USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN"}

// symbolCodes maps a currency sign (with the letters that may precede it,
// "US$", "CA$") to the currencies it can mean.
var symbolCodes = map[string][]string{
	"$": dollarCodes, "us$": {"USD"}, "ca$": {"CAD"}, "c$": {"CAD"}, "a$": {"AUD"}, "au$": {"AUD"},
	"nz$": {"NZD"}, "s$": {"SGD"}, "sg$": {"SGD"}, "hk$": {"HKD"}, "mx$": {"MXN"},
	"€": {"EUR"}, "£": {"GBP"}, "¥": {"JPY", "CNY"}, "₹": {"INR"}, "₩": {"KRW"}, "₣": {"CHF"},
}

// wordCodes maps currency words written after an amount.
var wordCodes = map[string][]string{
	"dollar": dollarCodes, "dollars": dollarCodes, "bucks": dollarCodes, "euro": {"EUR"}, "euros": {"EUR"},
	"pound": {"GBP"}, "pounds": {"GBP"}, "sterling": {"GBP"}, "yen": {"JPY"}, "rupees": {"INR"},
	"francs": {"CHF"}, "pesos": {"MXN"},
}

// magnitudes after an amount make it inexact ("$1.2 million", "5k").
var magnitudes = map[string]bool{"k": true, "m": true, "mm": true, "bn": true, "thousand": true,
	"million": true, "billion": true, "grand": true}

// isoCode reports whether the token is written as an upper-case ISO 4217
// code ("USD"); lower-case "usd" is too likely an ordinary word elsewhere.
func isoCode(orig string) (string, bool) {
	if len(orig) != 3 {
		return "", false
	}
	for i := 0; i < 3; i++ {
		if orig[i] < 'A' || orig[i] > 'Z' {
			return "", false
		}
	}
	if _, err := money.ParseCurrency(orig); err != nil {
		return "", false
	}
	return orig, true
}

// amountGrammar accepts "1234", "1,234", "1,234.56", "1234.5": the forms
// money.Parse reads.
func amountGrammar(s string) bool {
	intPart, frac, hasDot := strings.Cut(s, ".")
	if hasDot && (frac == "" || !allDigits(frac)) {
		return false
	}
	if strings.Contains(intPart, ",") {
		return money.ValidGroups(strings.Split(intPart, ","))
	}
	return intPart != "" && allDigits(intPart)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// bareAmount says whether a number with no currency marker still reads as
// money in currency c: thousands separators, or exactly c's decimals.
func bareAmount(s string, c money.Currency) bool {
	if !amountGrammar(s) {
		return false
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if hasDot {
		return c.Scale() > 0 && len(frac) == c.Scale()
	}
	return strings.Contains(intPart, ",")
}

// extractAmounts finds every money-looking span: a currency sign or code
// before a number ("$1,234.56", "US$ 80", "USD 1,234.56", "USD1234.56"), a
// code or currency word after one ("1,234.56 USD", "80 dollars", "50
// cents"), and bare numbers that can only be money in the facts' currency
// ("1,234.56"). Signs are ignored: a draft states balances, not credits.
func extractAmounts(t *text, c money.Currency) []amountToken {
	var out []amountToken
	toks := t.toks
	used := make([]bool, len(toks))
	for i := 0; i < len(toks); i++ {
		k := toks[i]
		if used[i] {
			continue
		}
		// Prefix markers: a sign, maybe glued to letters ("US$"), or an ISO code.
		var codes []string
		first := i
		switch {
		case k.kind == tokSym:
			codes = symbolCodes[string(t.word(k))]
			if codes != nil && i > 0 && toks[i-1].end == k.start && toks[i-1].kind == tokWord && !used[i-1] {
				if cc, ok := symbolCodes[string(t.word(toks[i-1]))+string(t.word(k))]; ok {
					codes, first = cc, i-1
				}
			}
		case k.kind == tokWord:
			if code, ok := isoCode(t.quote(k)); ok {
				codes = []string{code}
			}
		case k.kind == tokMixed:
			// "USD1,234.56" or "1,234.56USD".
			q := t.quote(k)
			if len(q) > 3 {
				if code, ok := isoCode(q[:3]); ok && allDigitsOrSep(q[3:]) {
					out = append(out, amountToken{start: k.start, end: k.end, number: q[3:], codes: []string{code},
						malformed: !amountGrammar(q[3:])})
					used[i] = true
					continue
				}
				if code, ok := isoCode(q[len(q)-3:]); ok && allDigitsOrSep(q[:len(q)-3]) {
					out = append(out, amountToken{start: k.start, end: k.end, number: q[:len(q)-3], codes: []string{code},
						malformed: !amountGrammar(q[:len(q)-3])})
					used[i] = true
					continue
				}
			}
			if q[0] >= '0' && q[0] <= '9' && i > 0 && symbolCodes[string(t.word(toks[i-1]))] != nil && t.gap(toks[i-1], k, 1) {
				// "$5k", "$1.2m": a sign before something that is not an exact number.
				out = append(out, amountToken{start: toks[i-1].start, end: k.end, number: q, codes: symbolCodes[string(t.word(toks[i-1]))], malformed: true})
				used[i], used[i-1] = true, true
			}
			continue
		}
		if codes != nil {
			j := i + 1
			if j < len(toks) && toks[j].kind == tokSym && (t.word(toks[j])[0] == '-' || t.word(toks[j])[0] == '+') && t.gap(k, toks[j], 1) {
				j++ // "$ -5.00"
			}
			if j < len(toks) && toks[j].kind == tokNum && t.gap(toks[j-1], toks[j], 1) {
				n := toks[j]
				a := amountToken{start: toks[first].start, end: n.end, number: t.quote(n), codes: codes}
				a.malformed = !amountGrammar(a.number)
				// A currency word or code after it as well ("$80 USD") belongs to it.
				if j+1 < len(toks) && t.gap(n, toks[j+1], 1) {
					nx := toks[j+1]
					if magnitudes[string(t.word(nx))] {
						a.malformed, a.end = true, nx.end
						used[j+1] = true
					} else if code, ok := isoCode(t.quote(nx)); ok {
						a.codes = intersect(a.codes, []string{code})
						a.end = nx.end
						used[j+1] = true
					}
				}
				out = append(out, a)
				for x := first; x <= j; x++ {
					used[x] = true
				}
				i = j
			}
			continue
		}
		if k.kind != tokNum {
			continue
		}
		// Suffix markers: "1,234.56 USD", "80 dollars", "50 cents", "1.2 million".
		num := t.quote(k)
		if i+1 < len(toks) && t.gap(k, toks[i+1], 1) && toks[i+1].kind == tokWord {
			nx := toks[i+1]
			w := string(t.word(nx))
			a := amountToken{start: k.start, end: nx.end, number: num}
			switch {
			case w == "cent" || w == "cents":
				a.cents = true
				a.malformed = !allDigits(num)
			case wordCodes[w] != nil:
				a.codes = wordCodes[w]
			case magnitudes[w] && amountGrammar(num) && (i+2 < len(toks) && isCurrencyWord(t, toks[i+2]) || bareAmount(num, c)):
				a.malformed = true
			default:
				if code, ok := isoCode(t.quote(nx)); ok {
					a.codes = []string{code}
				} else {
					a.end = 0
				}
			}
			if a.end != 0 {
				if !a.cents && !a.malformed {
					a.malformed = !amountGrammar(num)
				}
				out = append(out, a)
				used[i], used[i+1] = true, true
				i++
				continue
			}
		}
		if !c.IsZero() && bareAmount(num, c) {
			out = append(out, amountToken{start: k.start, end: k.end, number: num})
			used[i] = true
		}
	}
	return out
}

func isCurrencyWord(t *text, k token) bool {
	if wordCodes[string(t.word(k))] != nil {
		return true
	}
	_, ok := isoCode(t.quote(k))
	return ok
}

func allDigitsOrSep(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !unicode.IsDigit(r) && r != ',' && r != '.' {
			return false
		}
	}
	return utf8.ValidString(s)
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	if out == nil {
		return []string{} // non-nil: a marker was present and allows nothing
	}
	return out
}
