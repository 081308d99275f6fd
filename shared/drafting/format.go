package drafting

import (
	"strconv"
	"strings"
	"time"

	"github.com/recoup-dev/recoup/shared/money"
)

// DateLayout is how drafts write dates. The prompt hands the model dates in
// this form and templates use it; the guardrails also read ISO and US
// numeric dates, so a model that reformats a right date is not failed.
const DateLayout = "January 2, 2006"

// symbols are the currencies written with a sign before the amount; every
// other currency is written "1,234.56 CAD".
var symbols = map[string]string{"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}

// FormatAmount writes an amount the way drafts state it: "$1,234.56",
// "€80.00", "1,234.567 KWD". Negative amounts keep their sign.
func FormatAmount(a money.Amount) string {
	d := a.Decimal()
	sign := ""
	if strings.HasPrefix(d, "-") {
		sign, d = "-", d[1:]
	}
	intPart, frac, hasFrac := strings.Cut(d, ".")
	var b strings.Builder
	b.WriteString(sign)
	sym, ok := symbols[a.Currency.Code()]
	if ok {
		b.WriteString(sym)
	}
	b.WriteString(groupThousands(intPart))
	if hasFrac {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	if !ok {
		b.WriteByte(' ')
		b.WriteString(a.Currency.Code())
	}
	return b.String()
}

func groupThousands(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	lead := len(digits) % 3
	if lead == 0 {
		lead = 3
	}
	b.WriteString(digits[:lead])
	for i := lead; i < len(digits); i += 3 {
		b.WriteByte(',')
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

// FormatDate writes a date the way drafts state it, in UTC: "March 5, 2025".
func FormatDate(t time.Time) string { return t.UTC().Format(DateLayout) }

// civil is a calendar date; year 0 means the text gave no year.
type civil struct {
	y int
	m time.Month
	d int
}

func civilOf(t time.Time) civil {
	y, m, d := t.UTC().Date()
	return civil{y, m, d}
}

func (c civil) String() string {
	if c.y == 0 {
		return c.m.String() + " " + strconv.Itoa(c.d)
	}
	return time.Date(c.y, c.m, c.d, 0, 0, 0, 0, time.UTC).Format(DateLayout)
}

func (c civil) weekday() time.Weekday {
	return time.Date(c.y, c.m, c.d, 0, 0, 0, 0, time.UTC).Weekday()
}

// valid reports whether the day exists (in a leap year when no year is given).
func (c civil) valid() bool {
	if c.m < time.January || c.m > time.December || c.d < 1 {
		return false
	}
	y := c.y
	if y == 0 {
		y = 2024
	}
	return c.d <= time.Date(y, c.m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
