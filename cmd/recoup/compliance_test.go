package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const publicVectors = "../../../shared/compliance/vectors/public.json"

func TestComplianceCheckVerifiesThePublicVectors(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"compliance", "check", "--verify", publicVectors}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d:\n%s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 32 {
		t.Errorf("%d output lines, want one per public vector (32)", len(lines))
	}
	for _, l := range lines {
		var got map[string]any
		if err := json.Unmarshal([]byte(l), &got); err != nil {
			t.Fatalf("line %q is not JSON: %v", l, err)
		}
		for _, k := range []string{"id", "decision", "rules", "reason"} {
			if _, ok := got[k]; !ok {
				t.Errorf("line %q lacks %q", l, k)
			}
		}
		if got["decision"] == "allow" && got["earliest_allowed_at"] != nil {
			t.Errorf("allowed scenario carries earliest_allowed_at: %q", l)
		}
	}
}

func TestComplianceCheckExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A public vector with its expectation flipped: --verify must fail it.
	raw, err := os.ReadFile(publicVectors)
	if err != nil {
		t.Fatal(err)
	}
	var vectors []map[string]any
	if err := json.Unmarshal(raw, &vectors); err != nil {
		t.Fatal(err)
	}
	wrong := vectors[0]
	wrong["expect"] = map[string]any{"decision": "allow", "rules": []string{}}
	b, _ := json.Marshal([]any{wrong})
	tests := []struct {
		name string
		args []string
		code int
		say  string
	}{
		{"a wrong expectation", []string{"--verify", write("wrong.json", string(b))}, 1, "0 passed, 1 failed"},
		{"without --verify it only reports", []string{write("wrong2.json", string(b))}, 0, ""},
		{"an unknown field", []string{write("typo.json", `[{"id":"x","colector":"third_party"}]`)}, 2, "colector"},
		{"not JSON", []string{write("bad.json", `[{`)}, 2, "bad.json"},
		{"no such file", []string{filepath.Join(dir, "missing.json")}, 1, "missing.json"},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		code := run(context.Background(), append([]string{"compliance", "check"}, tt.args...), &out, &errOut)
		if code != tt.code || !strings.Contains(errOut.String(), tt.say) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d saying %q", tt.name, code, errOut.String(), tt.code, tt.say)
		}
	}
}
