package compliance

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// publicVectors are the worked cases every build must pass.
const publicVectors = "../../../shared/compliance/vectors/public.json"

// engineForTest builds the default engine once per test.
func engineForTest(t testing.TB) *Engine {
	t.Helper()
	e, err := DefaultEngine()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// runScenarioFile decides and verifies every scenario of a file.
func runScenarioFile(t *testing.T, e *Engine, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	scenarios, err := ReadScenarios(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, s := range scenarios {
		t.Run(s.ID, func(t *testing.T) {
			c, err := s.Case()
			if err != nil {
				t.Fatal(err)
			}
			r := e.Decide(c)
			if err := Verify(s, r); err != nil {
				t.Errorf("%v\n  got %s %v earliest=%v\n  reason: %s", err, r.Decision, r.Rules, r.EarliestAllowedAt, r.Reason)
			}
		})
	}
	return len(scenarios)
}

func TestPublicVectors(t *testing.T) {
	e := engineForTest(t)
	if n := runScenarioFile(t, e, publicVectors); n != 32 {
		t.Errorf("read %d public vectors, want 32", n)
	}
}

func TestOwnScenarios(t *testing.T) {
	e := engineForTest(t)
	paths, err := filepath.Glob("testdata/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no scenario files: %v", err)
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) { runScenarioFile(t, e, p) })
	}
}

// TestDecideConcurrently: one engine serves many dispatchers; its number
// cache must not change any answer.
func TestDecideConcurrently(t *testing.T) {
	f, err := os.Open(publicVectors)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	scenarios, err := ReadScenarios(f)
	if err != nil {
		t.Fatal(err)
	}
	e := engineForTest(t)
	errs := make(chan error, 8*len(scenarios))
	var wg sync.WaitGroup
	for range 8 {
		for _, s := range scenarios {
			wg.Go(func() {
				c, err := s.Case()
				if err == nil {
					err = Verify(s, e.Decide(c))
				}
				errs <- err
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
