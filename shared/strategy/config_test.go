package strategy

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name     string
		old, new string // a replacement in testConfigJSON
		want     []string
	}{
		{"a loop through next",
			`{"id": "firm", "action": "firm_reminder",`, `{"id": "firm", "next": "reminder", "action": "firm_reminder",`,
			[]string{`segments[1].steps[0]`, `segment "standard", step "reminder"`, `loop reminder → firm → reminder`}},
		{"a loop through escalate_to",
			`"channel": "letter", "tone": "formal", "wait_days": 14}`, `"channel": "letter", "tone": "formal", "wait_days": 14, "escalate_to": "call"}`,
			[]string{`segments[1].steps[2]`, `segment "standard", step "call"`, `loop call → hold → final → call`, "never reaches a hand_off"}},
		{"a step escalating to itself",
			`"escalate_to": "final"`, `"escalate_to": "call"`,
			[]string{`segments[1].steps[2].escalate_to`, `step "call"`, "its own step: a loop"}},
		{"an unknown channel",
			`"channel": "letter", "tone": "formal"`, `"channel": "fax", "tone": "formal"`,
			[]string{`segments[1].steps[4].channel`, `segment "standard", step "final"`, `unknown channel "fax"`, "voice_ai"}},
		{"an unknown action",
			`"action": "credit_hold"`, `"action": "lawsuit"`,
			[]string{`segments[1].steps[3].action`, `segment "standard", step "hold"`, `unknown action "lawsuit"`}},
		{"no default segment",
			`"default": true, `, ``,
			[]string{`segments: no default segment`}},
		{"two default segments",
			`{"id": "consumer", "match": {"kind": ["consumer"]},`, `{"id": "consumer", "default": true,`,
			[]string{`segments[1].default (segment "standard"): a second default`}},
		{"a default segment with a match",
			`{"id": "standard", "default": true,`, `{"id": "standard", "default": true, "match": {"key_account": true},`,
			[]string{`segments[1].match (segment "standard")`, "has no match"}},
		{"a duplicate step id",
			`{"id": "hold",`, `{"id": "call",`,
			[]string{`segments[1].steps[3].id`, `segment "standard", step "call"`, "duplicate step id (also steps[2])"}},
		{"an unknown escalation step",
			`"escalate_to": "final"`, `"escalate_to": "finale"`,
			[]string{`segments[1].steps[2].escalate_to`, `step "call"`, `unknown step "finale"`}},
		{"a call by email",
			`"channel": "voice"`, `"channel": "email"`,
			[]string{`segments[1].steps[2].channel`, `step "call"`, "a call goes by voice or voice_ai"}},
		{"no message for a reminder",
			`"channel": "email", "tone": "friendly"`, `"channel": "none", "tone": "friendly"`,
			[]string{`segments[1].steps[0].channel`, `step "reminder"`, `"none" is only for credit_hold and hand_off`}},
		{"a hand-off that goes on",
			`{"id": "hand_off", "action": "hand_off",`, `{"id": "hand_off", "next": "reminder", "action": "hand_off",`,
			[]string{`segments[1].steps[5]`, `step "hand_off"`, "ends the sequence"}},
		{"a step nothing reaches",
			`"channel": "email", "tone": "friendly", "wait_days": 7}`, `"channel": "email", "tone": "friendly", "wait_days": 7, "next": "call"}`,
			[]string{`segments[1].steps[1]`, `step "firm"`, "never reached from the first step"}},
		{"an unknown tone",
			`"tone": "formal"`, `"tone": "angry"`,
			[]string{`segments[1].steps[4].tone`, `step "final"`, `unknown tone "angry"`}},
		{"an unknown risk band in a match",
			`"match": {"kind": ["consumer"]}`, `"match": {"kind": ["consumer"], "risk": ["medium"]}`,
			[]string{`segments[0].match.risk[0] (segment "consumer")`, `unknown risk band "medium"`}},
		{"no steps",
			`{"id": "nudge", "action": "friendly_reminder", "min_days_past_due": 3, "wait_days": 7},
      {"id": "final", "action": "final_notice", "min_days_past_due": 30, "channel": "letter", "wait_days": 14}`, ``,
			[]string{`segments[0].steps (segment "consumer")`, "at least one step"}},
		{"a negative wait",
			`"wait_days": 3`, `"wait_days": -3`,
			[]string{`segments[1].steps[2].wait_days`, `step "call"`, "between 0 and"}},
		{"an unknown field",
			`{"id": "reminder",`, `{"id": "reminder", "colour": "red",`,
			[]string{`segments[1].steps[0].colour`, `unknown field "colour"`}},
		{"a field in the wrong case",
			`"version": "test-1"`, `"Version": "test-1"`,
			[]string{`Version: unknown field "Version"`}},
		{"a field given twice",
			`"version": "test-1",`, `"version": "test-1", "version": "test-2",`,
			[]string{`version: field given twice`}},
		{"a number as text",
			`"wait_days": 3`, `"wait_days": "3"`,
			[]string{`segments[1].steps[2].wait_days: want a whole number, got a string`}},
		{"a fraction of a day",
			`"wait_days": 3`, `"wait_days": 3.5`,
			[]string{`segments[1].steps[2].wait_days: want a whole number`}},
		{"an unknown zone",
			`"America/New_York"`, `"Mars/Olympus_Mons"`,
			[]string{`business_hours.zone`, `unknown IANA zone "Mars/Olympus_Mons"`}},
		{"a window ending before it starts",
			`"start": "09:00", "end": "17:00"`, `"start": "17:00", "end": "09:00"`,
			[]string{`business_hours.windows[0]: start 17:00 is not before end 09:00`}},
		{"an unknown weekday",
			`"days": ["mon",`, `"days": ["monday",`,
			[]string{`business_hours.windows[0].days[0]`, `unknown day "monday"`}},
		{"an unknown currency",
			`{"USD": 1000000}`, `{"USX": 1000000}`,
			[]string{`approval.balance_at_least.USX`, `unknown ISO 4217 currency`}},
		{"a promise broken before its follow-up",
			`"broken_after_days": 3`, `"broken_after_days": 0`,
			[]string{`promise.broken_after_days`, "the follow-up must come first"}},
		{"risk bands out of order",
			`{"name": "high", "min_pay_probability": 0}`, `{"name": "high", "min_pay_probability": 0.7}`,
			[]string{`risk.bands[1].min_pay_probability`, "highest first"}},
		{"another schema",
			`"recoup.strategy/1"`, `"recoup.strategy/2"`,
			[]string{`schema: got "recoup.strategy/2"`}},
		{"data after the config",
			"\n  ]\n}", "\n  ]\n} {}",
			[]string{"data after the config object"}},
		{"not JSON",
			`"schema":`, `"schema"`,
			[]string{"malformed JSON"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(testConfigJSON, tt.old) {
				t.Fatalf("%q is not in the test config", tt.old)
			}
			_, err := ParseConfig([]byte(strings.Replace(testConfigJSON, tt.old, tt.new, 1)))
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrConfig) {
				t.Errorf("%v is not an ErrConfig", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Errorf("%v has no ConfigError", err)
			}
		})
	}
}

// TestConfigHash checks that the hash is of the meaning, not the spelling:
// layout, field order and spelt-out defaults do not change it; a setting
// does.
func TestConfigHash(t *testing.T) {
	base := testConfig(t)
	canon, err := json.Marshal(base)
	if err != nil {
		t.Fatal(err)
	}
	var indented bytes.Buffer
	if err := json.Indent(&indented, []byte(testConfigJSON), "", "\t"); err != nil {
		t.Fatal(err)
	}
	var generic map[string]any
	if err := json.Unmarshal([]byte(testConfigJSON), &generic); err != nil {
		t.Fatal(err)
	}
	reordered, _ := json.Marshal(generic) // keys sorted: another field order
	for name, data := range map[string][]byte{
		"canonical form":    canon, // defaults spelt out: attempts 1, channels, tones, fallback channels
		"indented":          indented.Bytes(),
		"fields reordered":  reordered,
		"a default written": []byte(strings.Replace(testConfigJSON, `"wait_days": 7}`, `"wait_days": 7, "attempts": 1}`, 1)),
	} {
		c, err := ParseConfig(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if c.Hash() != base.Hash() {
			t.Errorf("%s: hash %s, want %s", name, c.Hash(), base.Hash())
		}
	}
	changed, err := ParseConfig([]byte(strings.Replace(testConfigJSON, `"wait_days": 3`, `"wait_days": 4`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if changed.Hash() == base.Hash() {
		t.Error("a changed wait kept the hash")
	}
	if !strings.Contains(string(canon), `"attempts":1`) || !strings.Contains(string(canon), `"fallback_channels":["email","sms","letter","voice_ai","voice"]`) {
		t.Errorf("canonical form without its defaults: %s", canon)
	}
}

func TestReadConfig(t *testing.T) {
	f, err := os.Open("testdata/default.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := ReadConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	if c.Hash() != DefaultConfig().Hash() {
		t.Error("the file and the embedded default differ")
	}
	huge := bytes.Repeat([]byte(" "), MaxConfigBytes+1)
	if _, err := ReadConfig(bytes.NewReader(huge)); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("a huge config: %v", err)
	}
}

// FuzzReadConfig checks that any input is refused with an ErrConfig or
// accepted as a config whose canonical form reads back to the same hash and
// that can decide.
func FuzzReadConfig(f *testing.F) {
	f.Add([]byte(testConfigJSON))
	f.Add(defaultJSON)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"schema": "recoup.strategy/1", "segments": [{"id": "a", "default": true, "steps": [{"id": "x", "action": "call", "next": "x"}]}]}`))
	f.Add([]byte(strings.Replace(testConfigJSON, `"escalate_to": "final"`, `"escalate_to": "reminder"`, 1)))
	in := fullInput()
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ReadConfig(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("error %v is not an ErrConfig", err)
			}
			return
		}
		canon, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseConfig(canon)
		if err != nil {
			t.Fatalf("canonical form refused: %v\n%s", err, canon)
		}
		if again.Hash() != c.Hash() {
			t.Fatalf("hash changed on reading the canonical form back:\n%s", canon)
		}
		if _, err := Decide(c, in); err != nil {
			t.Fatalf("a valid config cannot decide: %v", err)
		}
	})
}

func BenchmarkParseConfig(b *testing.B) {
	for b.Loop() {
		if _, err := ParseConfig([]byte(testConfigJSON)); err != nil {
			b.Fatal(err)
		}
	}
}
