package compliance

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// minimal is a valid scenario that each bad-input case breaks in one place.
const minimal = `{
 "id": "s1",
 "collector": "third_party",
 "consumer": {"id": "C1", "address": {"state": "OH", "zip": "43215"},
  "phones": [{"number": "+16145550101", "line": "mobile", "provided_for_debt": true}],
  "emails": [{"address": "pat@example.com", "employer_provided": false}], "flags": []},
 "debts": [{"id": "A", "time_barred": false}],
 "history": [{"kind": "attempt", "at": "2026-04-06T14:00:00Z", "channel": "call", "debt": "A", "to": "+16145550101", "outcome": "voicemail"}],
 "attempt": {"at": "2026-04-11T15:00:00Z", "channel": "call", "debt": "A", "to": "+16145550101", "purpose": "collection",
  "disclosures": ["mini_miranda"], "limited_content": false, "marketing": false, "threatens_suit": false},
 "expect": {"decision": "allow", "rules": []}
}`

func TestReadScenariosAcceptsMinimal(t *testing.T) {
	ss, err := ReadScenarios(strings.NewReader("[" + minimal + "]"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := ss[0].Case()
	if err != nil {
		t.Fatal(err)
	}
	want := Event{Kind: EventAttempt, At: time.Date(2026, 4, 6, 14, 0, 0, 0, time.UTC), Channel: ChannelCall,
		Debt: "A", To: "+16145550101", Outcome: OutcomeVoicemail}
	if diff := cmp.Diff(want, c.History[0]); diff != "" {
		t.Errorf("history event (-want +got):\n%s", diff)
	}
}

func TestReadScenariosRejectsBadInput(t *testing.T) {
	tests := []struct {
		name, from, to, want string
	}{
		{"unknown top-level field", `"collector"`, `"colector": "x", "collector"`, `scenario "s1": colector: unknown field`},
		{"unknown nested field", `"provided_for_debt": true`, `"provided_for_debt": true, "carrier": "x"`, `scenario "s1": consumer.phones[0].carrier: unknown field`},
		{"field in another case", `"address": "pat`, `"adDress": "pat`, `scenario "s1": consumer.emails[0].adDress: unknown field`},
		{"repeated field", `"channel": "call", "debt": "A", "to"`, `"channel": "call", "channel": "sms", "debt": "A", "to"`, `scenario "s1": history[0].channel: field repeats`},
		{"unknown field in expect", `"rules": []`, `"rules": [], "earliest": "x"`, `scenario "s1": expect.earliest: unknown field`},
		{"unknown collector", `"third_party"`, `"agency"`, `scenario "s1": collector: is "agency"`},
		{"unknown channel", `"channel": "call", "debt": "A", "to": "+16145550101", "purpose"`, `"channel": "fax", "debt": "A", "to": "+16145550101", "purpose"`, `scenario "s1": attempt.channel: unknown channel "fax"`},
		{"unknown kind", `"kind": "attempt"`, `"kind": "called"`, `scenario "s1": history[0].kind: unknown kind "called"`},
		{"unknown outcome", `"outcome": "voicemail"`, `"outcome": "answered"`, `scenario "s1": history[0].outcome: unknown outcome "answered"`},
		{"unknown flag", `"flags": []`, `"flags": ["jail"]`, `scenario "s1": consumer.flags[0]: unknown flag "jail"`},
		{"unknown line", `"line": "mobile"`, `"line": "cell"`, `scenario "s1": consumer.phones[0].line: unknown line "cell"`},
		{"malformed number", `"number": "+16145550101"`, `"number": "+1614555"`, `scenario "s1": consumer.phones[0].number: "+1614555" is not a valid phone number`},
		{"number not E.164", `"number": "+16145550101"`, `"number": "614-555-0101"`, `consumer.phones[0].number: "614-555-0101" is not an E.164 number`},
		{"malformed attempt number", `"to": "+16145550101", "purpose"`, `"to": "+1 (614) 555", "purpose"`, `scenario "s1": attempt.to:`},
		{"email to a phone channel", `"to": "+16145550101", "purpose"`, `"to": "pat@example.com", "purpose"`, `attempt.to: "pat@example.com" is not an E.164 number`},
		{"bad email", `"address": "pat@example.com"`, `"address": "pat.example.com"`, `consumer.emails[0].address: "pat.example.com" is not an email address`},
		{"field of another kind", `"outcome": "voicemail"}`, `"outcome": "voicemail", "written": true}`, `scenario "s1": history[0].written: field does not apply to kind "attempt"`},
		{"unknown debt", `"debt": "A", "to": "+16145550101", "outcome"`, `"debt": "Z", "to": "+16145550101", "outcome"`, `history[0].debt: unknown debt "Z"`},
		{"bad time", `"at": "2026-04-06T14:00:00Z"`, `"at": "April 6"`, `history[0].at: "April 6" is not an RFC 3339 time`},
		{"unknown rule in expect", `"rules": []`, `"rules": ["REGF-7IN7"]`, `scenario "s1": expect.rules[0]: unknown rule id "REGF-7IN7"`},
		{"unknown decision", `"decision": "allow"`, `"decision": "deny"`, `expect.decision: unknown decision "deny"`},
		{"unknown state", `"state": "OH"`, `"state": "XX"`, `consumer.address.state: unknown state "XX"`},
		{"unknown purpose", `"purpose": "collection"`, `"purpose": "marketing"`, `attempt.purpose: unknown purpose "marketing"`},
		{"unknown disclosure", `["mini_miranda"]`, `["miranda"]`, `attempt.disclosures[0]: unknown disclosure "miranda"`},
		{"missing id", `"id": "s1",`, ``, `scenario "": id: is missing`},
		{"wrong type", `"marketing": false`, `"marketing": "no"`, `scenario "s1": json: cannot unmarshal`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := strings.Replace(minimal, tt.from, tt.to, 1)
			if doc == minimal {
				t.Fatalf("%q not found in the minimal scenario", tt.from)
			}
			_, err := ReadScenarios(strings.NewReader("[" + doc + "]"))
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrScenario) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error\n  %v\nwant it to contain\n  %s", err, tt.want)
			}
		})
	}
}

func TestReadScenariosRejectsBadFiles(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"not an array", minimal, "want a JSON array of scenarios"},
		{"trailing data", "[" + minimal + "] []", "trailing data"},
		{"duplicate id", "[" + minimal + "," + minimal + "]", `scenario "s1": id repeats scenario 1`},
		{"empty", "", "want a JSON array"},
		{"null", "null", "want a JSON array of scenarios: got null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadScenarios(strings.NewReader(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestScenarioResultJSON(t *testing.T) {
	at := time.Date(2026, 4, 13, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		r    Result
		want string
	}{
		{"allowed", Result{Decision: Allow, Reason: "ok"}, `{"id":"x","decision":"allow","rules":[],"reason":"ok"}`},
		{"blocked", Result{Decision: Block, Rules: []string{"REGF-CALL-7IN7"}, Reason: "8th", EarliestAllowedAt: &at},
			`{"id":"x","decision":"block","rules":["REGF-CALL-7IN7"],"earliest_allowed_at":"2026-04-13T12:00:00Z","reason":"8th"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(NewScenarioResult("x", tt.r))
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("got  %s\nwant %s", b, tt.want)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	at := time.Date(2026, 4, 13, 12, 0, 0, 0, time.UTC)
	s := Scenario{ID: "x", Expect: &Expectation{Decision: "block", Rules: []string{"REGF-CALL-7IN7"}, EarliestAllowedAt: "2026-04-13T12:00:00Z"}}
	tests := []struct {
		name string
		r    Result
		want string
	}{
		{"match, extra rules are fine", Result{Decision: Block, Rules: []string{"REGF-TIME", "REGF-CALL-7IN7"}, EarliestAllowedAt: &at}, ""},
		{"wrong decision", Result{Decision: Allow, Rules: []string{}}, "decision allow, want block"},
		{"missing rule", Result{Decision: Block, Rules: []string{"REGF-TIME"}, EarliestAllowedAt: &at}, "rule REGF-CALL-7IN7 did not fire"},
		{"no earliest", Result{Decision: Block, Rules: []string{"REGF-CALL-7IN7"}}, "no earliest_allowed_at, want 2026-04-13T12:00:00Z"},
		{"other earliest", Result{Decision: Block, Rules: []string{"REGF-CALL-7IN7"}, EarliestAllowedAt: ptr(at.Add(time.Hour))},
			"earliest_allowed_at 2026-04-13T13:00:00Z, want 2026-04-13T12:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(s, tt.r)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
	if err := Verify(Scenario{ID: "y"}, Result{}); err == nil {
		t.Error("verified a scenario with no expect")
	}
}

func ptr[T any](v T) *T { return &v }
