package statemachine

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPlaceholders(t *testing.T) {
	want := map[string][]string{
		Cycle: {"ApprovalsFunctionArn", "DraftFunctionArn", "ParkFunctionArn", "PlanFunctionArn", "ScoreFunctionArn", "SendFunctionArn", "ShadowFunctionArn"},
		Daily: {"WakeFunctionArn", "WorklistFunctionArn"},
	}
	for _, name := range Names {
		def, err := Definition(name)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want[name], Placeholders(def)); diff != "" {
			t.Errorf("%s placeholders (-want +got):\n%s", name, diff)
		}
	}
}

func TestSubstitute(t *testing.T) {
	def := `{"a": "${OneFunctionArn}", "b": "${TwoFunctionArn}", "c": "${OneFunctionArn}"}`
	tests := []struct {
		name    string
		values  map[string]string
		want    string
		wantErr string
	}{
		{"every placeholder filled", map[string]string{"OneFunctionArn": "arn:1", "TwoFunctionArn": "arn:2"},
			`{"a": "arn:1", "b": "arn:2", "c": "arn:1"}`, ""},
		{"one missing", map[string]string{"OneFunctionArn": "arn:1"}, "", "missing [TwoFunctionArn]"},
		{"one empty", map[string]string{"OneFunctionArn": "arn:1", "TwoFunctionArn": ""}, "", "missing [TwoFunctionArn]"},
		{"one unused", map[string]string{"OneFunctionArn": "arn:1", "TwoFunctionArn": "arn:2", "ThreeFunctionArn": "arn:3"}, "", "unused [ThreeFunctionArn]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Substitute(def, tc.values)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Substitute error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Substitute = %s, want %s", got, tc.want)
			}
		})
	}
	if _, err := Definition("nope"); err == nil {
		t.Error("Definition of an unknown name gave no error")
	}
}

// state is the part of an ASL state these checks read.
type state struct {
	Type  string `json:"Type"`
	Retry []struct {
		ErrorEquals []string `json:"ErrorEquals"`
		BackoffRate float64  `json:"BackoffRate"`
		MaxAttempts int      `json:"MaxAttempts"`
	} `json:"Retry"`
	Catch []struct {
		ErrorEquals []string `json:"ErrorEquals"`
	} `json:"Catch"`
	ItemProcessor *machine `json:"ItemProcessor"`
}

type machine struct {
	States map[string]state `json:"States"`
}

// Every task retries transient failures with backoff and catches
// everything else, so no failure ends an execution unrecorded; states
// nested in a Map are held to the same rule.
func TestEveryTaskRetriesAndCatches(t *testing.T) {
	for _, name := range Names {
		def, _ := Definition(name)
		var m machine
		if err := json.Unmarshal([]byte(def), &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var check func(path string, m machine)
		check = func(path string, m machine) {
			for id, s := range m.States {
				if s.ItemProcessor != nil {
					check(path+"/"+id, *s.ItemProcessor)
				}
				if s.Type != "Task" {
					continue
				}
				backoff := false
				for _, r := range s.Retry {
					backoff = backoff || (r.BackoffRate > 1 && r.MaxAttempts > 1)
				}
				if !backoff {
					t.Errorf("%s/%s: no retry with backoff", path, id)
				}
				all := false
				for _, c := range s.Catch {
					for _, e := range c.ErrorEquals {
						all = all || e == "States.ALL"
					}
				}
				if !all {
					t.Errorf("%s/%s: no catch of States.ALL", path, id)
				}
			}
		}
		check(name, m)
	}
}
