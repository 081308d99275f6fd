package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/infra/local/localtest"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/shadow"
	"github.com/recoup-dev/recoup/shared/shadow/shadowtest"
	"github.com/recoup-dev/recoup/shared/strategy"
)

func TestShadowUsageErrorsExit2(t *testing.T) {
	tests := []struct {
		args     []string
		inStderr string
	}{
		{[]string{"shadow"}, "shadow import|report"},
		{[]string{"shadow", "export"}, `unknown shadow action "export"`},
		{[]string{"shadow", "import", "team.csv"}, "--tenant and one FILE.csv are required"},
		{[]string{"shadow", "import", "--tenant", "acme"}, "--tenant and one FILE.csv are required"},
		{[]string{"shadow", "import", "--tenant", "acme", "a.csv", "b.csv"}, "--tenant and one FILE.csv are required"},
		{[]string{"shadow", "import", "--tenant", "a#b", "a.csv"}, "--tenant: invalid id"},
		{[]string{"shadow", "report"}, "--tenant is required"},
		{[]string{"shadow", "report", "--tenant", "acme", "--format", "xml"}, `--format "xml": want text or json`},
		{[]string{"shadow", "report", "--tenant", "acme", "--since", "2025-13-01"}, `--since "2025-13-01" is not a YYYY-MM-DD date`},
		{[]string{"shadow", "report", "--tenant", "acme", "--window", "-1h"}, "want a positive duration"},
		{[]string{"shadow", "report", "--tenant", "acme", "--bogus"}, "flag provided but not defined"},
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

func TestShadowReportNamesTheEndpointThatIsDown(t *testing.T) {
	// Port 9 (discard) on loopback has no listener here: the connection is refused at once.
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	t.Setenv("AWS_ACCESS_KEY_ID", "x")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "x")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"shadow", "report", "--tenant", "acme"}, &stdout, &stderr); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	for _, want := range []string{"http://127.0.0.1:9", "make up"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr %q does not name %q", stderr.String(), want)
		}
	}
}

const teamFile = "customer,at,action,channel,by,note\n" +
	"C1,2025-06-02T11:00:00Z,friendly_reminder,email,col-7,\n" +
	"C2,2025-06-02T12:00:00Z,call,email,col-7,a call is not an email\n" +
	"C3,2025-06-02T14:00:00+02:00,call,voice,col-9,\"voicemail, will retry\"\n"

func writeTeamFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "team.csv")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestShadowImportStoresOnceAndWritesRejects(t *testing.T) {
	ctx := context.Background()
	store := shadowtest.NewMemory()
	path := writeTeamFile(t, teamFile)
	now := time.Date(2025, 6, 3, 8, 0, 0, 0, time.UTC)

	var out bytes.Buffer
	if err := importTeamActions(ctx, store, "acme", path, now, &out); err != nil {
		t.Fatal(err)
	}
	rejectsPath := strings.TrimSuffix(path, ".csv") + ".rejects.csv"
	want := "team.csv: 3 rows, 2 accepted (2 new, 0 already stored), 1 rejected: rows and reasons in " + rejectsPath + "\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	data, err := os.ReadFile(rejectsPath)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantRows := [][]string{
		append([]string{"row", "line", "fields", "reasons"}, shadow.TeamHeader...),
		{"2", "3", "channel", "channel: a call is made on voice, voice_ai or prerecorded, not email", "C2", "2025-06-02T12:00:00Z", "call", "email", "col-7", "a call is not an email"},
	}
	if diff := cmp.Diff(wantRows, rows); diff != "" {
		t.Errorf("rejects (-want +got):\n%s", diff)
	}
	stored, err := store.TeamActions(ctx, "acme", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 2 || stored[1].Customer != "C3" || !stored[1].At.Equal(time.Date(2025, 6, 2, 12, 0, 0, 0, time.UTC)) ||
		stored[1].Source != "csv:team.csv" || !stored[1].RecordedAt.Equal(now) || stored[1].Note != "voicemail, will retry" {
		t.Errorf("stored %+v", stored)
	}

	// The same file again, fixed: nothing stored twice, and the rejects
	// file says this run had none.
	if err := os.WriteFile(path, []byte(strings.Replace(teamFile, "call,email", "call,voice", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := importTeamActions(ctx, store, "acme", path, now.Add(time.Hour), &out); err != nil {
		t.Fatal(err)
	}
	if want := "team.csv: 3 rows, 3 accepted (1 new, 2 already stored), 0 rejected\n"; out.String() != want {
		t.Errorf("second import: %q, want %q", out.String(), want)
	}
	if data, _ := os.ReadFile(rejectsPath); strings.Count(string(data), "\n") != 1 {
		t.Errorf("rejects after a clean run:\n%s", data)
	}
}

func TestShadowImportRefusesAFileWithoutTheHeader(t *testing.T) {
	path := writeTeamFile(t, "customer_id,date,action\nC1,2025-06-02,call\n")
	err := importTeamActions(context.Background(), shadowtest.NewMemory(), "acme", path, time.Now(), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "want exactly customer,at,action,channel,by,note") {
		t.Errorf("error %v, want the header named", err)
	}
}

func TestShadowImportReportsAStoreFailure(t *testing.T) {
	store := shadowtest.NewMemory()
	store.Fail = fmt.Errorf("%w: throttled", shadow.ErrTransient)
	err := importTeamActions(context.Background(), store, "acme", writeTeamFile(t, teamFile), time.Now(), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "stored 0 of 2 team actions") || !strings.Contains(err.Error(), "again is safe") {
		t.Errorf("error %v", err)
	}
}

func TestRejectsFile(t *testing.T) {
	for in, want := range map[string]string{
		"team.csv": "team.rejects.csv", "dir/June.CSV": "dir/June.rejects.csv", "actions.txt": "actions.txt.rejects.csv",
	} {
		if got := rejectsFile(in); got != want {
			t.Errorf("rejectsFile(%q) = %q, want %q", in, got, want)
		}
	}
}

// pilotStore holds two recommendations and the team's answers.
func pilotStore(t *testing.T, tenant ledger.TenantID) *shadowtest.Memory {
	t.Helper()
	ctx := context.Background()
	store := shadowtest.NewMemory()
	at := time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)
	r2 := shadowtest.Recommendation(tenant, "C2", at)
	r2.Action, r2.Channel, r2.Draft.Channel = strategy.ActionCall, consent.Voice, consent.Voice
	for _, r := range []shadow.Recommendation{shadowtest.Recommendation(tenant, "C1", at), r2} {
		if _, err := store.PutRecommendation(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range []shadow.TeamAction{
		shadowtest.TeamAction(tenant, "C1", at.Add(2*time.Hour), strategy.ActionFriendlyReminder, consent.Email, "col-7"),
		shadowtest.TeamAction(tenant, "C2", at.Add(3*time.Hour), strategy.ActionFriendlyReminder, consent.SMS, "col-7"),
	} {
		if _, err := store.PutTeamAction(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	return store
}

func TestShadowReportFormats(t *testing.T) {
	store := pilotStore(t, "acme")
	opts := shadow.Options{Tenant: "acme", To: time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)}

	var text bytes.Buffer
	if err := writeShadowReport(context.Background(), store, opts, "text", &text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Shadow agreement for tenant acme, until 2025-07-01T00:00:00Z", "total  2", "50.0%",
		"C2        2025-06-02T09:00:00Z  act      call/voice"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}

	var js bytes.Buffer
	if err := writeShadowReport(context.Background(), store, opts, "json", &js); err != nil {
		t.Fatal(err)
	}
	var rep shadow.Report
	if err := json.Unmarshal(js.Bytes(), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, js.String())
	}
	want := shadow.Tally{Recommendations: 2, Agree: 1, OtherAction: 1, Rate: 0.5}
	if diff := cmp.Diff(want, rep.Totals); diff != "" {
		t.Errorf("totals (-want +got):\n%s", diff)
	}
}

func TestShadowReportKeepsToItsPeriod(t *testing.T) {
	store := pilotStore(t, "acme")
	opts := shadow.Options{Tenant: "acme", From: time.Date(2025, 6, 3, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)}
	var js bytes.Buffer
	if err := writeShadowReport(context.Background(), store, opts, "json", &js); err != nil {
		t.Fatal(err)
	}
	var rep shadow.Report
	if err := json.Unmarshal(js.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Totals.Recommendations != 0 || rep.TeamOnly != 0 {
		t.Errorf("a period after the pilot's records: %+v", rep)
	}
}

// TestIntegrationShadowImportAndReport imports a team file through the CLI
// into the local stack and reports it against stored recommendations.
func TestIntegrationShadowImportAndReport(t *testing.T) {
	localtest.Require(t)
	ctx := context.Background()
	if code := run(ctx, []string{"tables", "create"}, &bytes.Buffer{}, &bytes.Buffer{}); code != 0 {
		t.Fatalf("tables create exited %d", code)
	}
	tenant := ledger.TenantID(fmt.Sprintf("pilot%d", time.Now().UnixNano()))
	store, err := openShadow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []shadow.Recommendation{
		shadowtest.Recommendation(tenant, "C1", time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)),
		shadowtest.Recommendation(tenant, "C3", time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)),
	} {
		if _, err := store.PutRecommendation(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	path := writeTeamFile(t, teamFile)
	for range 2 {
		var out, errOut bytes.Buffer
		if code := run(ctx, []string{"shadow", "import", "--tenant", string(tenant), path}, &out, &errOut); code != 0 {
			t.Fatalf("import exited %d: %s", code, errOut.String())
		}
		if !strings.Contains(out.String(), "2 accepted") || !strings.Contains(out.String(), "1 rejected") {
			t.Errorf("import said %q", out.String())
		}
	}
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"shadow", "report", "--tenant", string(tenant), "--since", "2025-06-01", "--format", "json"}, &out, &errOut); code != 0 {
		t.Fatalf("report exited %d: %s", code, errOut.String())
	}
	var rep shadow.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, out.String())
	}
	// C1 reminded by email as recommended; C3 called instead of the email.
	want := shadow.Tally{Recommendations: 2, Agree: 1, OtherAction: 1, Rate: 0.5}
	if diff := cmp.Diff(want, rep.Totals); diff != "" || rep.TeamOnly != 0 {
		t.Errorf("totals (-want +got):\n%s\nteam only %d", diff, rep.TeamOnly)
	}
}
