package ranking

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/recoup-dev/recoup/shared/drift"
	"github.com/recoup-dev/recoup/shared/features"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
	"github.com/recoup-dev/recoup/shared/scoring"
	"github.com/recoup-dev/recoup/testdata/portfolio"
)

// sample is a small generated portfolio: customers with payment habits
// (prompt, slow, late, stopped paying) the model must discover.
func sample(t testing.TB) (features.Snapshot, time.Time) {
	t.Helper()
	sampleOnce.Do(func() {
		cfg := portfolio.Config{Seed: 7, Customers: 600, Invoices: 4000, AsOf: ledger.Date(2026, 11, 1), Tenant: "t"}
		b, err := portfolio.Load(cfg)
		if err != nil {
			sampleErr = err
			return
		}
		sampleSnap = features.Snapshot{Customers: b.Customers, Invoices: b.Invoices, Payments: b.Payments, Disputes: b.Disputes}
		sampleEnd = cfg.AsOf
	})
	if sampleErr != nil {
		t.Fatal(sampleErr)
	}
	return sampleSnap, sampleEnd
}

var (
	sampleOnce sync.Once
	sampleSnap features.Snapshot
	sampleEnd  time.Time
	sampleErr  error

	modelOnce sync.Once
	model     *Model
	modelErr  error
)

func trained(t *testing.T) *Model {
	t.Helper()
	s, end := sample(t)
	modelOnce.Do(func() { model, modelErr = Train(s, end, Config{Seed: 1}) })
	if modelErr != nil {
		t.Fatal(modelErr)
	}
	return model
}

func TestTrainBeatsTheBaseline(t *testing.T) {
	m := trained(t)
	v := m.Validation
	t.Logf("validation: %+v", v)
	if v.Rows < 1000 {
		t.Fatalf("holdout of %d rows", v.Rows)
	}
	for j, n := range Horizons {
		c := v.Within[j]
		if c.AUC < 0.8 || c.ECE > 0.05 {
			t.Errorf("pay within %d days: AUC %.3f, calibration error %.3f; want ≥ 0.8 and ≤ 0.05", n, c.AUC, c.ECE)
		}
	}
	if v.Within[2].AUC <= v.Baseline {
		t.Errorf("30-day AUC %.3f does not beat the smoothed on-time share %.3f", v.Within[2].AUC, v.Baseline)
	}
	if v.DaysRows == 0 || v.DaysMAE <= 0 || v.DaysMAE > 30 {
		t.Errorf("days MAE %.1f on %d rows", v.DaysMAE, v.DaysRows)
	}
}

func TestScoreAndRollup(t *testing.T) {
	m := trained(t)
	s, end := sample(t)
	h, err := features.NewHistory(s)
	if err != nil {
		t.Fatal(err)
	}
	scores, err := m.Score(h, s.Invoices, end)
	if err != nil {
		t.Fatal(err)
	}
	var open int
	var total int64
	for _, inv := range s.Invoices {
		if inv.IsOpen() {
			open++
			total += inv.Open.Minor
		}
	}
	if len(scores) != open || open == 0 {
		t.Fatalf("%d scores for %d open invoices", len(scores), open)
	}
	for _, sc := range scores {
		for j := range Horizons {
			p := sc.PayWithin[j]
			if !(p >= 0 && p <= 1) || (j > 0 && p < sc.PayWithin[j-1]) {
				t.Fatalf("invoice %s: probabilities %v not in [0,1] and non-decreasing", sc.Invoice, sc.PayWithin)
			}
		}
		if !(sc.ExpectedDays >= 0 && sc.ExpectedDays <= DaysCap) {
			t.Fatalf("invoice %s: expected days %v", sc.Invoice, sc.ExpectedDays)
		}
		if len(sc.Reasons) == 0 || sc.Reasons[0].Text() == "" {
			t.Fatalf("invoice %s: no reasons", sc.Invoice)
		}
	}
	// The scoring path (features in batch, the last head walked with its
	// reasons) gives Predict's numbers on Invoice's vectors.
	byID := map[string]ledger.Invoice{}
	for _, inv := range s.Invoices {
		byID[inv.ID] = inv
	}
	x := scoring.Matrix{Rows: len(scores), Names: features.Names[:], X: make([]float64, len(scores)*features.Count)}
	for i, sc := range scores {
		h.Invoice(byID[sc.Invoice], end, x.Row(i))
	}
	p, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	for i, sc := range scores {
		for j := range Horizons {
			if math.Abs(sc.PayWithin[j]-p.Within[j][i]) > 1e-12 {
				t.Fatalf("invoice %s: pay within %d days %v, Predict %v", sc.Invoice, Horizons[j], sc.PayWithin[j], p.Within[j][i])
			}
		}
		if sc.ExpectedDays != p.Days[i] {
			t.Fatalf("invoice %s: expected days %v, Predict %v", sc.Invoice, sc.ExpectedDays, p.Days[i])
		}
	}
	custs := Rollup(scores)
	var sum int64
	for _, c := range custs {
		sum += c.Open.Minor
		var want int64
		for _, sc := range scores {
			if sc.Customer == c.Customer && sc.Open.Currency == c.Open.Currency {
				want += int64(math.Round(float64(sc.Open.Minor) * sc.PayWithin[2]))
			}
		}
		if c.Expected[2].Minor != want {
			t.Fatalf("customer %s: expected within 30 days %d, invoices add to %d", c.Customer, c.Expected[2].Minor, want)
		}
	}
	if sum != total {
		t.Errorf("rolled-up open balance %d, invoices %d", sum, total)
	}
}

// Stopped payers (long overdue, nothing paid lately) must rank below
// prompt payers: the point of the model.
func TestHabitsOrderTheScores(t *testing.T) {
	m := trained(t)
	s, end := sample(t)
	h, _ := features.NewHistory(s)
	scores, err := m.Score(h, s.Invoices, end)
	if err != nil {
		t.Fatal(err)
	}
	var over90, recent []float64
	for _, sc := range scores {
		switch {
		case sc.DaysPastDue > 90:
			over90 = append(over90, sc.PayWithin[2])
		case sc.DaysPastDue < 0:
			recent = append(recent, sc.PayWithin[2])
		}
	}
	if len(over90) == 0 || len(recent) == 0 {
		t.Fatalf("%d invoices over 90 days, %d not yet due", len(over90), len(recent))
	}
	if a, b := mean(over90), mean(recent); a >= b {
		t.Errorf("over 90 days past due: mean 30-day probability %.2f; not yet due: %.2f", a, b)
	}
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func TestArtifactRoundTrip(t *testing.T) {
	m := trained(t)
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var m2 Model
	if err := m2.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	s, end := sample(t)
	h, _ := features.NewHistory(s)
	a, _ := m.Score(h, s.Invoices, end)
	c, err := m2.Score(h, s.Invoices, end)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if a[i].PayWithin != c[i].PayWithin || a[i].ExpectedDays != c[i].ExpectedDays || a[i].Reasons[0].Text() != c[i].Reasons[0].Text() {
			t.Fatalf("invoice %s: %+v before, %+v after the round trip", a[i].Invoice, a[i], c[i])
		}
	}
	if m2.Validation != m.Validation {
		t.Errorf("validation %+v, want %+v", m2.Validation, m.Validation)
	}
	for _, tc := range []struct{ name, from, to string }{
		{"other feature version", `"` + features.Version + `"`, `"invoice-features/0"`},
		{"other schema", `"` + Schema + `"`, `"recoup.ranking/9"`},
		{"renamed feature", `"days_past_due"`, `"days_overdue"`},
		{"head missing", `"pay_within_14"`, `"pay_within_15"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(string(b), tc.from, tc.to, 1)
			if bad == string(b) {
				t.Fatalf("%s not in the artifact", tc.from)
			}
			var m3 Model
			if err := m3.UnmarshalBinary([]byte(bad)); !errors.Is(err, scoring.ErrSchema) {
				t.Errorf("got %v, want scoring.ErrSchema", err)
			}
		})
	}
}

func TestTrainRefuses(t *testing.T) {
	s, end := sample(t)
	for _, tc := range []struct {
		name string
		snap features.Snapshot
		end  time.Time
		want error
	}{
		{"data shorter than the 30-day horizon", s, s.Invoices[0].InvoiceDate.AddDate(0, 0, 10), scoring.ErrData},
		{"too few invoices", features.Snapshot{Invoices: s.Invoices[:20], Payments: s.Payments}, end, ErrHoldout},
		{"nothing ever paid", features.Snapshot{Invoices: unpaid(s.Invoices)}, end, scoring.ErrData},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Train(tc.snap, tc.end, Config{Seed: 1})
			if !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func unpaid(invs []ledger.Invoice) []ledger.Invoice {
	out := make([]ledger.Invoice, len(invs))
	for i, inv := range invs {
		inv.ClosedDate = time.Time{}
		inv.Open = inv.Amount
		out[i] = inv
	}
	return out
}

func TestRunReportsDrift(t *testing.T) {
	m := trained(t)
	s, end := sample(t)
	h, _ := features.NewHistory(s)
	today, err := m.Run(h, s.Invoices, end, drift.Thresholds{})
	if err != nil {
		t.Fatal(err)
	}
	if today.Drift.Rows != len(today.Invoices) || today.Drift.Score.Level == drift.Alarm {
		t.Errorf("the export date against its own model: %d rows, score %+v", today.Drift.Rows, today.Drift.Score)
	}
	for _, c := range today.Drift.Columns {
		// The sample's customers all joined within a few months, so their
		// age moves with the calendar: between the reference (30 to 86
		// days before the export) and the export it does shift.
		if c.Level == drift.Alarm && c.Name != "customer_age_days" {
			t.Errorf("the export date against its own model: %+v", c)
		}
	}
	// Scored half a year late, every open invoice is 180 days older.
	late, err := m.Run(h, s.Invoices, end.AddDate(0, 6, 0), drift.Thresholds{})
	if err != nil {
		t.Fatal(err)
	}
	if !late.Drift.Alarm() {
		t.Fatalf("six months later: level %v", late.Drift.Level)
	}
	var dpd drift.ColumnReport
	for _, c := range late.Drift.Columns {
		if c.Name == "days_past_due" {
			dpd = c
		}
	}
	if dpd.Level != drift.Alarm {
		t.Errorf("days_past_due six months later: %+v", dpd)
	}
}

// Engagement the model never trained on shows as drift of those columns,
// but cannot raise the run's level: no head reads them.
func TestUnusedColumnsDoNotRaiseTheLevel(t *testing.T) {
	m := trained(t)
	s, end := sample(t)
	for _, c := range s.Customers {
		s.Touches = append(s.Touches, features.Touch{Customer: c.ID, Channel: "email", At: end.AddDate(0, 0, -1), Response: true})
	}
	h, err := features.NewHistory(s)
	if err != nil {
		t.Fatal(err)
	}
	run, err := m.Run(h, s.Invoices, end, drift.Thresholds{})
	if err != nil {
		t.Fatal(err)
	}
	want := run.Drift.Score.Level
	var email drift.ColumnReport
	for _, c := range run.Drift.Columns {
		if c.Name == "days_since_email_response" {
			email = c
			continue
		}
		if !strings.Contains(c.Summary, "does not use") {
			want = max(want, c.Level)
		}
	}
	if email.Level != drift.Alarm || !strings.Contains(email.Summary, "the model does not use it") {
		t.Errorf("days_since_email_response: %+v", email)
	}
	if run.Drift.Level != want {
		t.Errorf("level %v, want %v (the worst of the columns the model uses and the score)", run.Drift.Level, want)
	}
}

// Rollup must group by customer and currency whatever the order of the
// scores: one customer's invoices interleaved with another's, a customer
// owing in two currencies, and the currency switching back and forth.
func TestRollupInterleavedCurrencies(t *testing.T) {
	usd, eur := money.MustCurrency("USD"), money.MustCurrency("EUR")
	score := func(inv, cust string, open money.Amount, dpd int, p float64, reason string) InvoiceScore {
		return InvoiceScore{Invoice: inv, Customer: cust, Open: open, DaysPastDue: dpd,
			PayWithin: [len(Horizons)]float64{p / 4, p / 2, p}, ExpectedDays: 10, Reasons: []Reason{{Feature: reason}}}
	}
	scores := []InvoiceScore{
		score("I1", "A", money.New(10000, usd), 5, 0.8, "a-usd-small"),
		score("I2", "B", money.New(5000, usd), 40, 0.4, "b-usd"),
		score("I3", "A", money.New(20000, eur), 12, 0.6, "a-eur"),
		score("I4", "A", money.New(30000, usd), 0, 0.4, "a-usd-large"),
		score("I5", "A", money.New(1000, eur), 90, 0.2, "a-eur-small"),
	}
	got := Rollup(scores)
	type line struct {
		Customer, Currency string
		Open               int64
		Invoices, Oldest   int
		Expected30         int64
		Reason             string
	}
	var lines []line
	for _, c := range got {
		lines = append(lines, line{c.Customer, c.Open.Currency.Code(), c.Open.Minor, c.Invoices, c.OldestDaysPastDue,
			c.Expected[len(Horizons)-1].Minor, c.Reasons[0].Feature})
	}
	want := []line{ // currencies in code order, then the larger balance first
		{"A", "EUR", 21000, 2, 90, 12000 + 200, "a-eur"},
		{"A", "USD", 40000, 2, 5, 8000 + 12000, "a-usd-large"},
		{"B", "USD", 5000, 1, 40, 2000, "b-usd"},
	}
	if diff := gocmp.Diff(want, lines); diff != "" {
		t.Errorf("Rollup (-want +got):\n%s", diff)
	}
}

// Rollup in parallel chunks must give what one plain pass gives, for
// scores grouped by customer (as Run returns them) and for scores in any
// order, with ties on the largest invoice (the first one's reasons win).
func TestRollupEqualsOnePass(t *testing.T) {
	curs := []money.Currency{money.MustCurrency("USD"), money.MustCurrency("EUR"), money.MustCurrency("JPY")}
	r := rand.New(rand.NewPCG(1, 2))
	var scores []InvoiceScore
	for i := range 20_000 {
		c := r.IntN(3000)
		scores = append(scores, InvoiceScore{Invoice: fmt.Sprint("I", i), Customer: fmt.Sprint("C", c),
			Open: money.New(int64(1+r.IntN(5))*1000, curs[(c+r.IntN(8)/7)%3]), DaysPastDue: r.IntN(120) - 20,
			PayWithin: [len(Horizons)]float64{0.1, 0.2, r.Float64()}, ExpectedDays: float64(r.IntN(90)),
			Reasons: []Reason{{Feature: fmt.Sprint("r", i)}}})
	}
	grouped := slices.Clone(scores)
	slices.SortStableFunc(grouped, func(a, b InvoiceScore) int { return strings.Compare(a.Customer, b.Customer) })
	for name, in := range map[string][]InvoiceScore{"any order": scores, "grouped": grouped} {
		t.Run(name, func(t *testing.T) {
			if diff := gocmp.Diff(onePass(in), Rollup(in), cmpopts.EquateApprox(0, 1e-9), gocmp.Comparer(func(a, b money.Currency) bool { return a == b })); diff != "" {
				t.Errorf("Rollup (-one pass +chunks):\n%s", diff)
			}
		})
	}
}

// onePass is the roll-up's definition: one map, one pass.
func onePass(scores []InvoiceScore) []CustomerScore {
	type key struct {
		customer string
		cur      money.Currency
	}
	at := map[key]int{}
	var out []CustomerScore
	var largest []int64
	for _, s := range scores {
		k := key{s.Customer, s.Open.Currency}
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			c := CustomerScore{Customer: s.Customer, Open: money.New(0, s.Open.Currency)}
			for j := range Horizons {
				c.Expected[j] = money.New(0, s.Open.Currency)
			}
			out = append(out, c)
			largest = append(largest, -1)
		}
		c := &out[i]
		c.Invoices++
		c.Open.Minor += s.Open.Minor
		c.OldestDaysPastDue = max(c.OldestDaysPastDue, s.DaysPastDue)
		for j := range Horizons {
			c.Expected[j].Minor += int64(math.Round(float64(s.Open.Minor) * s.PayWithin[j]))
		}
		c.ExpectedDays += float64(s.Open.Minor) * s.ExpectedDays
		if s.Open.Minor > largest[i] {
			largest[i], c.Reasons = s.Open.Minor, s.Reasons
		}
	}
	for i := range out {
		c := &out[i]
		for j := range Horizons {
			c.PayWithin[j] = float64(c.Expected[j].Minor) / float64(c.Open.Minor)
		}
		c.ExpectedDays /= float64(c.Open.Minor)
	}
	slices.SortFunc(out, func(a, b CustomerScore) int {
		return cmp.Or(strings.Compare(a.Open.Currency.Code(), b.Open.Currency.Code()), cmp.Compare(b.Open.Minor, a.Open.Minor), strings.Compare(a.Customer, b.Customer))
	})
	return out
}
