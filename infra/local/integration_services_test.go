package local

import (
	"bytes"
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/infra/local/localtest"
)

// TestIntegrationStackServices starts the whole stack on free ports in a
// temporary state folder, checks that every service is healthy and that
// Up deployed both state machines, then stops it and checks that no
// process of it is left. It needs what TestIntegrationStack needs.
func TestIntegrationStackServices(t *testing.T) {
	localtest.Require(t)
	root, err := FindRepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.StateDir = t.TempDir()
	ports := freePorts(t, 7)
	cfg.DynamoDBPort, cfg.KinesisPort, cfg.SQSPort, cfg.LambdaPort = ports[0], ports[1], ports[2], ports[3]
	cfg.SFNPort, cfg.OutboxPort, cfg.BedrockPort = ports[4], ports[5], ports[6]
	cfg.SFNWaitScale = 0.001
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	downed := false
	t.Cleanup(func() {
		if !downed {
			var out bytes.Buffer
			if err := Down(context.Background(), cfg, &out); err != nil {
				t.Errorf("cleanup Down: %v\n%s", err, out.String())
			}
		}
		if t.Failed() {
			for _, s := range services() {
				t.Logf("--- %s:\n%s", cfg.logFile(s.name), tailFile(cfg.logFile(s.name), 0, 40))
			}
		}
	})

	var out bytes.Buffer
	start := time.Now()
	err = Up(ctx, cfg, &out)
	t.Logf("Up (%s):\n%s", time.Since(start).Round(time.Millisecond), out.String())
	if err != nil {
		t.Fatalf("Up: %v", err)
	}

	pids := readPIDs(t, cfg)
	got := map[string]string{}
	want := map[string]string{}
	for _, r := range Inspect(ctx, cfg) {
		got[r.Name] = "healthy=" + strconv.FormatBool(r.Healthy) + " pid=" + strconv.FormatBool(r.PID != 0 && r.PID == pids[r.Name]) + " skipped=" + r.Skipped
		want[r.Name] = "healthy=true pid=true skipped="
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Inspect after Up (-want +got):\n%s", diff)
	}
	if !strings.Contains(tailFile(cfg.logFile(ServiceSFN), 0, 10), "wait scale 0.001") {
		t.Errorf("the Step Functions server does not report wait scale 0.001:\n%s", tailFile(cfg.logFile(ServiceSFN), 0, 10))
	}

	client := sfn.New(sfn.Options{Region: Region, Credentials: testCreds, BaseEndpoint: aws.String(cfg.SFNEndpoint())})
	list, err := client.ListStateMachines(ctx, &sfn.ListStateMachinesInput{})
	if err != nil {
		t.Fatalf("ListStateMachines: %v", err)
	}
	machines := map[string]string{}
	for _, m := range list.StateMachines {
		machines[aws.ToString(m.Name)] = aws.ToString(m.StateMachineArn)
	}
	wantMachines := map[string]string{
		"recoup-cycle": "arn:aws:states:us-east-1:000000000000:stateMachine:recoup-cycle",
		"recoup-daily": "arn:aws:states:us-east-1:000000000000:stateMachine:recoup-daily",
	}
	if diff := cmp.Diff(wantMachines, machines); diff != "" {
		t.Errorf("ListStateMachines (-want +got):\n%s", diff)
	}

	out.Reset()
	downed = true
	if err := Down(ctx, cfg, &out); err != nil {
		t.Fatalf("Down: %v\n%s", err, out.String())
	}
	t.Logf("Down:\n%s", out.String())
	for name, pid := range pids {
		if processAlive(pid) || groupAlive(pid) {
			t.Errorf("%s (pid %d) or a process of its group is still running after Down", name, pid)
		}
	}
	// Every service names the state folder on its command line.
	if left := processesMentioning(cfg.StateDir); len(left) > 0 {
		t.Errorf("processes of the stack left after Down:\n%s", strings.Join(left, "\n"))
	}
}

// freePorts returns n distinct ports free on 127.0.0.1, holding them all
// open at once so that no two are the same.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// processesMentioning lists "pid: command line" of the live processes whose
// command line contains s.
func processesMentioning(s string) []string {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !processAlive(pid) {
			continue
		}
		if cmdline, ok := processCmdline(pid); ok && strings.Contains(cmdline, s) {
			out = append(out, e.Name()+": "+cmdline)
		}
	}
	return out
}
