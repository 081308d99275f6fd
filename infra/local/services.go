package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/recoup-dev/recoup/infra/local/lambdahost"
	"github.com/recoup-dev/recoup/infra/local/sfnlocal"
	"github.com/recoup-dev/recoup/shared/atomicfile"
	"github.com/recoup-dev/recoup/shared/erp/erpconfig"
)

// Service names: they name the PID file (<state>/pids/<name>.pid) and the log
// (<state>/logs/<name>.log).
const (
	ServiceDynamoDB   = "dynamodb"
	ServiceKinesis    = "kinesis"
	ServiceLambdaHost = "lambdahost"
	ServiceSQS        = "sqs"
	ServiceSFN        = "sfn"
	ServiceOutbox     = "outbox"
	ServiceBedrock    = "bedrock"
	ServiceEBS        = "ebssim"
)

// Flags for kinesalite: streams leave CREATING/DELETING/UPDATING after 50 ms
// instead of 500 ms, and the account allows 50 shards instead of 10.
const (
	kinesisTransitionMs = 50
	kinesisShardLimit   = 50
)

// service describes one supervised process.
type service struct {
	name    string // file name stem, see Service* constants
	title   string // for messages
	port    func(Config) int
	portEnv string
	url     func(Config) string
	// healthy probes the endpoint once.
	healthy func(context.Context, Config) error
	// startTimeout bounds the wait for a fresh process to become healthy.
	startTimeout time.Duration
	// markers are substrings of the command line of a process we started;
	// they tell our process apart from an unrelated one that reused its PID.
	markers func(Config) []string
	// skip returns a non-empty reason when the service cannot be run yet.
	skip func(Config) string
	// command prepares (and for the Lambda host, builds) the process.
	command func(context.Context, Config, io.Writer) (*exec.Cmd, error)
}

// services is the stack in start order; Down stops it in reverse.
func services() []service {
	return []service{
		{
			name:         ServiceDynamoDB,
			title:        "DynamoDB Local",
			port:         func(c Config) int { return c.DynamoDBPort },
			portEnv:      EnvDynamoDBPort,
			url:          Config.DynamoDBEndpoint,
			healthy:      dynamoDBHealthy,
			startTimeout: 60 * time.Second,
			markers: func(c Config) []string {
				return []string{"DynamoDBLocal.jar", c.dataDir(ServiceDynamoDB)}
			},
			skip:    func(Config) string { return "" },
			command: dynamoDBCommand,
		},
		{
			name:         ServiceKinesis,
			title:        "kinesalite",
			port:         func(c Config) int { return c.KinesisPort },
			portEnv:      EnvKinesisPort,
			url:          Config.KinesisEndpoint,
			healthy:      kinesisHealthy,
			startTimeout: 30 * time.Second,
			markers: func(c Config) []string {
				return []string{"kinesalite-server.cjs", c.dataDir(ServiceKinesis)}
			},
			skip:    func(Config) string { return "" },
			command: kinesisCommand,
		},
		{
			// Before the Lambda host, which creates its on-failure queues
			// at start-up.
			name:         ServiceSQS,
			title:        "SQS emulator",
			port:         func(c Config) int { return c.SQSPort },
			portEnv:      EnvSQSPort,
			url:          Config.SQSEndpoint,
			healthy:      sqsHealthy,
			startTimeout: 30 * time.Second,
			markers: func(c Config) []string {
				return []string{c.sqsBinary(), c.dataDir(ServiceSQS)}
			},
			skip:    func(Config) string { return "" },
			command: sqsCommand,
		},
		{
			name:         ServiceLambdaHost,
			title:        "Lambda host",
			port:         func(c Config) int { return c.LambdaPort },
			portEnv:      EnvLambdaPort,
			url:          Config.LambdaEndpoint,
			healthy:      lambdaHostHealthy,
			startTimeout: 30 * time.Second,
			markers: func(c Config) []string {
				return []string{c.lambdaHostBinary()}
			},
			skip:    lambdaHostSkip,
			command: lambdaHostCommand,
		},
		{
			// After the Lambda host, and so stopped before it: its tasks
			// invoke functions there. It resolves them lazily, per call, so
			// it need not wait for the host to be healthy, nor for the
			// functions to exist.
			name:         ServiceSFN,
			title:        "Step Functions server",
			port:         func(c Config) int { return c.SFNPort },
			portEnv:      EnvSFNPort,
			url:          Config.SFNEndpoint,
			healthy:      sfnHealthy,
			startTimeout: 30 * time.Second,
			markers: func(c Config) []string {
				return []string{sfnlocal.ScriptPath(c.Dir), c.dataDir(ServiceSFN)}
			},
			skip:    sfnSkip,
			command: sfnCommand,
		},
		{
			name:         ServiceOutbox,
			title:        "outbox (SES v2, SMS, Connect)",
			port:         func(c Config) int { return c.OutboxPort },
			portEnv:      EnvOutboxPort,
			url:          Config.OutboxEndpoint,
			healthy:      outboxHealthy,
			startTimeout: 30 * time.Second,
			markers: func(c Config) []string {
				return []string{c.outboxBinary(), c.OutboxFile()}
			},
			skip:    func(c Config) string { return packageSkip(c, outboxPackage) },
			command: outboxCommand,
		},
		{
			name:         ServiceBedrock,
			title:        "fake Bedrock Runtime",
			port:         func(c Config) int { return c.BedrockPort },
			portEnv:      EnvBedrockPort,
			url:          Config.BedrockEndpoint,
			healthy:      bedrockHealthy,
			startTimeout: 30 * time.Second,
			markers: func(c Config) []string {
				return []string{c.bedrockBinary()}
			},
			skip:    func(c Config) string { return packageSkip(c, bedrockPackage) },
			command: bedrockCommand,
		},
		{
			name:         ServiceEBS,
			title:        "Oracle EBS simulator (ISG REST)",
			port:         func(c Config) int { return c.EBSPort },
			portEnv:      EnvEBSPort,
			url:          Config.EBSEndpoint,
			healthy:      ebsHealthy,
			startTimeout: 30 * time.Second,
			markers: func(c Config) []string {
				return []string{c.ebsBinary()}
			},
			skip:    func(c Config) string { return packageSkip(c, ebsPackage) },
			command: ebsCommand,
		},
	}
}

// Main packages the stack builds into <state>/bin, relative to the
// repository root.
const (
	lambdaHostPackage = "./infra/local/cmd/lambdahost"
	sqsPackage        = "./infra/local/cmd/sqslocal"
	outboxPackage     = "./infra/local/cmd/outbox"
	bedrockPackage    = "./infra/local/cmd/bedrock"
	ebsPackage        = "./infra/local/cmd/ebssim"
)

// dynamoDBCommand runs AWS's DynamoDBLocal.jar (shipped in the
// amplify-dynamodb-simulator npm package) with one shared database, in
// memory unless cfg.DynamoDBPersist.
func dynamoDBCommand(_ context.Context, cfg Config, _ io.Writer) (*exec.Cmd, error) {
	data := cfg.dataDir(ServiceDynamoDB)
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	// recoup.state names the state folder on the command line in both modes,
	// which is how Down and Status know the process is this stack's.
	args := []string{"-Drecoup.state=" + data, "-Djava.library.path=" + cfg.dynamoDBLib(), "-jar", cfg.dynamoDBJar(), "-sharedDb"}
	if cfg.DynamoDBPersist {
		args = append(args, "-dbPath", data)
	} else {
		args = append(args, "-inMemory")
		// A simulated clock left by a demo belongs to the data that is
		// gone: the new tables start on the wall clock.
		if err := os.Remove(cfg.ClockFile()); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	args = append(args, "-port", strconv.Itoa(cfg.DynamoDBPort), "-disableTelemetry")
	cmd := exec.Command("java", args...)
	cmd.Dir = data
	cmd.Env = serviceEnv(cfg)
	return cmd, nil
}

// kinesisCommand runs kinesalite through kinesalite-server.cjs (which binds
// to 127.0.0.1) under the pinned Node 22 binary, persisting to LevelDB.
func kinesisCommand(_ context.Context, cfg Config, _ io.Writer) (*exec.Cmd, error) {
	data := cfg.dataDir(ServiceKinesis)
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	ms := strconv.Itoa(kinesisTransitionMs)
	cmd := exec.Command(NodePath(cfg), cfg.kinesaliteScript(),
		"--host", Host,
		"--port", strconv.Itoa(cfg.KinesisPort),
		"--path", data,
		"--createStreamMs", ms,
		"--deleteStreamMs", ms,
		"--updateStreamMs", ms,
		"--shardLimit", strconv.Itoa(kinesisShardLimit),
	)
	cmd.Dir = cfg.Dir
	cmd.Env = serviceEnv(cfg)
	return cmd, nil
}

// lambdaHostSkip skips the Lambda host while its main package does not exist.
func lambdaHostSkip(cfg Config) string { return packageSkip(cfg, lambdaHostPackage) }

// packageSkip skips a service built from the main package pkg (relative to
// the repository root) while that package has no Go files.
func packageSkip(cfg Config, pkg string) string {
	dir := filepath.Join(cfg.RepoRoot, filepath.FromSlash(pkg))
	entries, err := os.ReadDir(dir)
	if err == nil {
		for _, e := range entries {
			n := e.Name()
			if !e.IsDir() && strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
				return ""
			}
		}
	}
	rel, _ := filepath.Rel(cfg.RepoRoot, dir)
	return fmt.Sprintf("./%s has no Go files yet, so there is nothing to build", filepath.ToSlash(rel))
}

// sfnSkip skips the Step Functions server while its script is missing (a
// checkout without infra/local/sfnlocal).
func sfnSkip(cfg Config) string {
	if _, err := os.Stat(sfnlocal.ScriptPath(cfg.Dir)); err != nil {
		return fmt.Sprintf("%s is missing, so there is nothing to run", sfnlocal.ScriptPath(cfg.Dir))
	}
	return ""
}

// goBuild builds the main package pkg (relative to the repository root)
// into binary, for service name.
func goBuild(ctx context.Context, cfg Config, out io.Writer, name, pkg, binary string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("building %s needs the go command on PATH: %w", pkg, err)
	}
	if err := os.MkdirAll(cfg.binDir(), 0o755); err != nil {
		return err
	}
	fmt.Fprintf(out, "%-12s building %s -> %s\n", name+":", pkg, binary)
	start := time.Now()
	build := exec.CommandContext(ctx, goBin, "build", "-o", binary, pkg)
	build.Dir = cfg.RepoRoot
	if b, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, strings.TrimSpace(string(b)))
	}
	fmt.Fprintf(out, "%-12s built in %s\n", name+":", time.Since(start).Round(10*time.Millisecond))
	return nil
}

// sqsCommand builds ./infra/local/cmd/sqslocal into <state>/bin/sqslocal and
// returns the command that serves it on 127.0.0.1, keeping its queues in
// <state>/sqs across restarts.
func sqsCommand(ctx context.Context, cfg Config, out io.Writer) (*exec.Cmd, error) {
	if err := goBuild(ctx, cfg, out, ServiceSQS, sqsPackage, cfg.sqsBinary()); err != nil {
		return nil, err
	}
	data := cfg.dataDir(ServiceSQS)
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	cmd := exec.Command(cfg.sqsBinary(),
		"-addr", fmt.Sprintf("%s:%d", Host, cfg.SQSPort),
		"-data", data,
		"-region", Region,
	)
	cmd.Dir = cfg.RepoRoot
	cmd.Env = serviceEnv(cfg)
	return cmd, nil
}

// lambdaHostCommand builds ./infra/local/cmd/lambdahost into
// <state>/bin/lambdahost and returns the command that serves it.
func lambdaHostCommand(ctx context.Context, cfg Config, out io.Writer) (*exec.Cmd, error) {
	if err := goBuild(ctx, cfg, out, ServiceLambdaHost, lambdaHostPackage, cfg.lambdaHostBinary()); err != nil {
		return nil, err
	}
	cmd := exec.Command(cfg.lambdaHostBinary(),
		"-addr", fmt.Sprintf("%s:%d", Host, cfg.LambdaPort),
		"-config", cfg.LambdaHostConfigPath(),
	)
	cmd.Dir = cfg.RepoRoot
	cmd.Env = serviceEnv(cfg)
	return cmd, nil
}

// sfnCommand runs infra/local/sfnlocal/server.cjs under the pinned Node 22
// binary, journaling to <state>/sfn and invoking functions on the Lambda
// host.
func sfnCommand(_ context.Context, cfg Config, _ io.Writer) (*exec.Cmd, error) {
	data := cfg.dataDir(ServiceSFN)
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	// The journal names executions whose runs, tokens and approvals live
	// in DynamoDB; with tables in memory they are gone, and so must be the
	// names, or today's cycles could not start again.
	if !cfg.DynamoDBPersist {
		if err := os.Remove(filepath.Join(data, sfnlocal.JournalFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	invoke, err := longestFunctionTimeout(cfg.LambdaHostConfigPath(), cfg.RepoRoot)
	if err != nil {
		return nil, err
	}
	opts := sfnlocal.Options{
		// An invocation the Lambda host does not answer within the longest
		// function timeout has been lost on the way: fail it so the
		// state's Retry runs, as Step Functions does.
		InvokeTimeout:  invoke + 10*time.Second,
		Port:           cfg.SFNPort,
		StateDir:       data,
		LambdaEndpoint: cfg.LambdaEndpoint(),
		Region:         Region,
		Account:        Account,
		WaitScale:      cfg.SFNWaitScale,
	}
	cmd := exec.Command(NodePath(cfg), append([]string{sfnlocal.ScriptPath(cfg.Dir)}, opts.Args()...)...)
	// Node resolves aws-local-stepfunctions and @aws-sdk/client-lambda from
	// infra/local/node_modules.
	cmd.Dir = cfg.Dir
	cmd.Env = append(serviceEnv(cfg), "NO_COLOR=1")
	return cmd, nil
}

// longestFunctionTimeout reads the Lambda host's config (validated as the
// host validates it) for its longest function timeout.
func longestFunctionTimeout(path, baseDir string) (time.Duration, error) {
	c, err := lambdahost.LoadConfig(path, baseDir)
	if err != nil {
		return 0, err
	}
	longest := 0
	for _, f := range c.Functions {
		longest = max(longest, f.TimeoutSeconds)
	}
	return time.Duration(longest) * time.Second, nil
}

// outboxCommand builds ./infra/local/cmd/outbox into <state>/bin/outbox and
// returns the command that serves it on 127.0.0.1, appending every accepted
// send to <state>/outbox/outbox.jsonl.
func outboxCommand(ctx context.Context, cfg Config, out io.Writer) (*exec.Cmd, error) {
	if err := goBuild(ctx, cfg, out, ServiceOutbox, outboxPackage, cfg.outboxBinary()); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.dataDir(ServiceOutbox), 0o755); err != nil {
		return nil, err
	}
	cmd := exec.Command(cfg.outboxBinary(),
		"-addr", fmt.Sprintf("%s:%d", Host, cfg.OutboxPort),
		"-outbox", cfg.OutboxFile(),
		// The stack's clients sign for Region (Env sets AWS_REGION), so a
		// request scoped to another region is a misconfiguration to catch.
		"-region", Region,
	)
	cmd.Dir = cfg.RepoRoot
	cmd.Env = serviceEnv(cfg)
	return cmd, nil
}

// bedrockCommand builds ./infra/local/cmd/bedrock into <state>/bin/bedrock
// and returns the command that serves the fake Converse API on 127.0.0.1.
func bedrockCommand(ctx context.Context, cfg Config, out io.Writer) (*exec.Cmd, error) {
	if err := goBuild(ctx, cfg, out, ServiceBedrock, bedrockPackage, cfg.bedrockBinary()); err != nil {
		return nil, err
	}
	cmd := exec.Command(cfg.bedrockBinary(), "--port="+strconv.Itoa(cfg.BedrockPort))
	cmd.Dir = cfg.RepoRoot
	cmd.Env = serviceEnv(cfg)
	return cmd, nil
}

// ebsCommand builds ./infra/local/cmd/ebssim into <state>/bin/ebssim,
// writes the ERP connection document the write-back function reads
// (Config.ERPConfigFile) and returns the command that serves the simulator
// on 127.0.0.1 with the same credentials and applications context.
func ebsCommand(ctx context.Context, cfg Config, out io.Writer) (*exec.Cmd, error) {
	if err := goBuild(ctx, cfg, out, ServiceEBS, ebsPackage, cfg.ebsBinary()); err != nil {
		return nil, err
	}
	doc, err := json.MarshalIndent(LocalERP(cfg), "", "  ")
	if err != nil {
		return nil, err
	}
	if err := atomicfile.Write(cfg.ERPConfigFile(), append(doc, '\n')); err != nil {
		return nil, err
	}
	e := LocalERP(cfg).OracleEBS
	cmd := exec.Command(cfg.ebsBinary(), "-addr", fmt.Sprintf("%s:%d", Host, cfg.EBSPort),
		"-user", e.User, "-password", e.Password, "-responsibility", e.Responsibility,
		"-resp-application", e.RespApplication, "-security-group", e.SecurityGroup,
		"-nls-language", e.NLSLanguage, "-org-id", e.OrgID)
	cmd.Dir = cfg.RepoRoot
	cmd.Env = serviceEnv(cfg)
	return cmd, nil
}

// LocalERP is the local stack's ERP connection: the EBS simulator, with
// token login as a production tenant would use it. The password is the
// simulator's, not a secret.
func LocalERP(cfg Config) erpconfig.Config {
	return erpconfig.Config{ERP: erpconfig.ERPOracleEBS, OracleEBS: &erpconfig.OracleEBS{
		BaseURL: cfg.EBSEndpoint(), User: "RECOUP_ISG", Password: "welcome1", Token: true,
		Responsibility: "RECEIVABLES_MANAGER", RespApplication: "AR", SecurityGroup: "STANDARD",
		NLSLanguage: "AMERICAN", OrgID: "204", Resource: "100001234", TimeoutSeconds: 10}}
}

// serviceEnv is the caller's environment plus [Env], so that the Lambda
// host's functions talk to the local emulators.
func serviceEnv(cfg Config) []string {
	return append(os.Environ(), Env(cfg)...)
}
