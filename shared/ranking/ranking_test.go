package ranking

import (
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recoup-dev/recoup/shared/drift"
	"github.com/recoup-dev/recoup/shared/features"
	"github.com/recoup-dev/recoup/shared/ledger"
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
