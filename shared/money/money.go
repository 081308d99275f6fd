// Package money holds amounts as integer minor units with an ISO 4217
// currency. Floats never touch money: a parse from text is exact or fails.
package money

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"golang.org/x/text/currency"
)

// Currency is a validated ISO 4217 alphabetic code with its minor-unit scale.
type Currency struct {
	code  string
	scale int
}

// ErrUnknownCurrency is returned for a code that is not an ISO 4217 currency.
var ErrUnknownCurrency = errors.New("unknown currency")

// ErrAmount is returned for amounts that cannot be represented exactly.
var ErrAmount = errors.New("invalid amount")

// ErrCurrencyMismatch is returned when amounts of two currencies are combined.
var ErrCurrencyMismatch = errors.New("currency mismatch")

// ParseCurrency validates an ISO 4217 code (case-insensitive).
func ParseCurrency(code string) (Currency, error) {
	c := strings.ToUpper(strings.TrimSpace(code))
	if len(c) != 3 {
		return Currency{}, fmt.Errorf("%w %q: want a 3-letter ISO 4217 code", ErrUnknownCurrency, code)
	}
	u, err := currency.ParseISO(c)
	if err != nil || notMoney[u.String()] {
		return Currency{}, fmt.Errorf("%w %q", ErrUnknownCurrency, code)
	}
	scale, _ := currency.Standard.Rounding(u)
	return Currency{code: u.String(), scale: scale}, nil
}

// notMoney lists ISO 4217 codes that are not currencies anyone invoices in:
// precious metals, bond-market units, SDRs, the testing code and "no
// currency". XAF, XOF, XCD and XPF are real currencies and stay valid.
var notMoney = map[string]bool{
	"XAU": true, "XAG": true, "XPT": true, "XPD": true, "XBA": true, "XBB": true, "XBC": true,
	"XBD": true, "XDR": true, "XSU": true, "XUA": true, "XTS": true, "XXX": true,
}

// MustCurrency is ParseCurrency for codes known at compile time.
func MustCurrency(code string) Currency {
	c, err := ParseCurrency(code)
	if err != nil {
		panic(err)
	}
	return c
}

// Code is the ISO 4217 alphabetic code, or "" for the zero Currency.
func (c Currency) Code() string { return c.code }

// Scale is the number of minor-unit digits (2 for USD, 0 for JPY, 3 for KWD).
func (c Currency) Scale() int { return c.scale }

// IsZero reports whether c was never set.
func (c Currency) IsZero() bool { return c.code == "" }

func (c Currency) String() string { return c.code }

// Amount is a sum of money in integer minor units of one currency.
type Amount struct {
	Minor    int64
	Currency Currency
}

// New builds an Amount from minor units.
func New(minor int64, c Currency) Amount { return Amount{Minor: minor, Currency: c} }

// Parse reads a decimal string such as "1234.5", "-0.07" or "1,234.50"
// (commas only between groups of thousands) exactly into minor units of c. More fraction
// digits than the currency has are refused rather than rounded: rounding an
// invoice on import would make the ledger disagree with the ERP.
func Parse(s string, c Currency) (Amount, error) {
	if c.IsZero() {
		return Amount{}, fmt.Errorf("%w: no currency for %q", ErrUnknownCurrency, s)
	}
	t := strings.TrimSpace(s)
	neg := false
	switch {
	case strings.HasPrefix(t, "-"):
		neg, t = true, t[1:]
	case strings.HasPrefix(t, "+"):
		t = t[1:]
	}
	intPart, frac, hasDot := strings.Cut(t, ".")
	if strings.Contains(intPart, ",") {
		// Commas may only group thousands: "1,5" is a decimal comma, not 15.
		if !thousandsGrouped(intPart) {
			return Amount{}, fmt.Errorf("%w: %q: commas may only separate thousands", ErrAmount, s)
		}
		intPart = strings.ReplaceAll(intPart, ",", "")
	}
	if intPart == "" && (!hasDot || frac == "") {
		return Amount{}, fmt.Errorf("%w: %q is not a number", ErrAmount, s)
	}
	if intPart == "" {
		intPart = "0"
	}
	if !allDigits(intPart) || !allDigits(frac) {
		return Amount{}, fmt.Errorf("%w: %q is not a number", ErrAmount, s)
	}
	frac = strings.TrimRight(frac, "0")
	if len(frac) > c.scale {
		return Amount{}, fmt.Errorf("%w: %q has more than %d decimals for %s", ErrAmount, s, c.scale, c.code)
	}
	frac += strings.Repeat("0", c.scale-len(frac))
	digits := intPart + frac
	if neg {
		digits = "-" + digits
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return Amount{}, fmt.Errorf("%w: %q is out of range", ErrAmount, s)
	}
	return Amount{Minor: v, Currency: c}, nil
}

// thousandsGrouped checks "1,234,567": 1-3 leading digits (no leading
// zero), then groups of exactly three.
func thousandsGrouped(s string) bool { return ValidGroups(strings.Split(s, ",")) }

// ValidGroups checks the integer part of an amount split at its thousands
// separator (whatever the locale writes): 1-3 leading digits, not a lone
// leading zero, then groups of exactly three digits.
func ValidGroups(g []string) bool {
	if len(g) == 0 || len(g[0]) < 1 || len(g[0]) > 3 || !allDigits(g[0]) || g[0][0] == '0' {
		return false
	}
	for _, x := range g[1:] {
		if len(x) != 3 || !allDigits(x) {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String formats as "1234.50 USD".
func (a Amount) String() string {
	return a.Decimal() + " " + a.Currency.code
}

// Decimal formats the amount without its currency, e.g. "-12.05".
func (a Amount) Decimal() string {
	sign := ""
	m := a.Minor
	if m < 0 {
		sign = "-"
	}
	u := uint64(m)
	if m < 0 {
		u = uint64(-(m + 1)) + 1 // safe for math.MinInt64
	}
	digits := strconv.FormatUint(u, 10)
	sc := a.Currency.scale
	if sc == 0 {
		return sign + digits
	}
	if len(digits) <= sc {
		digits = strings.Repeat("0", sc-len(digits)+1) + digits
	}
	return sign + digits[:len(digits)-sc] + "." + digits[len(digits)-sc:]
}

// IsPositive reports whether a is greater than zero.
func (a Amount) IsPositive() bool { return a.Minor > 0 }

// Add returns a+b; both must share a currency and the sum must not overflow.
func (a Amount) Add(b Amount) (Amount, error) {
	if a.Currency != b.Currency {
		return Amount{}, fmt.Errorf("%w: %s + %s", ErrCurrencyMismatch, a.Currency, b.Currency)
	}
	if (b.Minor > 0 && a.Minor > math.MaxInt64-b.Minor) || (b.Minor < 0 && a.Minor < math.MinInt64-b.Minor) {
		return Amount{}, fmt.Errorf("%w: %s + %s overflows", ErrAmount, a, b)
	}
	return Amount{Minor: a.Minor + b.Minor, Currency: a.Currency}, nil
}

// Sub returns a-b under the same rules as Add.
func (a Amount) Sub(b Amount) (Amount, error) {
	if b.Minor == math.MinInt64 {
		return Amount{}, fmt.Errorf("%w: %s - %s overflows", ErrAmount, a, b)
	}
	return a.Add(Amount{Minor: -b.Minor, Currency: b.Currency})
}
