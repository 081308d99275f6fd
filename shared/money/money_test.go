package money

import (
	"errors"
	"math"
	"testing"
)

func TestParse(t *testing.T) {
	usd, jpy, kwd := MustCurrency("usd"), MustCurrency("JPY"), MustCurrency("KWD")
	tests := []struct {
		in      string
		cur     Currency
		want    int64
		wantErr error
	}{
		{"1234.50", usd, 123450, nil},
		{"1,234.5", usd, 123450, nil},
		{"12,345,678.90", usd, 1234567890, nil},
		{"1,5", usd, 0, ErrAmount},
		{"1,,,0.5", usd, 0, ErrAmount},
		{"0,500", usd, 0, ErrAmount},
		{",500", usd, 0, ErrAmount},
		{"-0.07", usd, -7, nil},
		{"+3", usd, 300, nil},
		{".5", usd, 50, nil},
		{"55.940", usd, 5594, nil},
		{"1500", jpy, 1500, nil},
		{"1.5", jpy, 0, ErrAmount},
		{"1.234", kwd, 1234, nil},
		{"0.001", usd, 0, ErrAmount},
		{"", usd, 0, ErrAmount},
		{"-", usd, 0, ErrAmount},
		{".", usd, 0, ErrAmount},
		{"1e3", usd, 0, ErrAmount},
		{"12.3.4", usd, 0, ErrAmount},
		{"99999999999999999999", usd, 0, ErrAmount},
		{"10", Currency{}, 0, ErrUnknownCurrency},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in, tt.cur)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("Parse(%q, %s) error = %v, want %v", tt.in, tt.cur, err, tt.wantErr)
			continue
		}
		if err == nil && got.Minor != tt.want {
			t.Errorf("Parse(%q, %s) = %d, want %d", tt.in, tt.cur, got.Minor, tt.want)
		}
	}
}

func TestParseCurrency(t *testing.T) {
	tests := []struct {
		code      string
		wantCode  string
		wantScale int
		ok        bool
	}{
		{"USD", "USD", 2, true},
		{"eur", "EUR", 2, true},
		{"JPY", "JPY", 0, true},
		{"BHD", "BHD", 3, true},
		{"ZZZ", "", 0, false},
		{"XXX", "", 0, false},
		{"XTS", "", 0, false},
		{"XAU", "", 0, false},
		{"XOF", "XOF", 0, true},
		{"XCD", "XCD", 2, true},
		{"US", "", 0, false},
		{"", "", 0, false},
	}
	for _, tt := range tests {
		c, err := ParseCurrency(tt.code)
		if (err == nil) != tt.ok {
			t.Errorf("ParseCurrency(%q) error = %v, want ok=%v", tt.code, err, tt.ok)
			continue
		}
		if tt.ok && (c.Code() != tt.wantCode || c.Scale() != tt.wantScale) {
			t.Errorf("ParseCurrency(%q) = %s/%d, want %s/%d", tt.code, c.Code(), c.Scale(), tt.wantCode, tt.wantScale)
		}
	}
}

func TestDecimalRoundTrip(t *testing.T) {
	usd, jpy := MustCurrency("USD"), MustCurrency("JPY")
	tests := []struct {
		a    Amount
		want string
	}{
		{New(0, usd), "0.00"},
		{New(5, usd), "0.05"},
		{New(-123456, usd), "-1234.56"},
		{New(42, jpy), "42"},
		{New(math.MinInt64, usd), "-92233720368547758.08"},
	}
	for _, tt := range tests {
		if got := tt.a.Decimal(); got != tt.want {
			t.Errorf("Decimal(%d) = %q, want %q", tt.a.Minor, got, tt.want)
		}
		back, err := Parse(tt.want, tt.a.Currency)
		if err != nil || back != tt.a {
			t.Errorf("Parse(Decimal(%d)) = %v, %v", tt.a.Minor, back, err)
		}
	}
}

func TestAddSub(t *testing.T) {
	usd, eur := MustCurrency("USD"), MustCurrency("EUR")
	if _, err := New(1, usd).Add(New(1, eur)); !errors.Is(err, ErrCurrencyMismatch) {
		t.Errorf("USD+EUR error = %v, want ErrCurrencyMismatch", err)
	}
	if _, err := New(math.MaxInt64, usd).Add(New(1, usd)); !errors.Is(err, ErrAmount) {
		t.Errorf("overflow error = %v, want ErrAmount", err)
	}
	got, err := New(500, usd).Sub(New(125, usd))
	if err != nil || got.Minor != 375 {
		t.Errorf("500-125 = %v, %v", got, err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"1.00", "-0.5", "1,000.25", "", ".", "1e9", "9223372036854775807"} {
		f.Add(s)
	}
	usd := MustCurrency("USD")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Parse(s, usd)
		if err != nil {
			return
		}
		back, err := Parse(a.Decimal(), usd)
		if err != nil || back != a {
			t.Fatalf("round trip of %q: %v -> %q -> %v, %v", s, a.Minor, a.Decimal(), back, err)
		}
	})
}
