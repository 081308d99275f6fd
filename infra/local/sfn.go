package local

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"time"
)

// smokeDefinition is a Pass → Choice → Pass → Succeed state machine (with a
// Fail branch the smoke input must not take). local-sfn prints an object
// result with Node's inspect format rather than JSON, so the last Pass state
// turns the result into a JSON string (States.JsonToString), which local-sfn
// prints as is.
const smokeDefinition = `{
  "Comment": "Recoup local stack smoke test",
  "StartAt": "Annotate",
  "States": {
    "Annotate": {
      "Type": "Pass",
      "Result": "checked",
      "ResultPath": "$.stage",
      "Next": "IsLarge"
    },
    "IsLarge": {
      "Type": "Choice",
      "Choices": [
        {"Variable": "$.amount", "NumericGreaterThanEquals": 100, "Next": "Encode"}
      ],
      "Default": "Rejected"
    },
    "Encode": {
      "Type": "Pass",
      "Parameters": {"json.$": "States.JsonToString($)"},
      "OutputPath": "$.json",
      "Next": "Approved"
    },
    "Approved": {"Type": "Succeed"},
    "Rejected": {"Type": "Fail", "Error": "TooSmall", "Cause": "amount below 100"}
  }
}
`

const smokeInput = `{"amount":250,"debtor":"d-1"}`

// smokeWant is the output the state machine must produce for smokeInput.
var smokeWant = map[string]any{"amount": 250.0, "debtor": "d-1", "stage": "checked"}

// SmokeStepFunctions checks the Step Functions tooling: it writes a small ASL
// definition to a temporary file, validates it with asl-validator, runs it
// with aws-local-stepfunctions (local-sfn) under the Node 22 binary and
// compares the output with the expected JSON. It needs [Install] to have run.
func SmokeStepFunctions(ctx context.Context, cfg Config, out io.Writer) error {
	node := NodePath(cfg)
	for _, p := range []string{node, cfg.aslValidatorCLI(), cfg.localSFNCLI()} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("step functions smoke: %s is missing; run the install (make up) first", p)
		}
	}
	dir, err := os.MkdirTemp("", "recoup-sfn-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	def := filepath.Join(dir, "smoke.asl.json")
	if err := os.WriteFile(def, []byte(smokeDefinition), 0o644); err != nil {
		return err
	}

	start := time.Now()
	if err := ValidateASL(ctx, cfg, def); err != nil {
		return fmt.Errorf("step functions smoke: %w", err)
	}
	fmt.Fprintf(out, "sfn:        asl-validator: definition is valid (%s)\n", time.Since(start).Round(10*time.Millisecond))

	start = time.Now()
	// local-sfn reads its inputs from stdin when stdin is not a terminal
	// (ignoring input arguments), so the input goes there.
	b, err := runNode(ctx, cfg, smokeInput+"\n", cfg.localSFNCLI(), "--definition-file", def)
	if err != nil {
		return fmt.Errorf("step functions smoke: local-sfn: %w\n%s", err, b)
	}
	got, err := lastJSONLine(b)
	if err != nil {
		return fmt.Errorf("step functions smoke: local-sfn output: %w\n%s", err, b)
	}
	if !reflect.DeepEqual(got, smokeWant) {
		return fmt.Errorf("step functions smoke: local-sfn output = %s, want %v", strings.TrimSpace(string(b)), smokeWant)
	}
	fmt.Fprintf(out, "sfn:        local-sfn: Pass -> Choice -> Pass -> Succeed gave %s (%s)\n",
		strings.TrimSpace(lastLine(b)), time.Since(start).Round(10*time.Millisecond))
	return nil
}

// ValidateASL checks the definition in file with asl-validator (the
// installed npm package, under the Node 22 binary). It needs [Install] to
// have run.
func ValidateASL(ctx context.Context, cfg Config, file string) error {
	if b, err := runNode(ctx, cfg, "", cfg.aslValidatorCLI(), "--json-path", file); err != nil {
		return fmt.Errorf("asl-validator rejected %s: %w\n%s", file, err, b)
	}
	return nil
}

// runNode runs a script under the Node 22 binary from infra/local with stdin
// as its standard input and returns its combined output.
func runNode(ctx context.Context, cfg Config, stdin, script string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, NodePath(cfg), append([]string{script}, args...)...)
	cmd.Dir = cfg.Dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	cmd.Stdin = strings.NewReader(stdin)
	var buf bytes.Buffer
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	err := cmd.Run()
	return buf.Bytes(), err
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

func lastJSONLine(b []byte) (map[string]any, error) {
	var v map[string]any
	if err := json.Unmarshal([]byte(lastLine(b)), &v); err != nil {
		return nil, err
	}
	return v, nil
}
