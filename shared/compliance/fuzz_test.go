package compliance

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// checkResult holds a decision to the engine's contract.
func checkResult(t *testing.T, e *Engine, c Case, r Result) {
	t.Helper()
	switch r.Decision {
	case Allow:
		if len(r.Rules) != 0 || r.EarliestAllowedAt != nil {
			t.Fatalf("allow with rules %v, earliest %v", r.Rules, r.EarliestAllowedAt)
		}
	case RouteToHuman:
		if len(r.Rules) == 0 || r.EarliestAllowedAt != nil {
			t.Fatalf("route with rules %v, earliest %v", r.Rules, r.EarliestAllowedAt)
		}
	case Block:
		if len(r.Rules) == 0 {
			t.Fatal("block without a rule")
		}
	default:
		t.Fatalf("decision %q", r.Decision)
	}
	for _, id := range r.Rules {
		if implByID(id) == nil {
			t.Fatalf("unknown rule %q fired", id)
		}
	}
	if r.Decision != Allow && r.Reason == "" {
		t.Fatal("no reason")
	}
	if r.EarliestAllowedAt == nil {
		return
	}
	// The earliest time must itself be lawful.
	if !r.EarliestAllowedAt.After(c.Attempt.At) {
		t.Fatalf("earliest %v is not after the attempt %v", r.EarliestAllowedAt, c.Attempt.At)
	}
	later := c
	later.Attempt.At = *r.EarliestAllowedAt
	if again := e.Decide(later); again.Decision == Block {
		t.Fatalf("blocked again at the earliest allowed time %v: %v %s", later.Attempt.At, again.Rules, again.Reason)
	}
}

// FuzzReadScenarios: the reader never panics, errors are ErrScenario, an
// accepted scenario converts to a Case, and the engine's decision on it
// keeps the contract.
func FuzzReadScenarios(f *testing.F) {
	paths, _ := filepath.Glob("testdata/*.json")
	for _, p := range append(paths, publicVectors) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{"[" + minimal + "]", "[]", "{}", "[{}]", "null", `[{"id":"x"}]`} {
		f.Add([]byte(s))
	}
	e, err := DefaultEngine()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ss, err := ReadScenarios(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrScenario) {
				t.Fatalf("error is not ErrScenario: %v", err)
			}
			return
		}
		for _, s := range ss {
			c, err := s.Case()
			if err != nil {
				t.Fatalf("accepted scenario %q does not convert: %v", s.ID, err)
			}
			r := e.Decide(c)
			checkResult(t, e, c, r)
			if s.Expect != nil {
				_ = Verify(s, r)
			}
		}
	})
}

// TestEarliestIsLawfulAndFirst: for every scenario blocked with an earliest
// time, the attempt is lawful at that time and still blocked a second
// before it.
func TestEarliestIsLawfulAndFirst(t *testing.T) {
	e := engineForTest(t)
	paths, _ := filepath.Glob("testdata/*.json")
	n := 0
	for _, p := range append(paths, publicVectors) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		ss, err := ReadScenarios(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range ss {
			c, _ := s.Case()
			r := e.Decide(c)
			checkResult(t, e, c, r)
			if r.EarliestAllowedAt == nil {
				continue
			}
			n++
			before := c
			before.Attempt.At = r.EarliestAllowedAt.Add(-time.Second)
			if b := e.Decide(before); b.Decision != Block {
				t.Errorf("%s: not blocked a second before the earliest time %v", s.ID, r.EarliestAllowedAt)
			}
		}
	}
	if n < 30 {
		t.Errorf("only %d scenarios have an earliest time", n)
	}
}

func TestNoLawfulTime(t *testing.T) {
	// The person finds the whole 08:00-21:00 window inconvenient: waiting for
	// one rule only runs into the other.
	e := engineForTest(t)
	at := time.Date(2026, 4, 8, 15, 0, 0, 0, time.UTC)
	c := Case{Collector: "third_party", Debts: []Debt{{ID: "A"}},
		Consumer: Consumer{State: "OH", ZIP: "43215", Phones: []Phone{{Number: "+16145550101", Line: "mobile", ProvidedForDebt: true}}},
		History:  []Event{{Kind: EventInconvenientTime, At: at.Add(-time.Hour), Start: 8 * 60, End: 21 * 60}},
		Attempt: Attempt{At: at, Channel: ChannelCall, Debt: "A", To: "+16145550101",
			Purpose: PurposeCollection, Disclosures: []Disclosure{DisclosureMiniMiranda}}}
	r := e.Decide(c)
	if r.Decision != Block || r.EarliestAllowedAt != nil || !strings.Contains(r.Reason, "no time in the next 400 days") {
		t.Errorf("got %s %v %v: %s", r.Decision, r.Rules, r.EarliestAllowedAt, r.Reason)
	}
}

// TestNeverGuessesTowardAllow: cases with inputs missing or odd never
// allow where the answer depends on them.
func TestNeverGuessesTowardAllow(t *testing.T) {
	e := engineForTest(t)
	at := time.Date(2026, 4, 8, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		c    Case
		rule string
	}{
		{"collector call, no zone at all", Case{Collector: "third_party", Debts: []Debt{{ID: "A"}},
			Attempt: Attempt{At: at, Channel: ChannelCall, Debt: "A", To: "+18005550100", Purpose: PurposeCollection, Disclosures: []Disclosure{DisclosureMiniMiranda}}},
			"REGF-TIME"},
		{"collector email, military address only", Case{Collector: "third_party", Debts: []Debt{{ID: "A"}},
			Consumer: Consumer{State: "AE", Emails: []EmailAddress{{Address: "a@b.mil"}}},
			Attempt:  Attempt{At: at, Channel: ChannelEmail, Debt: "A", To: "a@b.mil", Purpose: PurposeCollection, Disclosures: []Disclosure{DisclosureMiniMiranda, DisclosureOptOut}}},
			"REGF-TIME"},
		{"unknown collector type gets Regulation F", Case{Debts: []Debt{{ID: "A"}}, Consumer: Consumer{State: "OH"},
			Attempt: Attempt{At: at, Channel: ChannelEmail, Debt: "A", To: "x@example.com", Purpose: PurposeCollection}},
			"REGF-MINI-MIRANDA"},
		{"AI voice to a number not on file", Case{Collector: "first_party", Consumer: Consumer{State: "OH"}, Debts: []Debt{{ID: "A"}},
			Attempt: Attempt{At: at, Channel: ChannelAIVoice, Debt: "A", To: "+16145550101", Purpose: PurposeCollection,
				Disclosures: []Disclosure{DisclosureCallerIdentity, DisclosureCallbackNumber}}},
			"TCPA-CONSENT"},
		{"text with no number", Case{Collector: "first_party", Consumer: Consumer{State: "OH"},
			Attempt: Attempt{At: at, Channel: ChannelSMS, Purpose: PurposeCollection}},
			"TCPA-CONSENT"},
		{"unknown channel", Case{Collector: "first_party", Consumer: Consumer{State: "OH"}, Debts: []Debt{{ID: "A"}},
			Attempt: Attempt{At: at, Channel: "fax", Debt: "A", To: "+16145550101", Purpose: PurposeCollection}},
			"TCPA-CONSENT"},
		{"unknown outcomes count", Case{Collector: "first_party", Consumer: Consumer{State: "MA"}, Debts: []Debt{{ID: "A"}},
			History: []Event{
				{Kind: EventAttempt, At: at.Add(-48 * time.Hour), Channel: ChannelSMS, Debt: "A", To: "+16175550142", Outcome: "answered"},
				{Kind: EventAttempt, At: at.Add(-24 * time.Hour), Channel: ChannelSMS, Debt: "A", To: "+16175550142"},
			},
			Attempt: Attempt{At: at, Channel: ChannelCall, Debt: "A", To: "+16175550142", Purpose: PurposeCollection}},
			"STATE-MA-FREQ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.Decide(tt.c)
			if r.Decision != Block || !slices.Contains(r.Rules, tt.rule) {
				t.Errorf("got %s %v (%s), want block by %s", r.Decision, r.Rules, r.Reason, tt.rule)
			}
			checkResult(t, e, tt.c, r)
		})
	}
}
