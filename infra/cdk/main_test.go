package main

// End-to-end tests of the CDK app as `cdk synth` runs it: the binary is
// built once, then run with its context in CDK_CONTEXT_JSON and its
// output folder in CDK_OUTDIR, as the CLI passes them.

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recoup-dev/recoup/infra/cdk/stacks"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
	buildDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// appBinary builds the app once for every test.
func appBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "recoup-cdk-main-")
		if buildErr != nil {
			return
		}
		binary = filepath.Join(buildDir, "app")
		cmd := exec.Command("go", "build", "-o", binary, ".")
		cmd.Dir = "."
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			buildErr = errors.New("go build: " + err.Error() + "\n" + out.String())
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

// validContext is cdk.json's feature flags with a valid deployment's
// parameters and dist.
func validContext(t *testing.T, dist string) map[string]any {
	t.Helper()
	ctx, err := stacks.FeatureFlags("cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{
		stacks.KeyTenant:      "acme",
		stacks.KeyModelID:     "amazon.nova-micro-v1:0",
		stacks.KeyERPEndpoint: "https://ebs.acme.example:4443",
		stacks.KeyAlarmEmail:  "ar-alerts@acme.example",
		stacks.KeyDist:        dist,
	} {
		ctx[k] = v
	}
	return ctx
}

type result struct {
	code           int
	stdout, stderr string
	outdir         string
}

// synth runs the app with ctx as its context; the environment (the
// Node 22 PATH among it) is inherited, less any CDK_ variable.
func synth(t *testing.T, ctx map[string]any) result {
	t.Helper()
	bin := appBinary(t)
	b, err := json.Marshal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	outdir := t.TempDir()
	cmd := exec.Command(bin)
	cmd.Dir = "."
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CDK_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "CDK_CONTEXT_JSON="+string(b), "CDK_OUTDIR="+outdir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	t.Logf("app ran in %v", time.Since(start).Round(time.Millisecond))
	r := result{stdout: stdout.String(), stderr: stderr.String(), outdir: outdir}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.Exited():
		r.code = exit.ExitCode()
	default:
		t.Fatalf("running the app: %v\nstderr:\n%s", err, r.stderr)
	}
	return r
}

// noPanic fails when the app crashed rather than explained itself.
func noPanic(t *testing.T, r result) {
	t.Helper()
	for _, s := range []string{"panic", "goroutine "} {
		if strings.Contains(r.stderr, s) {
			t.Errorf("stderr contains %q:\n%s", s, r.stderr)
		}
	}
}

func TestMissingParameters(t *testing.T) {
	ctx, err := stacks.FeatureFlags("cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	r := synth(t, ctx)
	if r.code == 0 {
		t.Fatalf("exit 0 without parameters; stderr:\n%s", r.stderr)
	}
	for _, k := range []string{stacks.KeyTenant, stacks.KeyModelID, stacks.KeyERPEndpoint, stacks.KeyAlarmEmail} {
		if !strings.Contains(r.stderr, k) {
			t.Errorf("stderr does not name %s:\n%s", k, r.stderr)
		}
	}
	noPanic(t, r)
}

func TestMissingBootstraps(t *testing.T) {
	r := synth(t, validContext(t, t.TempDir()))
	if r.code == 0 {
		t.Fatalf("exit 0 with an empty dist; stderr:\n%s", r.stderr)
	}
	for _, s := range []string{"bootstrap", "make lambdas LAMBDA_ARCH=arm64"} {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr does not say %q:\n%s", s, r.stderr)
		}
	}
	for _, n := range stacks.FunctionNames() {
		if !strings.Contains(r.stderr, "function "+n+":") {
			t.Errorf("stderr does not name the missing bootstrap of %s", n)
		}
	}
	noPanic(t, r)
}

func TestSynthesises(t *testing.T) {
	dist := t.TempDir()
	for _, n := range stacks.FunctionNames() {
		if err := stacks.WriteELF(filepath.Join(dist, n, "bootstrap"), elf.EM_AARCH64); err != nil {
			t.Fatal(err)
		}
	}
	r := synth(t, validContext(t, dist))
	if r.code != 0 {
		t.Fatalf("exit %d, want 0; stderr:\n%s", r.code, r.stderr)
	}
	noPanic(t, r)
	for _, name := range []string{"Recoup.template.json", "RecoupData.template.json"} {
		b, err := os.ReadFile(filepath.Join(r.outdir, name))
		if err != nil {
			t.Errorf("%s not written: %v", name, err)
			continue
		}
		var doc struct {
			Resources map[string]struct{ Type string }
		}
		if err := json.Unmarshal(b, &doc); err != nil || len(doc.Resources) == 0 {
			t.Errorf("%s is not a template with resources (%v)", name, err)
		}
	}
}
