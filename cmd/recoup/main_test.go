package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/recoup-dev/recoup/infra/local/localtest"
)

func TestUsageErrorsExit2(t *testing.T) {
	tests := []struct {
		args     []string
		inStderr string
	}{
		{nil, "usage: recoup COMMAND"},
		{[]string{"bogus"}, `unknown command "bogus"`},
		{[]string{"ingest"}, "--tenant is required"},
		{[]string{"ingest", "--tenant", "t"}, "at least one FILE, or --from-erp, is required"},
		{[]string{"ingest", "--tenant", "t", "--from-erp", "erp.json", "a.csv"}, "give it no FILEs"},
		{[]string{"ingest", "--tenant", "t", "--since", "2026-11-01T00:00:00Z", "a.csv"}, "--since is for --from-erp"},
		{[]string{"writeback"}, "writeback list|replay"},
		{[]string{"writeback", "list"}, "--tenant is required"},
		{[]string{"writeback", "replay", "--tenant", "t", "--state", "confirmed"}, "--state \"confirmed\""},
		{[]string{"kpi", "--tenant", "acme", "--as-of", "2026-13-01"}, `--as-of "2026-13-01" is not a YYYY-MM-DD date`},
		{[]string{"local"}, "one of up, down, status, env, smoke"},
		{[]string{"tables", "drop"}, "tables create"},
		{[]string{"ingest", "--no-such-flag"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tt.args, &stdout, &stderr)
		if code != 2 {
			t.Errorf("recoup %v exited %d, want 2", tt.args, code)
		}
		if !strings.Contains(stderr.String(), tt.inStderr) {
			t.Errorf("recoup %v stderr = %q, want it to contain %q", tt.args, stderr.String(), tt.inStderr)
		}
	}
}

func TestIngestNamesTheEndpointThatIsDown(t *testing.T) {
	// Port 9 (discard) on loopback has no listener here: the connection is refused at once.
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	t.Setenv("AWS_ACCESS_KEY_ID", "x")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "x")
	f := filepath.Join(t.TempDir(), "customers.csv")
	if err := os.WriteFile(f, []byte("customer_id,name\nC1,Acme\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"ingest", "--tenant", "acme", f}, &stdout, &stderr)
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	for _, want := range []string{"http://127.0.0.1:9", "make up"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr %q does not name %q", stderr.String(), want)
		}
	}
}

func TestIntegrationDemoAndIngestCommands(t *testing.T) {
	localtest.Require(t)
	ctx := context.Background()
	dir := t.TempDir()
	tenant := fmt.Sprintf("cli%d", time.Now().UnixNano())
	var stdout, stderr bytes.Buffer
	// The demo moves the stack's clock; the packages tested after this one
	// expect the wall clock.
	t.Cleanup(func() {
		if err := os.Remove(filepath.Join(os.Getenv("RECOUP_STATE_DIR"), "clock.json")); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("reset the stack's clock: %v", err)
		}
	})
	code := run(ctx, []string{"demo", "--dir", dir, "--tenant", tenant, "--customers", "300", "--invoices", "1200", "--every", "10"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("demo exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"Data quality", "inserted 0, updated 0, unchanged", "DSO (countback)", "CEI (30 days)", "121+",
		"daily run at 2026-11-02T16:00:00Z", "waiting for a collector", "cycles the events woke planned again",
		"texts sent to them afterwards: 0", "after, with the cycle"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	rejects, err := os.ReadFile(filepath.Join(dir, "rejects.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(rejects), "\n"); lines < 2 {
		t.Errorf("rejects.csv has %d lines; the demo portfolio has bad rows", lines)
	}

	// The IBM file through the CLI: 2,466 invoices for 100 customers, no rejects.
	stdout.Reset()
	ibm := "../../../shared/data/WA_Fn-UseC_-Accounts-Receivable.csv"
	code = run(ctx, []string{"ingest", "--tenant", tenant + "ibm", "--format", "ibm-ar", "--rejects", filepath.Join(dir, "ibm-rejects.csv"), ibm}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("ingest ibm-ar exited %d: %s", code, stderr.String())
	}
	fields := ledgerWrites(t, stdout.String())
	if fields["customers"] != "100" || fields["invoices"] != "2466" || fields["rejected"] != "0" {
		t.Errorf("IBM import wrote %v, want 100 customers, 2466 invoices, 0 rejected", fields)
	}
}

// ledgerWrites reads the "Ledger writes" table of ingest's output.
func ledgerWrites(t *testing.T, out string) map[string]string {
	t.Helper()
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) == "Ledger writes" && i+2 < len(lines) {
			head, vals := strings.Fields(lines[i+1]), strings.Fields(lines[i+2])
			m := map[string]string{}
			for j := range min(len(head), len(vals)) {
				m[head[j]] = vals[j]
			}
			return m
		}
	}
	t.Fatalf("no Ledger writes table in:\n%s", out)
	return nil
}
