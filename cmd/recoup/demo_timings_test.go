package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/recoup-dev/recoup/cmd/internal/timings"
)

// TestStopwatchWritesWhatTheBenchReads: --timings holds every stage in
// order and each day's run, in the shape cmd/benchmarks decodes.
func TestStopwatchWritesWhatTheBenchReads(t *testing.T) {
	w := newStopwatch()
	w.lap("import")
	w.lap("train")
	at := time.Date(2026, 11, 2, 16, 0, 0, 0, time.UTC)
	w.day(&day{wave: &wave{At: at, Passes: make([]pass, 3), Took: 2 * time.Second, Settled: 5 * time.Second}})
	file := filepath.Join(t.TempDir(), "timings.json")
	if err := w.write(file); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var r timings.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Stages) != 2 || r.Stages[0].Name != "import" || r.Stages[1].Name != "train" || r.Stage("train") < 0 || r.Stage("consent") != 0 {
		t.Errorf("stages %+v, want import then train, and no consent", r.Stages)
	}
	if len(r.Days) != 1 || r.Days[0] != (timings.Day{Date: "2026-11-02", Reached: 3, RunSeconds: 2, SettledSeconds: 5, DaySeconds: r.Days[0].DaySeconds}) {
		t.Errorf("days %+v, want 2026-11-02 with 3 reached, run 2 s, settled 5 s", r.Days)
	}
	if r.TotalSeconds < r.Stage("import")+r.Stage("train")+r.Days[0].DaySeconds {
		t.Errorf("total %v s is less than its parts", r.TotalSeconds)
	}
}
