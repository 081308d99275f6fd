package compliance

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDefaultPolicyCoversEveryRule(t *testing.T) {
	p, err := DefaultPolicy()
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != "2026.04.1" {
		t.Errorf("version %q", p.Version)
	}
	for _, id := range RuleIDs() {
		if len(p.compiled[id]) == 0 {
			t.Errorf("%s has no policy", id)
		}
	}
	// Florida's 2025 amendment is a second version of the same rule.
	fl := p.compiled["STATE-FL-TIME"]
	if len(fl) != 2 || !fl[0].Until.Equal(fl[1].From) {
		t.Errorf("STATE-FL-TIME versions: %+v", fl)
	}
	if got := p.version("STATE-FL-TIME", time.Date(2025, 5, 15, 12, 0, 0, 0, time.UTC)); got == nil || got.channels&channelBit(ChannelEmail) == 0 {
		t.Error("before SB 232 the Florida rule should cover email")
	}
	if got := p.version("STATE-FL-TIME", time.Date(2025, 5, 16, 12, 0, 0, 0, time.UTC)); got == nil || got.channels&channelBit(ChannelEmail) != 0 {
		t.Error("after SB 232 the Florida rule should not cover email")
	}
}

// overlay returns the embedded default policy with the files of one
// testdata/policy-broken case put in place of (or beside) the defaults.
func overlay(t *testing.T, dir string) fs.FS {
	t.Helper()
	m := fstest.MapFS{}
	defaults, _ := fs.Glob(defaultPolicyFS, "policy/*.json")
	for _, name := range defaults {
		data, _ := fs.ReadFile(defaultPolicyFS, name)
		m[name] = &fstest.MapFile{Data: data}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m["policy/"+e.Name()] = &fstest.MapFile{Data: data}
	}
	return m
}

func TestBrokenPoliciesRefuseToLoad(t *testing.T) {
	tests := []struct {
		dir, want string
	}{
		{"gap", "gap: the engine implements rule FLAG-DISPUTE but no policy file defines it"},
		{"unknown-channel", `policy/states.json: rule STATE-CO-TIME: unknown channel "fax"`},
		{"overlapping-dates", "policy/states.json: rule STATE-FL-TIME: effective dates 2025-05-01..open overlap 2010-07-01..2025-05-16 in policy/states.json"},
		{"bad-parameter", `policy/federal.json: rule REGF-CALL-7IN7: parameter "max_calls": want an integer, got "seven"`},
		{"missing-parameter", `policy/federal.json: rule REGF-TIME: missing required parameter "latest"`},
		{"bad-clock", `policy/federal.json: rule REGF-TIME: parameter "earliest": "25:00" is not a HH:MM clock time`},
		{"unknown-parameter", `policy/federal.json: rule REGF-CALL-7IN7: unknown parameter "max_call"`},
		{"unknown-rule", `policy/extra.json: rule REGF-CALL-6IN6: unknown rule id "REGF-CALL-6IN6"`},
		{"unknown-field", `policy/flags.json: rules[3].acton: unknown field`},
		{"version-mismatch", `policy/flags.json: policy_version "2026.05.0" differs from "2026.04.1" in policy/federal.json`},
		{"narrowed-binds", `policy/federal.json: rule REGF-TIME: binds is "first_party", but the rule binds third_party`},
		{"wrong-jurisdiction", `policy/states.json: rule STATE-MA-FREQ: jurisdiction is "RI", want "MA"`},
		{"channel-not-applicable", `policy/federal.json: rule REGF-WORK-EMAIL: channel "sms" does not apply to this rule`},
		{"bad-action", `policy/federal.json: rule REGF-CEASE: action is "allow", want block or route_to_human`},
		{"until-before-from", "policy/federal.json: rule TCPA-CONSENT: effective.until 2025-01-01 is not after effective.from 2026-01-01"},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			p, err := LoadPolicy(overlay(t, path.Join("testdata/policy-broken", tt.dir)), "policy")
			if err == nil {
				t.Fatalf("loaded a broken policy (%d rules)", len(p.Rules))
			}
			if !errors.Is(err, ErrPolicy) {
				t.Errorf("error is not ErrPolicy: %v", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error\n  %v\nwant it to contain\n  %s", err, tt.want)
			}
		})
	}
}

func TestLoadPolicyFromDirectory(t *testing.T) {
	if _, err := LoadPolicy(os.DirFS("."), "policy"); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPolicy(os.DirFS("."), "testdata/no-such-dir"); err == nil {
		t.Fatal("loaded a policy from a directory with no files")
	}
}

// outcome is what override tests compare.
type outcome struct {
	Decision Decision
	Rules    []string
	Earliest string
}

func outcomeOf(r Result) outcome {
	o := outcome{Decision: r.Decision, Rules: r.Rules}
	if r.EarliestAllowedAt != nil {
		o.Earliest = r.EarliestAllowedAt.Format(time.RFC3339)
	}
	return o
}

// scenarioByID finds a scenario in the testdata files or the public vectors.
func scenarioByID(t *testing.T, id string) Scenario {
	t.Helper()
	paths, _ := fs.Glob(os.DirFS("."), "testdata/*.json")
	for _, p := range append(paths, publicVectors) {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		ss, err := ReadScenarios(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range ss {
			if s.ID == id {
				return s
			}
		}
	}
	t.Fatalf("no scenario %q", id)
	return Scenario{}
}

func TestTenantOverride(t *testing.T) {
	base, err := DefaultPolicy()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("testdata/overrides/acme-strict.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	o, err := ReadOverride(f)
	if err != nil {
		t.Fatal(err)
	}
	p, err := base.Apply(o)
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != "2026.04.1+acme@3" {
		t.Errorf("version %q", p.Version)
	}
	strict, err := NewEngine(p)
	if err != nil {
		t.Fatal(err)
	}
	plain := engineForTest(t)

	tests := []struct {
		name     string
		scenario string
		edit     func(*Scenario)
		plain    outcome
		strict   outcome
	}{
		{"disabled WA rule", "wa-fourth-communication", nil,
			outcome{Block, []string{"STATE-WA-FREQ"}, "2026-04-13T15:00:00Z"},
			outcome{Allow, []string{}, ""}},
		// MA applies to everyone under this override, so its 2-in-7 fires too
		// and holds the call until Apr 16, at 09:00, the tenant's opening hour.
		{"7-in-7 tightened to 5", "regf-7in7-busy-not-counted", nil,
			outcome{Allow, []string{}, ""},
			outcome{Block, []string{"REGF-CALL-7IN7", "STATE-MA-FREQ"}, "2026-04-16T13:00:00Z"}},
		{"hours tightened to 09:00-20:00", "regf-time-eight-sharp", nil,
			outcome{Allow, []string{}, ""},
			outcome{Block, []string{"REGF-TIME"}, "2026-04-07T13:00:00Z"}},
		{"MA added for every person", "ma-second-text-allowed", func(s *Scenario) {
			s.Consumer.Address = &ScenarioAddress{State: "OH", ZIP: "43215"}
			s.History = append(s.History, s.History[0])
			s.History[1].At = "2026-04-08T15:00:00Z"
		},
			outcome{Allow, []string{}, ""},
			outcome{Block, []string{"STATE-MA-FREQ"}, "2026-04-13T04:00:00Z"}},
		{"hardship tightened to block", "flag-hardship", nil,
			outcome{RouteToHuman, []string{"FLAG-HARDSHIP"}, ""},
			outcome{Block, []string{"FLAG-HARDSHIP"}, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := scenarioByID(t, tt.scenario)
			if tt.edit != nil {
				tt.edit(&s)
			}
			c, err := s.Case()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.plain, outcomeOf(plain.Decide(c))); diff != "" {
				t.Errorf("default policy (-want +got):\n%s", diff)
			}
			r := strict.Decide(c)
			if diff := cmp.Diff(tt.strict, outcomeOf(r)); diff != "" {
				t.Errorf("acme policy (-want +got):\n%s\nreason: %s", diff, r.Reason)
			}
			if r.PolicyVersion != "2026.04.1+acme@3" {
				t.Errorf("policy version %q", r.PolicyVersion)
			}
		})
	}
}

func TestOverrideRefusesToLoosen(t *testing.T) {
	base, err := DefaultPolicy()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, doc, want string
	}{
		{"raise a cap", `{"tenant":"t","version":"1","params":{"REGF-CALL-7IN7":{"max_calls":8}}}`,
			"REGF-CALL-7IN7.max_calls: 8 loosens the policy (lower is stricter)"},
		{"shorten a window", `{"tenant":"t","version":"1","params":{"STATE-MA-FREQ":{"other_window_days":20}}}`,
			"STATE-MA-FREQ.other_window_days: 20 loosens the policy (higher is stricter)"},
		{"start earlier", `{"tenant":"t","version":"1","params":{"REGF-TIME":{"earliest":"07:00"}}}`,
			`REGF-TIME.earliest: "07:00" loosens the policy (later is stricter)`},
		{"count fewer outcomes", `{"tenant":"t","version":"1","params":{"REGF-CALL-7IN7":{"counted_outcomes":["connected"]}}}`,
			"REGF-CALL-7IN7.counted_outcomes"},
		{"longer confirmation window", `{"tenant":"t","version":"1","params":{"TCPA-REVOCATION":{"confirmation_minutes":60}}}`,
			"TCPA-REVOCATION.confirmation_minutes: 60 loosens"},
		{"disable a federal rule", `{"tenant":"t","version":"1","disable":["REGF-TIME"]}`,
			"REGF-TIME is federal; only state rules can be disabled"},
		{"unknown rule", `{"tenant":"t","version":"1","disable":["STATE-NY-FREQ"]}`,
			`disable: unknown rule id "STATE-NY-FREQ"`},
		{"unknown parameter", `{"tenant":"t","version":"1","params":{"REGF-TIME":{"earliest_hour":9}}}`,
			`REGF-TIME has no parameter "earliest_hour"`},
		{"bad value", `{"tenant":"t","version":"1","params":{"REGF-TIME":{"earliest":9}}}`,
			`REGF-TIME.earliest: want a "HH:MM" clock time, got 9`},
		{"unknown state", `{"tenant":"t","version":"1","states":["ZZ"]}`, `unknown state "ZZ"`},
		{"route a blocking rule", `{"tenant":"t","version":"1","actions":{"FLAG-BANKRUPTCY":"route_to_human"}}`,
			"FLAG-BANKRUPTCY: route_to_human would loosen block"},
		{"no tenant", `{"version":"1"}`, "tenant and version are required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := ReadOverride(strings.NewReader(tt.doc))
			if err == nil {
				_, err = base.Apply(o)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrPolicy) {
				t.Errorf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
	for _, doc := range []string{`{"tenant":"t","version":"1","disabled":[]}`, `{"Tenant":"t","version":"1"}`} {
		if _, err := ReadOverride(strings.NewReader(doc)); err == nil || !strings.Contains(err.Error(), "unknown field") {
			t.Errorf("%s: error %v, want an unknown field", doc, err)
		}
	}
}

func TestNewEngineNeedsAPolicy(t *testing.T) {
	if _, err := NewEngine(nil); err == nil {
		t.Error("NewEngine(nil) succeeded")
	}
	if _, err := NewEngine(&Policy{}); err == nil {
		t.Error("NewEngine with an unvalidated policy succeeded")
	}
}
