package local

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recoup-dev/recoup/infra/local/localtest"
	"github.com/recoup-dev/recoup/infra/statemachine"
)

// TestIntegrationStateMachinesAreValid runs asl-validator on every
// definition in the repo, its placeholders filled as a deployment fills
// them. It needs the local stack's npm packages (make up installs them).
func TestIntegrationStateMachinesAreValid(t *testing.T) {
	localtest.Require(t)
	root, err := FindRepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The validator must refuse what is broken, or its pass means nothing.
	broken := filepath.Join(t.TempDir(), "broken.asl.json")
	if err := os.WriteFile(broken, []byte(`{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Nowhere"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ValidateASL(context.Background(), cfg, broken); err == nil {
		t.Error("asl-validator accepted a definition whose Next names no state")
	}
	for _, name := range statemachine.Names {
		t.Run(name, func(t *testing.T) {
			def, err := statemachine.Definition(name)
			if err != nil {
				t.Fatal(err)
			}
			values := map[string]string{}
			for _, p := range statemachine.Placeholders(def) {
				fn := "recoup-" + strings.ToLower(strings.TrimSuffix(p, "FunctionArn"))
				values[p] = statemachine.LambdaARN("us-east-1", "000000000000", fn)
			}
			filled, err := statemachine.Substitute(def, values)
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(t.TempDir(), name+".asl.json")
			if err := os.WriteFile(file, []byte(filled), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := ValidateASL(context.Background(), cfg, file); err != nil {
				t.Error(err)
			}
		})
	}
}
