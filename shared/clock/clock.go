// Package clock is the time the collection cycle acts at. In AWS that is
// the wall clock. On the local stack a demo or a bench can instead set a
// simulated clock that every Lambda function reads from one file, so the
// sample portfolio (dated 2026-11-01) is planned, gated and sent at the
// same instant by every step, whatever the wall clock says, and the demo
// can move that instant forward a day at a time.
//
// The file holds the simulated time and the wall time it was set at; the
// simulated clock runs at the wall clock's rate from there. Only the
// local stack's function configuration names the file (RECOUP_CLOCK_FILE);
// a function without it reads the wall clock.
package clock

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/recoup-dev/recoup/shared/atomicfile"
)

// EnvFile names the environment variable that points at the clock file.
const EnvFile = "RECOUP_CLOCK_FILE"

// Setting is the content of a clock file.
type Setting struct {
	// At is the simulated time at the moment Set.
	At time.Time `json:"at"`
	// Set is the wall time At was set.
	Set time.Time `json:"set"`
}

// Now is the simulated time when the wall clock reads wall.
func (s Setting) Now(wall time.Time) time.Time { return s.At.Add(wall.Sub(s.Set)).UTC() }

// Write sets the clock in path to at, from the wall time now on.
func Write(path string, at, wall time.Time) error {
	if at.IsZero() {
		return errors.New("clock: cannot set the zero time")
	}
	b, err := json.Marshal(Setting{At: at.UTC(), Set: wall.UTC()})
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(b, '\n'))
}

// Read returns the setting in path; ok is false when there is no file.
func Read(path string) (s Setting, ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Setting{}, false, nil
	}
	if err != nil {
		return Setting{}, false, fmt.Errorf("clock: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return Setting{}, false, fmt.Errorf("clock: %s: %w", path, err)
	}
	if s.At.IsZero() || s.Set.IsZero() {
		return Setting{}, false, fmt.Errorf("clock: %s: want both \"at\" and \"set\"", path)
	}
	return s, true, nil
}

// File is a clock read from a file, re-read whenever the file changes.
type File struct {
	path string
	wall func() time.Time
	log  *slog.Logger

	mu      sync.Mutex
	mod     time.Time
	size    int64
	setting *Setting // nil: no usable file, the wall clock
}

// NewFile returns the clock in path. wall is the wall clock (time.Now
// when nil); log, when set, hears of a file that cannot be read.
func NewFile(path string, wall func() time.Time, log *slog.Logger) *File {
	if wall == nil {
		wall = time.Now
	}
	return &File{path: path, wall: wall, log: log}
}

// Now is the file's simulated time, or the wall clock while there is no
// file. A file that cannot be read is reported and the last good setting
// kept, so a half-written file never moves time backwards.
func (f *File) Now() time.Time {
	wall := f.wall()
	f.mu.Lock()
	defer f.mu.Unlock()
	info, err := os.Stat(f.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		f.setting, f.mod, f.size = nil, time.Time{}, 0
	case err != nil:
		f.report(err)
	case !info.ModTime().Equal(f.mod) || info.Size() != f.size:
		s, ok, err := Read(f.path)
		if err != nil {
			f.report(err)
			break
		}
		f.mod, f.size = info.ModTime(), info.Size()
		f.setting = nil
		if ok {
			f.setting = &s
		}
	}
	if f.setting == nil {
		return wall
	}
	return f.setting.Now(wall)
}

func (f *File) report(err error) {
	if f.log != nil {
		f.log.Error("simulated clock unreadable; keeping the last setting", "err", err)
	}
}

// FromEnv returns the clock named by RECOUP_CLOCK_FILE in getenv, or
// time.Now when it is unset.
func FromEnv(getenv func(string) string, log *slog.Logger) func() time.Time {
	path := getenv(EnvFile)
	if path == "" {
		return time.Now
	}
	return NewFile(path, time.Now, log).Now
}
