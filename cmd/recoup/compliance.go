package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/recoup-dev/recoup/shared/compliance"
)

// errMismatch makes `compliance check --verify` exit 1.
var errMismatch = errors.New("scenarios do not match their expectations")

// runCompliance runs `recoup compliance check [--verify] [--policy-override F] FILE...`:
// one JSON line per scenario with the engine's decision.
func runCompliance(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		return fmt.Errorf("%w: compliance check [--verify] FILE (one or more)", errUsage)
	}
	fs := newFlags("compliance check", stderr)
	verify := fs.Bool("verify", false, "compare each decision with the scenario's expect and exit 1 on any mismatch")
	override := fs.String("policy-override", "", "a tenant policy override file applied to the default policy")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: at least one scenario FILE", errUsage)
	}
	engine, err := complianceEngine(*override)
	if err != nil {
		return err
	}
	// Read every file first: a malformed file must not leave half the
	// decisions printed as if the run were complete.
	type file struct {
		name      string
		scenarios []compliance.Scenario
	}
	var files []file
	for _, name := range fs.Args() {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		sc, err := compliance.ReadScenarios(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%w: %s: %v", errUsage, name, err)
		}
		files = append(files, file{name, sc})
	}
	enc := json.NewEncoder(stdout)
	mismatches, total := 0, 0
	for _, f := range files {
		for _, s := range f.scenarios {
			c, err := s.Case()
			if err != nil {
				return fmt.Errorf("%w: %s: %v", errUsage, f.name, err)
			}
			r := engine.Decide(c)
			total++
			if err := enc.Encode(compliance.NewScenarioResult(s.ID, r)); err != nil {
				return err
			}
			if *verify {
				if err := compliance.Verify(s, r); err != nil {
					mismatches++
					fmt.Fprintf(stderr, "%s: %s: %v\n", f.name, s.ID, err)
				}
			}
		}
	}
	if *verify {
		fmt.Fprintf(stderr, "%d passed, %d failed\n", total-mismatches, mismatches)
		if mismatches > 0 {
			return errMismatch
		}
	}
	return nil
}

func complianceEngine(overridePath string) (*compliance.Engine, error) {
	if overridePath == "" {
		return compliance.DefaultEngine()
	}
	p, err := compliance.DefaultPolicy()
	if err != nil {
		return nil, err
	}
	f, err := os.Open(overridePath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	o, err := compliance.ReadOverride(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", overridePath, err)
	}
	tp, err := p.Apply(o)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", overridePath, err)
	}
	return compliance.NewEngine(tp)
}
