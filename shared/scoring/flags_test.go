package scoring

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// newcomers makes rows in which a fifth of the customers are new: their
// history columns (h1, h2: the same rows missing) are unknown, and they
// pay late far more often than their x0 says. h3 is missing on other
// rows, at random, and means nothing.
func newcomers(n int, seed uint64) (Matrix, []float64) {
	r := rand.New(rand.NewPCG(seed, 7))
	m := Matrix{Rows: n, Names: []string{"x0", "h1", "h2", "h3"}}
	y := make([]float64, n)
	for i := range n {
		x0 := r.NormFloat64()
		h1, h2, h3 := r.NormFloat64(), r.NormFloat64(), r.NormFloat64()
		z := x0 + 0.5*h1 - 1
		if r.Float64() < 0.2 {
			h1, h2 = math.NaN(), math.NaN()
			z = x0 + 2
		}
		if r.Float64() < 0.1 {
			h3 = math.NaN()
		}
		if r.Float64() < 1/(1+math.Exp(-z)) {
			y[i] = 1
		}
		m.X = append(m.X, x0, h1, h2, h3)
	}
	return m, y
}

func TestMissingFlags(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name string
		rows [][]float64
		used []int
		want []int
	}{
		{"never missing: no flag", [][]float64{{1, 2}, {3, 4}}, []int{0, 1}, nil},
		{"missing in some rows: a flag", [][]float64{{1, nan}, {3, 4}}, []int{0, 1}, []int{1}},
		{"one flag per pattern of missing rows", [][]float64{{nan, nan, 1}, {3, 4, nan}, {5, 6, 7}}, []int{0, 1, 2}, []int{0, 2}},
		{"a column not used gets none", [][]float64{{1, nan}, {3, 4}}, []int{0}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := Matrix{Rows: len(tc.rows), Names: make([]string, len(tc.rows[0]))}
			for _, r := range tc.rows {
				m.X = append(m.X, r...)
			}
			if d := cmp.Diff(tc.want, missingFlags(m, tc.used), cmpopts.EquateEmpty()); d != "" {
				t.Errorf("flags (-want +got):\n%s", d)
			}
		})
	}
}

// TestNewcomersAreLearnt: with the flag, the linear model learns what
// being new is worth instead of reading unknown history as average: its
// mean probability for the new customers is close to their late rate, and
// their reasons say the history is missing.
func TestNewcomersAreLearnt(t *testing.T) {
	m, y := newcomers(6000, 1)
	zero := 0.0
	c, _, err := TrainClassifier(m, y, Options{Seed: 1, Weight: &zero})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.b.flags; !cmp.Equal(got, []int{1, 3}) {
		t.Errorf("flags on columns %v, want h1 (for h1 and h2) and h3", got)
	}
	var sumP, sumY, n float64
	var buf ReasonBuffer
	for i := range m.Rows {
		row := m.Row(i)
		if !math.IsNaN(row[1]) {
			continue
		}
		p, rs := c.PredictReasonsWith(row, 2, &buf)
		if want := c.Predict(row); math.Abs(p-want) > 1e-12 {
			t.Fatalf("row %d: one pass %v, Predict %v", i, p, want)
		}
		if !strings.HasPrefix(rs[0].Feature, "h1") && rs[0].Feature != "x0" {
			t.Fatalf("row %d: reasons %+v, want the missing history or x0 first", i, rs)
		}
		sumP, sumY, n = sumP+p, sumY+y[i], n+1
	}
	if math.Abs(sumP/n-sumY/n) > 0.03 {
		t.Errorf("new customers: mean probability %.3f, late rate %.3f", sumP/n, sumY/n)
	}
	// The history's push for a new customer is the flag's, given to h1.
	row := []float64{0, math.NaN(), math.NaN(), 0}
	var h1 float64
	for _, r := range c.Reasons(row, 4) {
		if r.Feature == "h1" {
			h1 = r.Effect
		}
	}
	if !(h1 > 0.5) {
		t.Errorf("a new customer's missing history pushes the log-odds by %.2f, want a clear rise", h1)
	}
	// A customer whose history is present and average gets no push from
	// the flag: the flag is measured from "not missing".
	for _, r := range c.Reasons([]float64{0, 0, 0, 0}, 4) {
		if r.Feature == "h1" && math.Abs(r.Effect) > 0.1 {
			t.Errorf("an average returning customer's h1 pushes the log-odds by %.2f, want about 0", r.Effect)
		}
	}
	// The regressor has no flags: its least squares would refuse a flag
	// collinear with other columns.
	r, _, err := TrainRegressor(m, y, Options{Seed: 1, Weight: &zero})
	if err != nil {
		t.Fatal(err)
	}
	if r.b.flags != nil {
		t.Errorf("regressor flags %v, want none", r.b.flags)
	}
}

func TestCodecKeepsFlags(t *testing.T) {
	m, y := newcomers(1500, 2)
	half := 0.5
	c, _, err := TrainClassifier(m, y, Options{Seed: 1, Weight: &half})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var c2 Classifier
	if err := c2.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	for i := range m.Rows {
		if p, q := c.Predict(m.Row(i)), c2.Predict(m.Row(i)); p != q {
			t.Fatalf("row %d: %v before, %v after the round trip", i, p, q)
		}
	}
	for _, tc := range []struct{ name, from, to string }{
		{"flags dropped", `"missing_flags":[1,3],`, ``},
		{"flag on another column", `"missing_flags":[1,3]`, `"missing_flags":[1,2]`},
		{"flags out of order", `"missing_flags":[1,3]`, `"missing_flags":[3,1]`},
		{"flag on a column not used", `"missing_flags":[1,3]`, `"missing_flags":[1,9]`},
		{"flags without a linear part", `"trees_weight":0.5`, `"trees_weight":1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(string(b), tc.from, tc.to, 1)
			if bad == string(b) {
				t.Fatalf("%q not in the encoding", tc.from)
			}
			var c3 Classifier
			if err := c3.UnmarshalBinary([]byte(bad)); !errors.Is(err, ErrSchema) {
				t.Errorf("got %v, want ErrSchema", err)
			}
		})
	}
	var r Regressor
	if err := r.UnmarshalBinary([]byte(strings.Replace(string(b), `"classifier":true`, `"classifier":false`, 1))); !errors.Is(err, ErrSchema) {
		t.Errorf("a regressor with flags: %v, want ErrSchema", err)
	}
}
