package clock

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestFile(t *testing.T) {
	w0 := time.Date(2026, 11, 25, 16, 0, 0, 0, time.UTC)
	wall := w0
	sim := time.Date(2026, 11, 1, 16, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "clock.json")
	c := NewFile(path, func() time.Time { return wall }, nil)

	steps := []struct {
		name  string
		setup func(t *testing.T)
		wall  time.Time
		want  time.Time
	}{
		{"no file: the wall clock", func(*testing.T) {}, w0, w0},
		{"set: the simulated time", func(t *testing.T) { must(t, Write(path, sim, w0)) }, w0, sim},
		{"runs at the wall clock's rate", func(*testing.T) {}, w0.Add(90 * time.Second), sim.Add(90 * time.Second)},
		{"moved a day on", func(t *testing.T) { must(t, Write(path, sim.Add(24*time.Hour), w0.Add(2*time.Minute))) },
			w0.Add(2 * time.Minute), sim.Add(24 * time.Hour)},
		{"a broken file keeps the last setting", func(t *testing.T) { must(t, os.WriteFile(path, []byte(`{"at":`), 0o644)) },
			w0.Add(3 * time.Minute), sim.Add(24*time.Hour + time.Minute)},
		{"file removed: the wall clock again", func(t *testing.T) { must(t, os.Remove(path)) }, w0.Add(4 * time.Minute), w0.Add(4 * time.Minute)},
	}
	for _, s := range steps {
		s.setup(t)
		wall = s.wall
		if got := c.Now(); !got.Equal(s.want) {
			t.Errorf("%s: Now() = %s, want %s", s.name, got, s.want)
		}
	}
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content string
		ok, err       bool
	}{
		{"valid", `{"at":"2026-11-01T16:00:00Z","set":"2026-11-25T16:00:00Z"}`, true, false},
		{"missing set", `{"at":"2026-11-01T16:00:00Z"}`, false, true},
		{"not JSON", `at 4pm`, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name)
			must(t, os.WriteFile(path, []byte(tt.content), 0o644))
			_, ok, err := Read(path)
			if ok != tt.ok || (err != nil) != tt.err {
				t.Errorf("Read = ok %t, err %v; want ok %t, error %t", ok, err, tt.ok, tt.err)
			}
		})
	}
	if _, ok, err := Read(filepath.Join(dir, "absent")); ok || err != nil {
		t.Errorf("Read of a missing file = ok %t, err %v; want neither", ok, err)
	}
	if err := Write(filepath.Join(dir, "zero"), time.Time{}, time.Now()); err == nil {
		t.Error("Write accepted the zero time")
	}
}

func TestFromEnv(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clock.json")
	sim := time.Date(2026, 11, 1, 16, 0, 0, 0, time.UTC)
	must(t, Write(path, sim, time.Now()))
	env := map[string]string{EnvFile: path}
	if got := FromEnv(func(k string) string { return env[k] }, nil)(); got.Sub(sim) > time.Minute || got.Before(sim) {
		t.Errorf("with %s set: %s, want about %s", EnvFile, got, sim)
	}
	if got := FromEnv(func(string) string { return "" }, nil)(); time.Since(got) > time.Minute {
		t.Errorf("without %s: %s, want the wall clock", EnvFile, got)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
