// Package lambdahost runs Recoup's Lambda bootstrap binaries locally.
//
// It plays three parts of the Lambda service so the same binaries we deploy
// (Go, provided.al2023, built with -tags lambda.norpc) run unchanged on a
// developer machine:
//
//   - the Runtime API each function process talks to through
//     AWS_LAMBDA_RUNTIME_API (one listener per instance, as in a real
//     execution environment);
//   - the Invoke API, so aws-sdk-go-v2's lambda client works with
//     AWS_ENDPOINT_URL_LAMBDA pointing at the host;
//   - Kinesis event source mappings, polling a Kinesis-compatible endpoint
//     (kinesalite) and invoking functions with events.KinesisEvent batches.
//
// Everything binds to 127.0.0.1; it is dev tooling, not a security boundary.
package lambdahost

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Config is the host's JSON configuration file.
type Config struct {
	// Functions are the Lambda functions the host can run.
	Functions []FunctionConfig `json:"functions"`
	// EventSourceMappings connect Kinesis streams to functions.
	EventSourceMappings []EventSourceMappingConfig `json:"event_source_mappings"`
}

// FunctionConfig describes one function.
type FunctionConfig struct {
	// Name is the function name used by Invoke (and in its ARN).
	Name string `json:"name"`
	// Bootstrap is the path of the bootstrap executable. After LoadConfig or
	// Resolve it is absolute.
	Bootstrap string `json:"bootstrap"`
	// Environment is the function's configured environment; ${NAME} in a
	// value is replaced by the host's variable NAME ("" when unset).
	Environment map[string]string `json:"environment,omitempty"`
	// TimeoutSeconds is the invocation timeout (AWS default 3, max 900).
	TimeoutSeconds int `json:"timeout_seconds,omitempty"`
	// MemoryMB is only reported to the function
	// (AWS_LAMBDA_FUNCTION_MEMORY_SIZE); the host enforces no memory limit.
	MemoryMB int `json:"memory_mb,omitempty"`
	// MaxConcurrency caps the number of instances (processes) of the
	// function. Invocations beyond it wait for a free instance.
	MaxConcurrency int `json:"max_concurrency,omitempty"`
}

// EventSourceMappingConfig describes an event source mapping: a Kinesis
// stream (StreamName) or an SQS queue (QueueName), never both.
type EventSourceMappingConfig struct {
	// Function is the name of a function in Functions.
	Function string `json:"function"`
	// StreamName is the Kinesis stream name. kinesalite does not accept
	// StreamARN, so the host addresses streams by name only.
	StreamName string `json:"stream_name,omitempty"`
	// QueueName is the SQS queue name (standard or FIFO). Failed messages
	// stay on the queue and come back after their visibility timeout; the
	// queue's redrive policy, not the mapping, dead-letters them, as in
	// AWS. The Kinesis-only fields (starting position, retries, bisect,
	// on-failure destination) are refused for a queue.
	QueueName string `json:"queue_name,omitempty"`
	// MaximumConcurrency caps the concurrent invocations of a queue
	// mapping (AWS's ScalingConfig, 2-1000, default 2 here).
	MaximumConcurrency int `json:"maximum_concurrency,omitempty"`
	// BatchSize is the maximum number of records per invocation (1-10000
	// for a stream, default 100; 1-10 for a queue, default 10).
	BatchSize int `json:"batch_size,omitempty"`
	// StartingPosition is TRIM_HORIZON or LATEST. It applies to shards that
	// exist when the mapping first sees the stream and have no checkpoint.
	StartingPosition string `json:"starting_position"`
	// BisectBatchOnFunctionError splits a failing batch in two and retries
	// each half.
	BisectBatchOnFunctionError bool `json:"bisect_batch_on_function_error,omitempty"`
	// MaximumRetryAttempts is how many times a failing record range is
	// retried before it is written to OnFailurePath and skipped (0-10000,
	// default 3). AWS's -1 (retry until the record expires) is not
	// supported: kinesalite never expires records, so a poison record would
	// block its shard forever.
	MaximumRetryAttempts *int `json:"maximum_retry_attempts,omitempty"`
	// FunctionResponseTypes may contain "ReportBatchItemFailures".
	FunctionResponseTypes []string `json:"function_response_types,omitempty"`
	// OnFailurePath is a JSON Lines file receiving one record per discarded
	// batch (the local stand-in for an on-failure destination). Optional.
	OnFailurePath string `json:"on_failure_path,omitempty"`
	// OnFailureQueue names a standard SQS queue receiving, per discarded
	// batch, the record AWS sends to an SQS on-failure destination for a
	// Kinesis mapping. The host creates the queue if it is missing (through
	// AWS_ENDPOINT_URL_SQS). Optional; may be combined with OnFailurePath.
	OnFailureQueue string `json:"on_failure_queue,omitempty"`
	// CheckpointPath is where per-shard checkpoints are persisted. Optional;
	// by default it is derived from OnFailurePath
	// ("engagement.jsonl" -> "engagement.checkpoint.json" in the same
	// directory). With neither set, checkpoints are kept in memory only.
	CheckpointPath string `json:"checkpoint_path,omitempty"`
	// PollingIntervalMS is the pause between GetRecords calls on an idle
	// shard, and the base of the retry backoff (default 1000, like AWS's
	// once-per-second shard polling).
	PollingIntervalMS int `json:"polling_interval_ms,omitempty"`
	// Enabled can switch a mapping off without deleting it (default true).
	Enabled *bool `json:"enabled,omitempty"`
}

// Defaults applied by Resolve when a field is zero/absent.
const (
	DefaultTimeoutSeconds       = 3
	DefaultMemoryMB             = 128
	DefaultMaxConcurrency       = 4
	DefaultBatchSize            = 100
	DefaultMaximumRetryAttempts = 3
	DefaultPollingIntervalMS    = 1000
	DefaultQueueBatchSize       = 10
	DefaultQueueConcurrency     = 2
)

// ReportBatchItemFailures is the only supported function response type.
const ReportBatchItemFailures = "ReportBatchItemFailures"

// IsEnabled reports whether the mapping should be polled.
func (m EventSourceMappingConfig) IsEnabled() bool { return m.Enabled == nil || *m.Enabled }

// ReportsBatchItemFailures reports whether the function returns
// events.KinesisEventResponse partial failures.
func (m EventSourceMappingConfig) ReportsBatchItemFailures() bool {
	for _, t := range m.FunctionResponseTypes {
		if t == ReportBatchItemFailures {
			return true
		}
	}
	return false
}

// RetryAttempts returns MaximumRetryAttempts or its default.
func (m EventSourceMappingConfig) RetryAttempts() int {
	if m.MaximumRetryAttempts == nil {
		return DefaultMaximumRetryAttempts
	}
	return *m.MaximumRetryAttempts
}

// LoadConfig reads, resolves and validates a config file. Relative paths in
// it resolve against baseDir (not the config file's directory, so that
// "dist/ingest/bootstrap" means the same thing as in the Makefile).
func LoadConfig(path, baseDir string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("lambdahost: read config: %w", err)
	}
	cfg, err := ParseConfig(data, baseDir)
	if err != nil {
		return nil, fmt.Errorf("lambdahost: config %s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig decodes, resolves and validates a config document. Unknown
// fields are rejected so a typo ("timeout_second") fails loudly instead of
// silently using a default.
func ParseConfig(data []byte, baseDir string) (*Config, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var cfg Config
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if dec.More() {
		return nil, errors.New("decode: trailing data after the JSON object")
	}
	if err := cfg.Resolve(baseDir); err != nil {
		return nil, err
	}
	return &cfg, nil
}

var (
	functionNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	envKeyRE       = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	streamNameRE   = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)
)

// reservedEnv are variables Lambda sets itself and refuses in a function's
// configuration; rejecting them here catches config that would fail to
// deploy.
var reservedEnv = map[string]bool{
	"_HANDLER": true, "_X_AMZN_TRACE_ID": true, "AWS_DEFAULT_REGION": true, "AWS_REGION": true,
	"AWS_EXECUTION_ENV": true, "AWS_LAMBDA_FUNCTION_NAME": true, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": true,
	"AWS_LAMBDA_FUNCTION_VERSION": true, "AWS_LAMBDA_INITIALIZATION_TYPE": true,
	"AWS_LAMBDA_LOG_GROUP_NAME": true, "AWS_LAMBDA_LOG_STREAM_NAME": true, "AWS_ACCESS_KEY": true,
	"AWS_ACCESS_KEY_ID": true, "AWS_SECRET_ACCESS_KEY": true, "AWS_SESSION_TOKEN": true,
	"AWS_LAMBDA_RUNTIME_API": true, "LAMBDA_TASK_ROOT": true, "LAMBDA_RUNTIME_DIR": true,
}

// Resolve applies defaults, makes paths absolute against baseDir and
// validates every field. All problems are reported together, each naming
// its field (for example "functions[1].timeout_seconds").
func (c *Config) Resolve(baseDir string) error {
	base, err := filepath.Abs(baseDir)
	if err != nil {
		return fmt.Errorf("base dir %q: %w", baseDir, err)
	}
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}

	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}

	if len(c.Functions) == 0 {
		bad("functions", "at least one function is required")
	}
	names := map[string]bool{}
	for i := range c.Functions {
		f := &c.Functions[i]
		p := fmt.Sprintf("functions[%d]", i)
		switch {
		case f.Name == "":
			bad(p+".name", "is required")
		case !functionNameRE.MatchString(f.Name):
			bad(p+".name", "%q must be 1-64 letters, digits, '-' or '_'", f.Name)
		case names[f.Name]:
			bad(p+".name", "%q is defined twice", f.Name)
		}
		names[f.Name] = true
		if f.Bootstrap == "" {
			bad(p+".bootstrap", "is required")
		}
		f.Bootstrap = abs(f.Bootstrap)
		for k := range f.Environment {
			switch {
			case !envKeyRE.MatchString(k):
				bad(p+".environment", "key %q is not a valid variable name", k)
			case reservedEnv[k]:
				bad(p+".environment", "key %q is reserved by Lambda and set by the host", k)
			}
		}
		if f.TimeoutSeconds == 0 {
			f.TimeoutSeconds = DefaultTimeoutSeconds
		}
		if f.TimeoutSeconds < 1 || f.TimeoutSeconds > 900 {
			bad(p+".timeout_seconds", "must be between 1 and 900, got %d", f.TimeoutSeconds)
		}
		if f.MemoryMB == 0 {
			f.MemoryMB = DefaultMemoryMB
		}
		if f.MemoryMB < 128 || f.MemoryMB > 10240 {
			bad(p+".memory_mb", "must be between 128 and 10240, got %d", f.MemoryMB)
		}
		if f.MaxConcurrency == 0 {
			f.MaxConcurrency = DefaultMaxConcurrency
		}
		if f.MaxConcurrency < 1 || f.MaxConcurrency > 256 {
			bad(p+".max_concurrency", "must be between 1 and 256, got %d", f.MaxConcurrency)
		}
	}

	type mappingKey struct{ fn, stream string }
	seen := map[mappingKey]bool{}
	checkpoints := map[string]string{}
	for i := range c.EventSourceMappings {
		m := &c.EventSourceMappings[i]
		p := fmt.Sprintf("event_source_mappings[%d]", i)
		switch {
		case m.Function == "":
			bad(p+".function", "is required")
		case !names[m.Function]:
			bad(p+".function", "%q is not one of the configured functions", m.Function)
		}
		if m.QueueName != "" {
			checkQueueMapping(m, p, bad)
			k := mappingKey{m.Function, "queue:" + m.QueueName}
			if seen[k] {
				bad(p, "duplicate mapping of queue %q to function %q", m.QueueName, m.Function)
			}
			seen[k] = true
			continue
		}
		switch {
		case m.StreamName == "":
			bad(p+".stream_name", "is required")
		case strings.HasPrefix(m.StreamName, "arn:"):
			bad(p+".stream_name", "must be a stream name, not an ARN (kinesalite addresses streams by name)")
		case !streamNameRE.MatchString(m.StreamName):
			bad(p+".stream_name", "%q is not a valid stream name", m.StreamName)
		}
		k := mappingKey{m.Function, m.StreamName}
		if seen[k] {
			bad(p, "duplicate mapping of stream %q to function %q", m.StreamName, m.Function)
		}
		seen[k] = true
		if m.BatchSize == 0 {
			m.BatchSize = DefaultBatchSize
		}
		if m.BatchSize < 1 || m.BatchSize > 10000 {
			bad(p+".batch_size", "must be between 1 and 10000, got %d", m.BatchSize)
		}
		switch m.StartingPosition {
		case "TRIM_HORIZON", "LATEST":
		case "":
			bad(p+".starting_position", "is required (TRIM_HORIZON or LATEST)")
		default:
			bad(p+".starting_position", "must be TRIM_HORIZON or LATEST, got %q", m.StartingPosition)
		}
		if m.MaximumRetryAttempts != nil {
			if n := *m.MaximumRetryAttempts; n < 0 || n > 10000 {
				bad(p+".maximum_retry_attempts", "must be between 0 and 10000, got %d (infinite retries would block a shard forever on kinesalite, which never expires records)", n)
			}
		}
		for _, t := range m.FunctionResponseTypes {
			if t != ReportBatchItemFailures {
				bad(p+".function_response_types", "unsupported value %q (only %q)", t, ReportBatchItemFailures)
			}
		}
		if m.OnFailureQueue != "" && !queueNameRE.MatchString(m.OnFailureQueue) {
			bad(p+".on_failure_queue", "must be a standard SQS queue name (1-80 of [A-Za-z0-9_-]; FIFO queues cannot be on-failure destinations), got %q", m.OnFailureQueue)
		}
		m.OnFailurePath = abs(m.OnFailurePath)
		m.CheckpointPath = abs(m.CheckpointPath)
		if m.CheckpointPath == "" && m.OnFailurePath != "" {
			m.CheckpointPath = defaultCheckpointPath(m.OnFailurePath)
		}
		if m.CheckpointPath != "" {
			if other, ok := checkpoints[m.CheckpointPath]; ok {
				bad(p+".checkpoint_path", "%s is also used by %s; each mapping needs its own checkpoint file", m.CheckpointPath, other)
			}
			checkpoints[m.CheckpointPath] = p
		}
		if m.PollingIntervalMS == 0 {
			m.PollingIntervalMS = DefaultPollingIntervalMS
		}
		if m.PollingIntervalMS < 1 || m.PollingIntervalMS > 60000 {
			bad(p+".polling_interval_ms", "must be between 1 and 60000, got %d", m.PollingIntervalMS)
		}
	}
	return errors.Join(errs...)
}

// checkQueueMapping validates and defaults an SQS mapping: the fields
// that mean something only for a stream are refused, not ignored, so a
// config copied from a stream mapping does not silently lose its retries.
func checkQueueMapping(m *EventSourceMappingConfig, p string, bad func(field, format string, args ...any)) {
	if m.StreamName != "" {
		bad(p+".stream_name", "a mapping reads a stream or a queue, not both")
	}
	if !sqsQueueNameRE.MatchString(m.QueueName) {
		bad(p+".queue_name", "%q is not a valid SQS queue name (1-80 of [A-Za-z0-9_-], .fifo allowed at the end)", m.QueueName)
	}
	if m.BatchSize == 0 {
		m.BatchSize = DefaultQueueBatchSize
	}
	if m.BatchSize < 1 || m.BatchSize > 10 {
		bad(p+".batch_size", "must be between 1 and 10 for a queue, got %d", m.BatchSize)
	}
	if m.MaximumConcurrency == 0 {
		m.MaximumConcurrency = DefaultQueueConcurrency
	}
	if m.MaximumConcurrency < 2 || m.MaximumConcurrency > 1000 {
		bad(p+".maximum_concurrency", "must be between 2 and 1000, got %d", m.MaximumConcurrency)
	}
	for field, set := range map[string]bool{
		"starting_position":              m.StartingPosition != "",
		"maximum_retry_attempts":         m.MaximumRetryAttempts != nil,
		"bisect_batch_on_function_error": m.BisectBatchOnFunctionError,
		"on_failure_queue":               m.OnFailureQueue != "",
		"on_failure_path":                m.OnFailurePath != "",
		"checkpoint_path":                m.CheckpointPath != "",
	} {
		if set {
			bad(p+"."+field, "is for stream mappings; a queue retries through its visibility timeout and dead-letters through its redrive policy")
		}
	}
	for _, t := range m.FunctionResponseTypes {
		if t != ReportBatchItemFailures {
			bad(p+".function_response_types", "unsupported value %q (only %q)", t, ReportBatchItemFailures)
		}
	}
	if m.PollingIntervalMS == 0 {
		m.PollingIntervalMS = DefaultPollingIntervalMS
	}
	if m.PollingIntervalMS < 1 || m.PollingIntervalMS > 60000 {
		bad(p+".polling_interval_ms", "must be between 1 and 60000, got %d", m.PollingIntervalMS)
	}
}

// sqsQueueNameRE matches a standard or FIFO SQS queue name.
var sqsQueueNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,75}(\.fifo|[A-Za-z0-9_-]{0,5})$`)

// defaultCheckpointPath puts the checkpoint file next to the on-failure
// file so one mapping's local state lives in one place.
func defaultCheckpointPath(onFailure string) string {
	dir, file := filepath.Split(onFailure)
	stem := strings.TrimSuffix(file, filepath.Ext(file))
	if stem == "" {
		stem = file
	}
	return filepath.Join(dir, stem+".checkpoint.json")
}

// queueNameRE matches a standard SQS queue name.
var queueNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)
