package compliance

import (
	"os"
	"slices"
	"testing"
	"time"
)

// benchCases are the public vectors as engine input: a realistic mix of
// allowed and blocked attempts, with histories of up to seven events.
func benchCases(b *testing.B) []Case {
	b.Helper()
	f, err := os.Open(publicVectors)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	scenarios, err := ReadScenarios(f)
	if err != nil {
		b.Fatal(err)
	}
	cases := make([]Case, len(scenarios))
	for i, s := range scenarios {
		if cases[i], err = s.Case(); err != nil {
			b.Fatal(err)
		}
	}
	return cases
}

// BenchmarkDecide reports decisions per second and the p99 latency of one
// decision in microseconds (target: 20 µs, DESIGN.md §8).
func BenchmarkDecide(b *testing.B) {
	e := engineForTest(b)
	cases := benchCases(b)
	for _, c := range cases { // warm the per-number cache, as a running gate would be
		e.Decide(c)
	}
	durations := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		t0 := time.Now()
		e.Decide(cases[i%len(cases)])
		durations = append(durations, time.Since(t0))
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if len(durations) == 0 {
		return
	}
	slices.Sort(durations)
	p99 := durations[len(durations)*99/100]
	b.ReportMetric(float64(p99.Nanoseconds())/1000, "p99-µs")
	b.ReportMetric(float64(len(durations))/elapsed.Seconds(), "decisions/s")
}
