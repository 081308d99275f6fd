package gbdt

import (
	"math"
	"math/rand/v2"
	"testing"
)

// benchData is a deterministic rows × 20 problem shaped like payment data:
// continuous, skewed, integer-coded and binary features, 2% missing in a few
// columns, and a label drawn from a nonlinear logistic model.
func benchData(rows int) Dataset {
	const cols = 20
	rng := rand.New(rand.NewPCG(42, 42))
	d := Dataset{X: make([]float64, rows*cols), Rows: rows, Cols: cols, Y: make([]float64, rows)}
	for r := range rows {
		x := d.X[r*cols : (r+1)*cols]
		for c := range x {
			switch c % 4 {
			case 0:
				x[c] = rng.NormFloat64()
			case 1:
				x[c] = math.Exp(rng.NormFloat64()) * 1000 // amounts
			case 2:
				x[c] = float64(rng.IntN(11) - 2) // status codes
			default:
				x[c] = float64(rng.IntN(2))
			}
			if c%7 == 3 && rng.Float64() < 0.02 {
				x[c] = math.NaN()
			}
		}
		z := 0.8*x[0] - 0.5*math.Log(x[1]/1000) + 0.4*x[2] + 0.3*x[4]*x[8] + math.Sin(2*x[12]) - 1
		if x[3] != x[3] {
			z += 1
		}
		if rng.Float64() < 1/(1+math.Exp(-z)) {
			d.Y[r] = 1
		}
	}
	return d
}

// BenchmarkTrain fits 100 depth-6 trees to a million rows: "full" uses every
// row and feature per tree, "sampled" DefaultParams' 0.8 row and column
// subsampling.
func BenchmarkTrain(b *testing.B) {
	d := benchData(1_000_000)
	for _, bc := range []struct {
		name   string
		sample float64
	}{{"full", 1}, {"sampled", 0.8}} {
		b.Run(bc.name, func(b *testing.B) {
			p := DefaultParams(Logistic)
			p.Trees, p.MaxDepth, p.Subsample, p.ColSample = 100, 6, bc.sample, bc.sample
			b.ResetTimer()
			for b.Loop() {
				if _, _, err := Train(d, nil, p); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(d.Rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkTrainSmall fits the scoring model's 300 depth-4 trees (learning
// rate 0.05, 0.8 row and column subsampling) to the UCI credit-default
// training rows, 24,000 × 23: many short parallel passes, where
// synchronisation rather than arithmetic sets the pace.
func BenchmarkTrainSmall(b *testing.B) {
	train, _ := loadUCI(b)
	p := DefaultParams(Logistic)
	p.Trees, p.MaxDepth = 300, 4
	for b.Loop() {
		if _, _, err := Train(train, nil, p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPredictBatch scores a million rows with a 100-tree depth-6 model.
func BenchmarkPredictBatch(b *testing.B) {
	d := benchData(1_000_000)
	train, _ := partitionRows(d, func(i int) bool { return i%10 == 0 })
	p := DefaultParams(Logistic)
	p.Trees, p.MaxDepth = 100, 6
	m, _, err := Train(train, nil, p)
	if err != nil {
		b.Fatal(err)
	}
	out := make([]float64, d.Rows)
	b.ResetTimer()
	for b.Loop() {
		m.PredictBatch(d.X, d.Cols, out)
	}
	b.ReportMetric(float64(d.Rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkContributions explains 100,000 rows, one by one, with a
// 100-tree depth-6 model: the reason codes of a scoring run.
func BenchmarkContributions(b *testing.B) {
	d := benchData(100_000)
	p := DefaultParams(Logistic)
	p.Trees, p.MaxDepth = 100, 6
	m, _, err := Train(d, nil, p)
	if err != nil {
		b.Fatal(err)
	}
	out := make([]float64, d.Cols)
	b.ResetTimer()
	for b.Loop() {
		for r := range d.Rows {
			m.Contributions(d.X[r*d.Cols:(r+1)*d.Cols], out)
		}
	}
	b.ReportMetric(float64(d.Rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
