package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// stopwatch records how long each stage of the demo took, for `make
// bench` (the full local cycle's row) to read from --timings.
type stopwatch struct {
	began time.Time
	last  time.Time
	// Stages are the steps before the simulated days, in order.
	Stages []stageTiming `json:"stages"`
	// Days are the simulated days, each a daily run and its engagement.
	Days         []dayTiming `json:"days"`
	TotalSeconds float64     `json:"total_seconds"`
}

type stageTiming struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// dayTiming is one simulated day: the daily run (until it ended, and
// until every cycle it reached had settled), and the whole day with its
// engagement and the re-plans it caused.
type dayTiming struct {
	Date           string  `json:"date"`
	Reached        int     `json:"reached"`
	RunSeconds     float64 `json:"run_seconds"`
	SettledSeconds float64 `json:"settled_seconds"`
	DaySeconds     float64 `json:"day_seconds"`
}

func newStopwatch() *stopwatch {
	now := time.Now()
	return &stopwatch{began: now, last: now}
}

// lap ends the stage called name.
func (s *stopwatch) lap(name string) {
	now := time.Now()
	s.Stages = append(s.Stages, stageTiming{Name: name, Seconds: now.Sub(s.last).Seconds()})
	s.last = now
}

// day ends a simulated day.
func (s *stopwatch) day(d *day) {
	now := time.Now()
	s.Days = append(s.Days, dayTiming{Date: d.wave.At.Format(time.DateOnly), Reached: len(d.wave.Passes),
		RunSeconds: d.wave.Took.Seconds(), SettledSeconds: d.wave.Settled.Seconds(), DaySeconds: now.Sub(s.last).Seconds()})
	s.last = now
}

func (s *stopwatch) write(file string) error {
	s.TotalSeconds = time.Since(s.began).Seconds()
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(file, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("--timings: %w", err)
	}
	return nil
}
