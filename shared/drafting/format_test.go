package drafting

import (
	"testing"
	"time"

	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

func TestFormatAmount(t *testing.T) {
	for _, tc := range []struct {
		code  string
		minor int64
		want  string
	}{
		{"USD", 123456, "$1,234.56"},
		{"USD", 5, "$0.05"},
		{"USD", 100000000, "$1,000,000.00"},
		{"USD", -2500, "-$25.00"},
		{"EUR", 98050, "€980.50"},
		{"GBP", 100, "£1.00"},
		{"JPY", 1200000, "¥1,200,000"},
		{"KWD", 1234567, "1,234.567 KWD"},
		{"CAD", 99999, "999.99 CAD"},
	} {
		if got := FormatAmount(money.New(tc.minor, money.MustCurrency(tc.code))); got != tc.want {
			t.Errorf("FormatAmount(%d %s) = %q, want %q", tc.minor, tc.code, got, tc.want)
		}
	}
}

func TestFormatDate(t *testing.T) {
	if got := FormatDate(ledger.Date(2025, time.March, 5)); got != "March 5, 2025" {
		t.Errorf("got %q", got)
	}
	// A time late in the day elsewhere is still that UTC date.
	ny := time.FixedZone("EST", -5*3600)
	if got := FormatDate(time.Date(2025, time.March, 4, 20, 0, 0, 0, ny)); got != "March 5, 2025" {
		t.Errorf("got %q", got)
	}
}
