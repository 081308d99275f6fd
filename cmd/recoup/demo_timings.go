package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/recoup-dev/recoup/cmd/internal/timings"
)

// stopwatch records how long each stage of the demo took, for `make
// bench` (the full local cycle's row) to read from --timings.
type stopwatch struct {
	began, last time.Time
	report      timings.Report
}

func newStopwatch() *stopwatch {
	now := time.Now()
	return &stopwatch{began: now, last: now}
}

// lap ends the stage called name.
func (s *stopwatch) lap(name string) {
	now := time.Now()
	s.report.Stages = append(s.report.Stages, timings.Stage{Name: name, Seconds: now.Sub(s.last).Seconds()})
	s.last = now
}

// day ends a simulated day.
func (s *stopwatch) day(d *day) {
	now := time.Now()
	s.report.Days = append(s.report.Days, timings.Day{Date: d.wave.At.Format(time.DateOnly), Reached: len(d.wave.Passes),
		RunSeconds: d.wave.Took.Seconds(), SettledSeconds: d.wave.Settled.Seconds(), DaySeconds: now.Sub(s.last).Seconds()})
	s.last = now
}

func (s *stopwatch) write(file string) error {
	s.report.TotalSeconds = time.Since(s.began).Seconds()
	b, err := json.MarshalIndent(s.report, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(file, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("--timings: %w", err)
	}
	return nil
}
