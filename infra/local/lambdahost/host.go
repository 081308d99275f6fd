package lambdahost

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Options tune a Host. The zero value is usable.
type Options struct {
	// Addr is the Invoke API listen address (default 127.0.0.1:9001; use
	// 127.0.0.1:0 for an ephemeral port).
	Addr string
	// Logger receives host and function logs (default slog.Default()).
	Logger *slog.Logger
	// Region is used in ARNs, AWS_REGION and event records. Default: the
	// AWS_REGION environment variable, else us-east-1.
	Region string
	// Kinesis is the client the event source mappings poll. If nil and the
	// config has enabled mappings, Start builds an aws-sdk-go-v2 client
	// with the SDK's normal config loading (so AWS_ENDPOINT_URL_KINESIS or
	// AWS_ENDPOINT_URL select kinesalite).
	Kinesis KinesisAPI
	// SQS sends on-failure records for mappings with on_failure_queue. If
	// nil and such a mapping is enabled, Start builds a client the same way
	// (AWS_ENDPOINT_URL_SQS selects the local emulator).
	SQS SQSAPI
	// SQSPoll is the client queue mappings poll. If nil and the config has
	// an enabled queue mapping, Start builds one the same way.
	SQSPoll SQSPollAPI
	// Environ is the host environment passed through to instances
	// (AWS_ENDPOINT_URL*, credentials, PATH...). Default os.Environ().
	Environ []string
	// ShardRefreshInterval is how often mappings re-list shards to pick up
	// new ones (default 10s).
	ShardRefreshInterval time.Duration
}

// InvokeResult is the outcome of a synchronous invocation.
type InvokeResult struct {
	// RequestID is the invocation's request ID.
	RequestID string
	// Payload is the function's response, or the error document
	// ({"errorMessage","errorType"}) when FunctionError is set.
	Payload []byte
	// FunctionError is "Unhandled" when the function failed (error,
	// panic, crash, timeout), empty on success.
	FunctionError string
	// ErrorType is the errorType of a failed invocation, e.g.
	// "Sandbox.Timedout" or "Runtime.ExitError".
	ErrorType string
}

// ErrFunctionNotFound is returned (wrapped) by Invoke for unknown names.
var ErrFunctionNotFound = errors.New("function not found")

// Host runs functions, serves the Invoke API and drives event source
// mappings. Create it with New, then Start it; stop it with Shutdown.
type Host struct {
	cfg     *Config
	opts    Options
	log     *slog.Logger
	region  string
	environ []string
	funcs   map[string]*function

	srv          *http.Server
	ln           net.Listener
	pollers      []*KinesisPoller
	queuePollers []*QueuePoller

	baseCtx context.Context
	cancel  context.CancelFunc
	closing chan struct{} // closed when Shutdown begins
	closed  atomic.Bool   // set once no new instance may start
	// bg tracks pollers and Event invocations. bgMu/bgClosed stop new
	// work from being added once Shutdown waits on it.
	bg       sync.WaitGroup
	bgMu     sync.Mutex
	bgClosed bool
	started  atomic.Bool
	once     sync.Once
}

// New builds a host from a resolved config (see LoadConfig).
func New(cfg *Config, opts Options) (*Host, error) {
	if cfg == nil {
		return nil, errors.New("lambdahost: nil config")
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:9001"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Environ == nil {
		opts.Environ = os.Environ()
	}
	if opts.Region == "" {
		opts.Region = envLookup(opts.Environ, "AWS_REGION")
	}
	if opts.Region == "" {
		opts.Region = envLookup(opts.Environ, "AWS_DEFAULT_REGION")
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.ShardRefreshInterval <= 0 {
		opts.ShardRefreshInterval = 10 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &Host{
		cfg:     cfg,
		opts:    opts,
		log:     opts.Logger,
		region:  opts.Region,
		environ: opts.Environ,
		funcs:   map[string]*function{},
		baseCtx: ctx,
		cancel:  cancel,
		closing: make(chan struct{}),
	}
	for _, fc := range cfg.Functions {
		if _, dup := h.funcs[fc.Name]; dup {
			cancel()
			return nil, fmt.Errorf("lambdahost: function %q defined twice", fc.Name)
		}
		h.funcs[fc.Name] = newFunction(h, fc)
	}
	return h, nil
}

// Region returns the region the host reports to functions.
func (h *Host) Region() string { return h.region }

// Start binds the Invoke API listener, starts serving and starts the event
// source mappings. It returns once the listener is bound; the host runs
// until Shutdown.
func (h *Host) Start(ctx context.Context) error {
	if !h.started.CompareAndSwap(false, true) {
		return errors.New("lambdahost: already started")
	}
	for _, fc := range h.cfg.Functions {
		if _, err := os.Stat(fc.Bootstrap); err != nil {
			// Not fatal: dist/ is often built after the stack starts.
			h.log.Warn("bootstrap not found yet; invocations will fail until it is built",
				"function", fc.Name, "bootstrap", fc.Bootstrap)
		}
	}
	var mappings, queues []EventSourceMappingConfig
	for _, m := range h.cfg.EventSourceMappings {
		switch {
		case !m.IsEnabled():
		case m.QueueName != "":
			queues = append(queues, m)
		default:
			mappings = append(mappings, m)
		}
	}
	if len(queues) > 0 && h.opts.SQSPoll == nil {
		cfg, err := loadAWSConfig(ctx, h.region, h.environ)
		if err != nil {
			return fmt.Errorf("lambdahost: sqs client: %w", err)
		}
		h.opts.SQSPoll = sqs.NewFromConfig(cfg)
	}
	if len(mappings) > 0 && h.opts.Kinesis == nil {
		client, err := newKinesisClient(ctx, h.region, h.environ)
		if err != nil {
			return fmt.Errorf("lambdahost: kinesis client: %w", err)
		}
		h.opts.Kinesis = client
	}
	if h.opts.SQS == nil {
		for _, m := range mappings {
			if m.OnFailureQueue == "" {
				continue
			}
			cfg, err := loadAWSConfig(ctx, h.region, h.environ)
			if err != nil {
				return fmt.Errorf("lambdahost: sqs client: %w", err)
			}
			h.opts.SQS = sqs.NewFromConfig(cfg)
			break
		}
	}

	ln, err := net.Listen("tcp", h.opts.Addr)
	if err != nil {
		return fmt.Errorf("lambdahost: listen %s: %w", h.opts.Addr, err)
	}
	h.ln = ln
	h.srv = &http.Server{
		Handler:           h.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(h.log.Handler(), slog.LevelDebug),
	}
	go func() {
		if err := h.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			h.log.Error("invoke API server stopped", "err", err)
		}
	}()
	h.log.Info("lambda host listening", "addr", ln.Addr().String(), "region", h.region,
		"functions", len(h.funcs), "event_source_mappings", len(mappings)+len(queues))

	for _, m := range mappings {
		p := NewKinesisPoller(m, h.opts.Kinesis, h, PollerOptions{
			Region:               h.region,
			Logger:               h.log,
			ShardRefreshInterval: h.opts.ShardRefreshInterval,
			SQS:                  h.opts.SQS,
		})
		h.pollers = append(h.pollers, p)
		h.goBackground(func() { p.Run(h.baseCtx) })
	}
	for _, m := range queues {
		p := NewQueuePoller(m, h.opts.SQSPoll, h, PollerOptions{Region: h.region, Logger: h.log})
		h.queuePollers = append(h.queuePollers, p)
		h.goBackground(func() { p.Run(h.baseCtx) })
	}
	return nil
}

// Addr returns the bound Invoke API address (useful with port 0).
func (h *Host) Addr() string {
	if h.ln == nil {
		return ""
	}
	return h.ln.Addr().String()
}

// URL returns the Invoke API base URL, e.g. for aws-sdk-go-v2's
// BaseEndpoint.
func (h *Host) URL() string { return "http://" + h.Addr() }

// Pollers returns the running event source mapping pollers.
func (h *Host) Pollers() []*KinesisPoller { return h.pollers }

// QueuePollers returns the running queue mapping pollers.
func (h *Host) QueuePollers() []*QueuePoller { return h.queuePollers }

// Shutdown stops the host: it stops the pollers, lets in-flight HTTP
// invocations finish until ctx expires, then kills every instance and
// waits for background work to end.
func (h *Host) Shutdown(ctx context.Context) error {
	var err error
	h.once.Do(func() {
		close(h.closing)
		h.cancel()
		if h.srv != nil {
			if e := h.srv.Shutdown(ctx); e != nil {
				_ = h.srv.Close()
				if !errors.Is(e, context.Canceled) && !errors.Is(e, context.DeadlineExceeded) {
					err = e
				}
			}
		}
		h.closed.Store(true)
		var killed []*instance
		for _, f := range h.funcs {
			killed = append(killed, f.killAll()...)
		}
		for _, inst := range killed {
			select {
			case <-inst.exited:
			case <-time.After(5 * time.Second):
				h.log.Warn("instance did not exit after SIGKILL", "function", inst.fn.cfg.Name, "instance", inst.id)
			}
		}
		h.bgMu.Lock()
		h.bgClosed = true
		h.bgMu.Unlock()
		done := make(chan struct{})
		go func() { h.bg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			h.log.Warn("background work still running at shutdown")
		}
		h.log.Info("lambda host stopped")
	})
	return err
}

// goBackground runs fn in a goroutine Shutdown waits for; it reports false
// (and does not run fn) once Shutdown has started waiting.
func (h *Host) goBackground(fn func()) bool {
	h.bgMu.Lock()
	defer h.bgMu.Unlock()
	if h.bgClosed {
		return false
	}
	h.bg.Add(1)
	go func() {
		defer h.bg.Done()
		fn()
	}()
	return true
}

// Invoke runs a function synchronously, in-process (the event source
// mappings use it; HTTP callers go through the Invoke API). name may be a
// function name or ARN. A function failure is reported in the result, not
// as an error.
func (h *Host) Invoke(ctx context.Context, name string, payload []byte) (*InvokeResult, error) {
	return h.invoke(ctx, invokeParams{name: name, payload: payload})
}

type invokeParams struct {
	name          string
	payload       []byte
	traceID       string
	clientContext string
}

func (h *Host) invoke(ctx context.Context, p invokeParams) (*InvokeResult, error) {
	fnName, qualifier := parseFunctionName(p.name)
	f, ok := h.funcs[fnName]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrFunctionNotFound, FunctionARN(h.region, fnName))
	}
	inv := &invocation{
		id:            newRequestID(),
		payload:       p.payload,
		invokedARN:    f.arn,
		traceID:       p.traceID,
		clientContext: p.clientContext,
		timeout:       time.Duration(f.cfg.TimeoutSeconds) * time.Second,
		done:          make(chan outcome, 1),
	}
	if len(inv.payload) == 0 {
		inv.payload = []byte("{}")
	}
	if qualifier != "" {
		inv.invokedARN += ":" + qualifier
	}
	if inv.traceID == "" {
		inv.traceID = newTraceID()
	}
	start := time.Now()
	out, err := f.invoke(ctx, inv)
	if err != nil {
		return nil, err
	}
	res := &InvokeResult{RequestID: inv.id, Payload: out.payload}
	attrs := []any{"function", fnName, "request_id", inv.id, "duration_ms", time.Since(start).Milliseconds()}
	if out.errType != "" {
		res.FunctionError = "Unhandled"
		res.ErrorType = out.errType
		h.log.Warn("invocation failed", append(attrs, "error_type", out.errType, "error", truncate(string(out.payload), 1024))...)
	} else {
		h.log.Debug("invocation succeeded", attrs...)
	}
	return res, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// parseFunctionName accepts the FunctionName forms Lambda does: name,
// name:qualifier, account:function:name[:qualifier] and full ARNs.
func parseFunctionName(s string) (name, qualifier string) {
	parts := strings.Split(s, ":")
	switch {
	case len(parts) >= 7 && parts[0] == "arn": // arn:aws:lambda:region:acct:function:name[:qualifier]
		name = parts[6]
		if len(parts) > 7 {
			qualifier = parts[7]
		}
	case len(parts) >= 3 && parts[1] == "function": // acct:function:name[:qualifier]
		name = parts[2]
		if len(parts) > 3 {
			qualifier = parts[3]
		}
	case len(parts) == 2:
		name, qualifier = parts[0], parts[1]
	default:
		name = s
	}
	return name, qualifier
}

// passThroughEnv are host variables an instance inherits besides
// AWS_ENDPOINT_URL*: credentials (Lambda always provides some), the PATH,
// and AWS SDK settings that matter against emulators.
var passThroughEnv = []string{
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE",
	"PATH", "TMPDIR",
}

// instanceEnv builds the environment of a bootstrap process: what Lambda
// sets for provided.al2023, the host's endpoint and credential variables,
// then the function's own environment (which Resolve has checked does not
// override reserved names).
func (h *Host) instanceEnv(fc FunctionConfig, runtimeAPI string, id int) []string {
	env := map[string]string{}
	for _, kv := range h.environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		if strings.HasPrefix(k, "AWS_ENDPOINT_URL") {
			env[k] = v
		}
	}
	for _, k := range passThroughEnv {
		if v := envLookup(h.environ, k); v != "" {
			env[k] = v
		}
	}
	if env["AWS_ACCESS_KEY_ID"] == "" {
		// Lambda always injects role credentials; emulators accept any, so
		// give the SDK something rather than letting it probe IMDS.
		env["AWS_ACCESS_KEY_ID"] = "local"
		env["AWS_SECRET_ACCESS_KEY"] = "local"
	}
	if env["PATH"] == "" {
		env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
	}
	taskRoot := filepath.Dir(fc.Bootstrap)
	for k, v := range map[string]string{
		"AWS_LAMBDA_RUNTIME_API":          runtimeAPI,
		"AWS_LAMBDA_FUNCTION_NAME":        fc.Name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(fc.MemoryMB),
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + fc.Name,
		"AWS_LAMBDA_LOG_STREAM_NAME":      fmt.Sprintf("%s/[$LATEST]local%06d", time.Now().UTC().Format("2006/01/02"), id),
		"AWS_EXECUTION_ENV":               "AWS_Lambda_provided.al2023",
		"AWS_REGION":                      h.region,
		"AWS_DEFAULT_REGION":              h.region,
		"_HANDLER":                        "bootstrap",
		"LAMBDA_TASK_ROOT":                taskRoot,
		"LAMBDA_RUNTIME_DIR":              taskRoot,
		"LANG":                            "en_US.UTF-8",
		"TZ":                              ":UTC",
	} {
		env[k] = v
	}
	// ${NAME} in a configured value is the host's variable, so the one
	// config serves every stack: "${RECOUP_STATE_DIR}/models",
	// "${AWS_ENDPOINT_URL_SQS}/000000000000/recoup-letters".
	for k, v := range fc.Environment {
		env[k] = os.Expand(v, func(name string) string { return envLookup(h.environ, name) })
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

func envLookup(environ []string, key string) string {
	for i := len(environ) - 1; i >= 0; i-- { // last one wins, as in os/exec
		if k, v, ok := strings.Cut(environ[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

// newKinesisClient loads the SDK config the normal way (so
// AWS_ENDPOINT_URL_KINESIS / AWS_ENDPOINT_URL are honoured), with dummy
// static credentials when none are configured: kinesalite accepts any, and
// this avoids the SDK probing IMDS on a laptop.
func newKinesisClient(ctx context.Context, region string, environ []string) (*kinesis.Client, error) {
	cfg, err := loadAWSConfig(ctx, region, environ)
	if err != nil {
		return nil, err
	}
	return kinesis.NewFromConfig(cfg), nil
}

// loadAWSConfig is the SDK configuration both clients are built from.
func loadAWSConfig(ctx context.Context, region string, environ []string) (aws.Config, error) {
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(region)}
	if envLookup(environ, "AWS_ACCESS_KEY_ID") == "" && envLookup(environ, "AWS_PROFILE") == "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	}
	return awsconfig.LoadDefaultConfig(ctx, opts...)
}
