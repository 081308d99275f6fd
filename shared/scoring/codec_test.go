package scoring

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

func TestCodecRoundTrip(t *testing.T) {
	m, y := synthetic(1500, true, 5)
	days := make([]float64, m.Rows)
	for i := range days {
		days[i] = 10*m.X[i*5] + 3*y[i]
	}
	for _, weight := range []float64{0, 0.5, 1} {
		c, _, err := TrainClassifier(m, y, Options{Seed: 1, Weight: &weight})
		if err != nil {
			t.Fatal(err)
		}
		r, _, err := TrainRegressor(m, days, Options{Seed: 1, Weight: &weight})
		if err != nil {
			t.Fatal(err)
		}
		cb, err := c.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		rb, err := r.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var c2 Classifier
		var r2 Regressor
		if err := c2.UnmarshalBinary(cb); err != nil {
			t.Fatalf("weight %v: %v", weight, err)
		}
		if err := r2.UnmarshalBinary(rb); err != nil {
			t.Fatalf("weight %v: %v", weight, err)
		}
		batch := make([]float64, m.Rows)
		if err := c2.PredictBatch(m, batch); err != nil {
			t.Fatal(err)
		}
		rbatch := make([]float64, m.Rows)
		if err := r2.PredictBatch(m, rbatch); err != nil {
			t.Fatal(err)
		}
		for i := range m.Rows {
			row := m.Row(i)
			if a, b := c.Predict(row), c2.Predict(row); a != b {
				t.Fatalf("weight %v row %d: %v before, %v after the round trip", weight, i, a, b)
			}
			if a, b := c.Predict(row), batch[i]; math.Abs(a-b) > 1e-12 {
				t.Fatalf("weight %v row %d: Predict %v, PredictBatch %v", weight, i, a, b)
			}
			if a, b := r.Predict(row), r2.Predict(row); a != b {
				t.Fatalf("weight %v row %d: regressor %v before, %v after", weight, i, a, b)
			}
			if a, b := r.Predict(row), rbatch[i]; math.Abs(a-b) > 1e-9 {
				t.Fatalf("weight %v row %d: regressor Predict %v, PredictBatch %v", weight, i, a, b)
			}
		}
		if got := c2.Reasons(m.Row(0), 2); len(got) != 2 {
			t.Errorf("weight %v: %d reasons after the round trip", weight, len(got))
		}
		// A classifier is not a regressor.
		if err := r2.UnmarshalBinary(cb); !errors.Is(err, ErrSchema) {
			t.Errorf("weight %v: classifier read as regressor: %v", weight, err)
		}
	}
}

func TestCodecRefuses(t *testing.T) {
	m, y := synthetic(600, false, 2)
	c, _, err := TrainClassifier(m, y, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	good, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, from, to string }{
		{"other version", `"recoup.scoring.blend/1"`, `"recoup.scoring.blend/2"`},
		{"renamed feature", `"x1"`, `"x9"`},
		{"weight out of range", `"trees_weight":`, `"trees_weight":7,"x":`},
		{"unknown field", `"used":`, `"extra":1,"used":`},
		{"used out of range", `"used":[0,`, `"used":[99,`},
		{"linear part refusing missing values", `"missing":"impute"`, `"missing":"reject"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := bytes.Replace(good, []byte(tc.from), []byte(tc.to), 1)
			if bytes.Equal(bad, good) {
				t.Fatalf("%q not in the encoding", tc.from)
			}
			var c2 Classifier
			if err := c2.UnmarshalBinary(bad); !errors.Is(err, ErrSchema) {
				t.Errorf("got %v, want ErrSchema", err)
			}
		})
	}
	other := m
	other.Names = []string{"x0", "x1", "x2", "constant", "other"}
	if err := c.PredictBatch(other, make([]float64, other.Rows)); !errors.Is(err, ErrSchema) {
		t.Errorf("rows of other features: %v, want ErrSchema", err)
	}
}

func FuzzUnmarshalClassifier(f *testing.F) {
	m, y := synthetic(300, false, 2)
	c, _, err := TrainClassifier(m, y, Options{Seed: 1, Trees: nil})
	if err != nil {
		f.Fatal(err)
	}
	good, err := c.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	nm, ny := newcomers(300, 3)
	half := 0.5
	flagged, _, err := TrainClassifier(nm, ny, Options{Seed: 1, Weight: &half})
	if err != nil {
		f.Fatal(err)
	}
	fb, err := flagged.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(fb)
	f.Add([]byte(`{"version":"recoup.scoring.blend/1","classifier":true,"features":["a"],"used":[0],"trees_weight":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var c Classifier
		if err := c.UnmarshalBinary(data); err != nil {
			return
		}
		for _, v := range []float64{0, math.NaN()} {
			row := make([]float64, len(c.Names()))
			for j := range row {
				row[j] = v
			}
			if p := c.Predict(row); !(p >= 0 && p <= 1) {
				t.Fatalf("probability %v", p)
			}
			if p, rs := c.PredictReasonsWith(row, 2, &ReasonBuffer{}); !(p >= 0 && p <= 1) || len(rs) != min(2, len(row)) {
				t.Fatalf("one pass: probability %v, reasons %v", p, rs)
			}
		}
	})
}
