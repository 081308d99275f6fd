// Package timings is the report `recoup demo --timings FILE` writes and
// `make bench` (cmd/benchmarks) reads: how long each stage of the demo
// and each simulated day took.
package timings

// Report is the whole file.
type Report struct {
	// Stages are the steps before the simulated days, in order.
	Stages []Stage `json:"stages"`
	// Days are the simulated days, each a daily run and its engagement.
	Days         []Day   `json:"days"`
	TotalSeconds float64 `json:"total_seconds"`
}

// Stage is one step before the simulated days.
type Stage struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// Day is one simulated day: the daily run (until it ended, and until
// every cycle it reached had settled), and the whole day with its
// engagement and the re-plans it caused.
type Day struct {
	Date           string  `json:"date"`
	Reached        int     `json:"reached"`
	RunSeconds     float64 `json:"run_seconds"`
	SettledSeconds float64 `json:"settled_seconds"`
	DaySeconds     float64 `json:"day_seconds"`
}

// Stage returns the seconds of the stage called name, 0 when there is none.
func (r Report) Stage(name string) float64 {
	for _, s := range r.Stages {
		if s.Name == name {
			return s.Seconds
		}
	}
	return 0
}
