package priority

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/shared/money"
)

var (
	usd = money.MustCurrency("USD")
	eur = money.MustCurrency("EUR")
	jpy = money.MustCurrency("JPY")
)

func TestRankByExpectedValue(t *testing.T) {
	in := []Input{
		// Large, but will pay anyway: little to gain.
		{Customer: "sure", Open: money.New(10_000_00, usd), PayAnyway: 0.98, Channel: "email", Response: 0.3},
		// Medium, unlikely to pay, responsive.
		{Customer: "needs-a-nudge", Open: money.New(2_000_00, usd), PayAnyway: 0.2, Channel: "sms", Response: 0.4},
		// Small balance behind an expensive call: negative value.
		{Customer: "tiny", Open: money.New(20_00, usd), PayAnyway: 0.1, Channel: "voice", Response: 0.5},
		// In euros, converted at 1.10.
		{Customer: "euro", Open: money.New(1_000_00, eur), PayAnyway: 0.5, Channel: "email", Response: 0.5},
		// In yen (no minor unit), converted at 0.0067.
		{Customer: "yen", Open: money.New(300_000, jpy), PayAnyway: 0.5, Channel: "email", Response: 0.5},
	}
	got, err := Rank(in, Config{Currency: usd, Rates: map[string]string{"EUR": "1.10", "JPY": "0.0067"}})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Customer string
		Value    int64
	}
	var rows []row
	for _, it := range got {
		rows = append(rows, row{it.Customer, it.Value.Minor})
	}
	want := []row{
		{"needs-a-nudge", 320_00 - 2}, // 2000 × 0.8 × 0.4 × 0.5 − 0.02
		{"yen", 251_25 - 1},           // 300000 × 0.0067 = 2010.00 USD, × 0.125
		{"euro", 137_50 - 1},          // 1100 × 0.5 × 0.5 × 0.5 − 0.01
		{"sure", 30_00 - 1},           // 10000 × 0.02 × 0.3 × 0.5 − 0.01
		{"tiny", 4_50 - 500},          // 20 × 0.9 × 0.5 × 0.5: a call costs more than it brings
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("ranking (-want +got):\n%s", diff)
	}
	if w := got[0].Why; !strings.Contains(w, "2000.00 USD open") || !strings.Contains(w, "40% respond by sms") || !strings.Contains(w, "= 319.98 USD") {
		t.Errorf("explanation %q", w)
	}
}

func TestRankRefuses(t *testing.T) {
	ok := Input{Customer: "c", Open: money.New(100, usd), PayAnyway: 0.5, Channel: "email", Response: 0.5}
	for _, tc := range []struct {
		name string
		in   Input
		cfg  Config
		want string
	}{
		{"no reporting currency", ok, Config{}, "no reporting currency"},
		{"lift above one", ok, Config{Currency: usd, Lift: 2}, "lift"},
		{"missing rate", Input{Customer: "c", Open: money.New(100, eur), Channel: "email"}, Config{Currency: usd}, "no EUR rate"},
		{"bad rate", ok, Config{Currency: usd, Rates: map[string]string{"EUR": "-1"}}, "not a positive decimal"},
		{"probability above one", Input{Customer: "c", Open: money.New(1, usd), PayAnyway: 1.5, Channel: "email"}, Config{Currency: usd}, "outside [0,1]"},
		{"unknown channel", Input{Customer: "c", Open: money.New(1, usd), Channel: "pigeon"}, Config{Currency: usd}, "unknown channel"},
		{"default costs are in dollars", ok, Config{Currency: eur, Rates: map[string]string{"USD": "0.9"}}, "set Costs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Rank([]Input{tc.in}, tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
			if tc.name != "probability above one" && tc.name != "unknown channel" && !errors.Is(err, ErrConfig) {
				t.Errorf("%v is not ErrConfig", err)
			}
		})
	}
}
