package scoring

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// synthetic makes rows in which the label depends on x0 linearly and, when
// interact is set, on the sign of x1·x2 (which a linear model cannot see).
func synthetic(n int, interact bool, seed uint64) (Matrix, []float64) {
	r := rand.New(rand.NewPCG(seed, 1))
	m := Matrix{Rows: n, Names: []string{"x0", "x1", "x2", "constant", "missing"}}
	y := make([]float64, n)
	for i := range n {
		x0, x1, x2 := r.NormFloat64(), r.NormFloat64(), r.NormFloat64()
		z := 1.5 * x0
		if interact {
			z = 0.3*x0 + 3*math.Copysign(1, x1*x2)
		}
		if r.Float64() < 1/(1+math.Exp(-z)) {
			y[i] = 1
		}
		m.X = append(m.X, x0, x1, x2, 7, math.NaN())
	}
	return m, y
}

func TestBlendFollowsTheEvidence(t *testing.T) {
	for _, tc := range []struct {
		name     string
		interact bool
		lo, hi   float64 // the trees' share
	}{
		{"linear problem: the linear model suffices", false, 0, 0.3},
		{"interaction: trees needed", true, 0.7, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, y := synthetic(4000, tc.interact, 3)
			c, rep, err := TrainClassifier(m, y, Options{Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Weight < tc.lo || rep.Weight > tc.hi {
				t.Errorf("trees' share %.1f, want within [%v, %v]; validation %v", rep.Weight, tc.lo, tc.hi, rep.Validation)
			}
			if len(rep.Ignored) != 2 || rep.Ignored[0] != "constant" || rep.Ignored[1] != "missing" {
				t.Errorf("ignored %v, want [constant missing]", rep.Ignored)
			}
			for i := range 50 {
				if p := c.Predict(m.Row(i)); !(p >= 0 && p <= 1) {
					t.Fatalf("row %d: probability %v outside [0,1]", i, p)
				}
			}
			rs := c.Reasons(m.Row(0), 3)
			if len(rs) != 3 || (rs[0].Feature != "x0" && !tc.interact) {
				t.Errorf("reasons %+v, want 3 led by x0", rs)
			}
			// The one-pass path gives Predict's probability and Reasons'
			// reasons, each naming its column.
			var buf ReasonBuffer
			for i := range 500 {
				row := m.Row(i)
				p, got := c.PredictReasonsWith(row, 3, &buf)
				if want := c.Predict(row); math.Abs(p-want) > 1e-12 {
					t.Fatalf("row %d: one pass gives %v, Predict %v", i, p, want)
				}
				if diff := cmp.Diff(c.Reasons(row, 3), got); diff != "" {
					t.Fatalf("row %d: reasons (-Reasons +one pass):\n%s", i, diff)
				}
				for _, r := range got {
					if m.Names[r.Column] != r.Feature {
						t.Fatalf("row %d: reason %s names column %d (%s)", i, r.Feature, r.Column, m.Names[r.Column])
					}
				}
			}
		})
	}
}

func TestTrainingIsReproducible(t *testing.T) {
	m, y := synthetic(2000, true, 5)
	a, _, err := TrainClassifier(m, y, Options{Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := TrainClassifier(m, y, Options{Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if pa, pb := a.Predict(m.Row(i)), b.Predict(m.Row(i)); pa != pb {
			t.Fatalf("row %d: %v then %v from the same data and seed", i, pa, pb)
		}
	}
}

func TestRegressor(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	m := Matrix{Rows: 3000, Names: []string{"a", "b"}}
	y := make([]float64, m.Rows)
	for i := range m.Rows {
		a, b := r.Float64()*10, r.Float64()
		m.X = append(m.X, a, b)
		y[i] = 2*a + 5 + r.NormFloat64()*0.1
	}
	reg, rep, err := TrainRegressor(m, y, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := reg.Predict([]float64{3, 0.5}); math.Abs(got-11) > 0.3 {
		t.Errorf("prediction %.3f at a=3, want about 11 (blend %.1f)", got, rep.Weight)
	}
}

func TestTrainRefuses(t *testing.T) {
	good, y := synthetic(400, false, 1)
	ones := make([]float64, good.Rows)
	for i := range ones {
		ones[i] = 1
	}
	inf := Matrix{X: append([]float64(nil), good.X...), Rows: good.Rows, Names: good.Names}
	inf.X[7] = math.Inf(1)
	constant := Matrix{X: make([]float64, good.Rows*2), Rows: good.Rows, Names: []string{"a", "b"}}
	nanLabel := append([]float64(nil), y...)
	nanLabel[3] = math.NaN()
	twos := append([]float64(nil), y...)
	twos[4] = 2
	for _, tc := range []struct {
		name string
		m    Matrix
		y    []float64
		want string
	}{
		{"single class", good, ones, "every label is 1: a single class cannot be ranked"},
		{"too few rows", Matrix{X: good.X[:50*5], Rows: 50, Names: good.Names}, y[:50], "50 rows, need at least 100"},
		{"infinite value", inf, y, "row 1, column x2 is infinite"},
		{"NaN label", good, nanLabel, "row 3: label NaN is not a finite number"},
		{"label not 0/1", good, twos, "row 4: label 2 is not 0 or 1"},
		{"every feature constant", constant, y, "every feature is constant or missing in training"},
		{"short labels", good, y[:10], "10 labels for 400 rows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := TrainClassifier(tc.m, tc.y, Options{})
			if !errors.Is(err, ErrData) || err.Error() != "scoring: unusable training data: "+tc.want {
				t.Errorf("error %v, want ErrData: %q", err, tc.want)
			}
		})
	}
}
