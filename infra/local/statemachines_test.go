package local

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/recoup-dev/recoup/infra/local/localtest"
	"github.com/recoup-dev/recoup/infra/local/sfnlocal"
	"github.com/recoup-dev/recoup/infra/statemachine"
)

func TestFunctionForPlaceholder(t *testing.T) {
	tests := []struct {
		placeholder string
		want        string
		wantErr     bool
	}{
		{"ScoreFunctionArn", "score", false},
		{"PlanFunctionArn", "plan", false},
		{"DraftFunctionArn", "draft", false},
		{"SendFunctionArn", "send", false},
		{"ParkFunctionArn", "park", false},
		{"ShadowFunctionArn", "shadow", false},
		{"ApprovalsFunctionArn", "approvals", false},
		{"WakeFunctionArn", "wake", false},
		{"WorklistFunctionArn", "worklist", false},
		// Generic: a new Task's placeholder needs no entry anywhere.
		{"DailyReportFunctionArn", "dailyreport", false},
		{"FunctionArn", "", true},
		{"ScoreQueueUrl", "", true},
		{"ScoreFunctionArnX", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.placeholder, func(t *testing.T) {
			got, err := functionForPlaceholder(tt.placeholder)
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "${"+tt.placeholder+"}") {
					t.Errorf("functionForPlaceholder() = %q, %v; want an error naming ${%s}", got, err, tt.placeholder)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("functionForPlaceholder() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// localFunctionARN matches the ARNs LocalDefinition puts in.
var localFunctionARN = regexp.MustCompile(`arn:aws:lambda:us-east-1:000000000000:function:([A-Za-z0-9_-]+)`)

// TestLocalDefinition: every placeholder is filled, each with the local ARN
// of the function of its name.
func TestLocalDefinition(t *testing.T) {
	want := map[string][]string{
		statemachine.Cycle: {"approvals", "draft", "park", "plan", "score", "send", "shadow"},
		statemachine.Daily: {"wake", "worklist"},
	}
	got := map[string][]string{}
	for _, name := range statemachine.Names {
		def, err := LocalDefinition(name)
		if err != nil {
			t.Fatalf("LocalDefinition(%s): %v", name, err)
		}
		if left := statemachine.Placeholders(def); len(left) > 0 {
			t.Errorf("LocalDefinition(%s) leaves placeholders %v", name, left)
		}
		seen := map[string]bool{}
		for _, m := range localFunctionARN.FindAllStringSubmatch(def, -1) {
			if !seen[m[1]] {
				seen[m[1]] = true
				got[name] = append(got[name], m[1])
			}
		}
	}
	if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("functions per state machine (-want +got):\n%s", diff)
	}
	if _, err := LocalDefinition("nope"); err == nil {
		t.Error("LocalDefinition(nope) = nil error")
	}
	if got := StateMachineName(statemachine.Cycle); got != "recoup-cycle" {
		t.Errorf("StateMachineName(cycle) = %q, want recoup-cycle", got)
	}
}

// TestIntegrationDeployStateMachines deploys to a real Step Functions server
// (server.cjs under Node 22, no stack): create, leave alone, update. Like
// the sfnlocal tests it needs only the Node binary of infra/local.
func TestIntegrationDeployStateMachines(t *testing.T) {
	root, err := FindRepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(root)
	if _, err := os.Stat(NodePath(cfg)); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no Node binary at %s under CI: install infra/local (make up) first", NodePath(cfg))
		}
		t.Skipf("needs the Node binary at %s (run make up once)", NodePath(cfg))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var log bytes.Buffer
	srv, err := sfnlocal.Start(ctx, cfg.Dir, sfnlocal.Options{}, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	cfg.SFNPort = portOf(t, srv.Endpoint)

	arn := func(name string) string {
		return "arn:aws:states:us-east-1:000000000000:stateMachine:recoup-" + name
	}
	deploy := func() string {
		t.Helper()
		var out bytes.Buffer
		arns, err := DeployStateMachines(ctx, cfg, &out)
		if err != nil {
			t.Fatalf("DeployStateMachines: %v\n%s", err, out.String())
		}
		if diff := cmp.Diff([]string{arn("cycle"), arn("daily")}, arns); diff != "" {
			t.Errorf("ARNs (-want +got):\n%s", diff)
		}
		return out.String()
	}
	lines := func(cycle, daily string) string {
		return "sfn:         state machine recoup-cycle " + cycle + ": " + arn("cycle") + "\n" +
			"sfn:         state machine recoup-daily " + daily + ": " + arn("daily") + "\n"
	}

	if diff := cmp.Diff(lines("created", "created"), deploy()); diff != "" {
		t.Errorf("first deploy (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(lines("unchanged", "unchanged"), deploy()); diff != "" {
		t.Errorf("second deploy (-want +got):\n%s", diff)
	}

	// A machine whose definition changed since is put back.
	client := sfn.New(sfn.Options{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(dummyAccessKey, dummySecretKey, ""),
		BaseEndpoint: aws.String(cfg.SFNEndpoint()),
	})
	old := `{"StartAt":"Done","States":{"Done":{"Type":"Succeed"}}}`
	if _, err := client.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(arn("daily")), Definition: aws.String(old)}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(lines("unchanged", "updated"), deploy()); diff != "" {
		t.Errorf("deploy after a change (-want +got):\n%s", diff)
	}
	for _, name := range statemachine.Names {
		desc, err := client.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn(name))})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := LocalDefinition(name)
		if got := aws.ToString(desc.Definition); got != want {
			t.Errorf("%s definition after deploy differs from LocalDefinition", name)
		}
	}
}

// TestIntegrationStateMachinesAreValid runs asl-validator on every
// definition in the repo, its placeholders filled as the local stack fills
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
			filled, err := LocalDefinition(name)
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

// portOf is the port of an http://127.0.0.1:<port> endpoint.
func portOf(t *testing.T, endpoint string) int {
	t.Helper()
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatalf("endpoint %s has no port: %v", endpoint, err)
	}
	return port
}
