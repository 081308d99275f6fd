package lambdahost

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/google/go-cmp/cmp"
)

// echofnBinary is built once per test binary (see TestMain) from
// testdata/echofn with -tags lambda.norpc, exactly like dist/*/bootstrap.
var echofnBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lambdahost-echofn-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	echofnBinary = filepath.Join(dir, "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", echofnBinary, "./testdata/echofn")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building testdata/echofn: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// installEchofn copies the test Lambda into a fresh t.TempDir() as
// <dir>/bootstrap, like a deployment package.
func installEchofn(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(echofnBinary)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bootstrap")
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// syncBuffer collects log output from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startHost starts a host on 127.0.0.1:0 and stops it at test end.
func startHost(t *testing.T, cfg *Config, opts Options) (*Host, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	opts.Addr = "127.0.0.1:0"
	opts.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if opts.Environ == nil {
		opts.Environ = []string{"PATH=" + os.Getenv("PATH")}
	}
	h, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if t.Failed() {
			t.Logf("host logs:\n%s", logs.String())
		}
	})
	return h, logs
}

func lambdaClient(h *Host) *lambda.Client {
	return lambda.New(lambda.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(h.URL()),
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		RetryMaxAttempts: 1,
	})
}

// errorDoc is the function error document.
type errorDoc struct {
	ErrorMessage string `json:"errorMessage"`
	ErrorType    string `json:"errorType"`
}

// echoResponse mirrors testdata/echofn's response.
type echoResponse struct {
	Input       json.RawMessage   `json:"input"`
	PID         int               `json:"pid"`
	RequestID   string            `json:"request_id"`
	FunctionARN string            `json:"function_arn"`
	DeadlineMS  int64             `json:"deadline_ms"`
	Env         map[string]string `json:"env"`
}

func TestInvokeAPI(t *testing.T) {
	t.Parallel()
	bootstrap := installEchofn(t)
	touchDir := t.TempDir()
	cfg := &Config{Functions: []FunctionConfig{
		{Name: "echo", Bootstrap: bootstrap, MaxConcurrency: 2, MemoryMB: 512,
			Environment: map[string]string{"GREETING": "hello"}},
		{Name: "initfail", Bootstrap: bootstrap, Environment: map[string]string{"ECHOFN_INIT_ERROR": "config is broken"}},
		{Name: "missing", Bootstrap: filepath.Join(t.TempDir(), "nope", "bootstrap")},
	}}
	if err := cfg.Resolve("."); err != nil {
		t.Fatal(err)
	}
	h, _ := startHost(t, cfg, Options{
		Region:  "eu-west-1",
		Environ: []string{"PATH=/usr/bin:/bin", "AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000", "HOME=/should/not/leak"},
	})
	client := lambdaClient(h)
	ctx := context.Background()

	envNames := []string{"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
		"AWS_REGION", "_HANDLER", "LAMBDA_TASK_ROOT", "GREETING", "AWS_ENDPOINT_URL_DYNAMODB", "HOME", "AWS_ACCESS_KEY_ID"}
	envJSON, _ := json.Marshal(envNames)

	tests := []struct {
		name           string
		function       string
		invocationType lambdatypes.InvocationType
		payload        string
		wantStatus     int32
		wantFuncErr    string
		wantErrDoc     *errorDoc // compared when wantFuncErr is set
		wantErrPrefix  string    // errorMessage prefix check instead of wantErrDoc.ErrorMessage
		wantEcho       *echoResponse
		wantAPIErr     string // SDK error code, e.g. ResourceNotFoundException
		check          func(t *testing.T)
	}{
		{
			name:       "success echoes payload and sets the Lambda environment",
			function:   "echo",
			payload:    `{"hello":"world","env":` + string(envJSON) + `}`,
			wantStatus: 200,
			wantEcho: &echoResponse{
				Input:       json.RawMessage(`{"hello":"world","env":` + string(envJSON) + `}`),
				FunctionARN: "arn:aws:lambda:eu-west-1:000000000000:function:echo",
				Env: map[string]string{
					"AWS_LAMBDA_FUNCTION_NAME":        "echo",
					"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
					"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
					"AWS_REGION":                      "eu-west-1",
					"_HANDLER":                        "bootstrap",
					"LAMBDA_TASK_ROOT":                filepath.Dir(bootstrap),
					"GREETING":                        "hello",
					"AWS_ENDPOINT_URL_DYNAMODB":       "http://127.0.0.1:8000",
					"HOME":                            "",
					"AWS_ACCESS_KEY_ID":               "local",
				},
			},
		},
		{
			name:       "function ARN with qualifier is accepted",
			function:   "arn:aws:lambda:eu-west-1:000000000000:function:echo:$LATEST",
			payload:    `{"n":1}`,
			wantStatus: 200,
			wantEcho: &echoResponse{
				Input:       json.RawMessage(`{"n":1}`),
				FunctionARN: "arn:aws:lambda:eu-west-1:000000000000:function:echo:$LATEST",
			},
		},
		{
			name:        "function error is Unhandled with the error document",
			function:    "echo",
			payload:     `{"error":"card declined"}`,
			wantStatus:  200,
			wantFuncErr: "Unhandled",
			wantErrDoc:  &errorDoc{ErrorMessage: "card declined", ErrorType: "errorString"},
		},
		{
			name:        "panic is Unhandled and the instance is replaced",
			function:    "echo",
			payload:     `{"panic":"kaboom"}`,
			wantStatus:  200,
			wantFuncErr: "Unhandled",
			wantErrDoc:  &errorDoc{ErrorMessage: "kaboom", ErrorType: "string"},
		},
		{
			name:          "crash mid-invocation is Runtime.ExitError",
			function:      "echo",
			payload:       `{"exit":3}`,
			wantStatus:    200,
			wantFuncErr:   "Unhandled",
			wantErrDoc:    &errorDoc{ErrorType: "Runtime.ExitError"},
			wantErrPrefix: "RequestId: ",
		},
		{
			name:        "init error posted to /runtime/init/error",
			function:    "initfail",
			payload:     `{}`,
			wantStatus:  200,
			wantFuncErr: "Unhandled",
			wantErrDoc:  &errorDoc{ErrorMessage: "config is broken", ErrorType: "InitFailure"},
		},
		{
			name:          "missing bootstrap is Runtime.InvalidEntrypoint",
			function:      "missing",
			payload:       `{}`,
			wantStatus:    200,
			wantFuncErr:   "Unhandled",
			wantErrDoc:    &errorDoc{ErrorType: "Runtime.InvalidEntrypoint"},
			wantErrPrefix: "RequestId: ",
		},
		{
			name:       "unknown function is ResourceNotFoundException",
			function:   "does-not-exist",
			payload:    `{}`,
			wantAPIErr: "ResourceNotFoundException",
		},
		{
			name:       "invalid JSON payload is rejected",
			function:   "echo",
			payload:    `{not json`,
			wantAPIErr: "InvalidRequestContentException",
		},
		{
			name:           "DryRun returns 204",
			function:       "echo",
			invocationType: lambdatypes.InvocationTypeDryRun,
			payload:        `{}`,
			wantStatus:     204,
		},
		{
			name:           "Event returns 202 and runs in the background",
			function:       "echo",
			invocationType: lambdatypes.InvocationTypeEvent,
			payload:        fmt.Sprintf(`{"touch":%q}`, filepath.Join(touchDir, "event.json")),
			wantStatus:     202,
			check: func(t *testing.T) {
				path := filepath.Join(touchDir, "event.json")
				waitFor(t, 10*time.Second, func() bool { _, err := os.Stat(path); return err == nil })
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := &lambda.InvokeInput{FunctionName: aws.String(tc.function), Payload: []byte(tc.payload)}
			if tc.invocationType != "" {
				in.InvocationType = tc.invocationType
			}
			out, err := client.Invoke(ctx, in)
			if tc.wantAPIErr != "" {
				var apiErr interface{ ErrorCode() string }
				if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tc.wantAPIErr {
					t.Fatalf("Invoke error = %v, want %s", err, tc.wantAPIErr)
				}
				if tc.wantAPIErr == "ResourceNotFoundException" {
					var rnf *lambdatypes.ResourceNotFoundException
					if !errors.As(err, &rnf) {
						t.Errorf("error %T is not *types.ResourceNotFoundException", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			if out.StatusCode != tc.wantStatus {
				t.Errorf("StatusCode = %d, want %d", out.StatusCode, tc.wantStatus)
			}
			if got := aws.ToString(out.ExecutedVersion); got != "$LATEST" {
				t.Errorf("ExecutedVersion = %q, want $LATEST", got)
			}
			if got := aws.ToString(out.FunctionError); got != tc.wantFuncErr {
				t.Errorf("FunctionError = %q, want %q (payload %s)", got, tc.wantFuncErr, out.Payload)
			}
			if tc.wantErrDoc != nil {
				var got errorDoc
				if err := json.Unmarshal(out.Payload, &got); err != nil {
					t.Fatalf("error payload %s: %v", out.Payload, err)
				}
				want := *tc.wantErrDoc
				if tc.wantErrPrefix != "" {
					if !strings.HasPrefix(got.ErrorMessage, tc.wantErrPrefix) {
						t.Errorf("errorMessage = %q, want prefix %q", got.ErrorMessage, tc.wantErrPrefix)
					}
					want.ErrorMessage = got.ErrorMessage
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("error document (-want +got):\n%s", diff)
				}
			}
			if tc.wantEcho != nil {
				var got echoResponse
				if err := json.Unmarshal(out.Payload, &got); err != nil {
					t.Fatalf("payload %s: %v", out.Payload, err)
				}
				if got.PID == 0 || got.RequestID == "" {
					t.Errorf("pid/request_id missing in %s", out.Payload)
				}
				if d := time.Until(time.UnixMilli(got.DeadlineMS)); d <= 0 || d > 3*time.Second {
					t.Errorf("deadline %v from now, want within the 3s default timeout", d)
				}
				got.PID, got.RequestID, got.DeadlineMS = 0, "", 0
				if diff := cmp.Diff(tc.wantEcho, &got, cmp.Transformer("json", func(m json.RawMessage) string {
					var v any
					_ = json.Unmarshal(m, &v)
					b, _ := json.Marshal(v)
					return string(b)
				})); diff != "" {
					t.Errorf("echo (-want +got):\n%s", diff)
				}
			}
			if tc.check != nil {
				tc.check(t)
			}
		})
	}

	t.Run("health", func(t *testing.T) {
		resp, err := http.Get(h.URL() + "/health")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != `{"status":"ok"}` {
			t.Errorf("GET /health = %d %s", resp.StatusCode, body)
		}
	})

	t.Run("ListFunctions and GetFunction", func(t *testing.T) {
		out, err := client.ListFunctions(ctx, &lambda.ListFunctionsInput{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, f := range out.Functions {
			names = append(names, aws.ToString(f.FunctionName))
		}
		if diff := cmp.Diff([]string{"echo", "initfail", "missing"}, names); diff != "" {
			t.Errorf("ListFunctions names (-want +got):\n%s", diff)
		}
		got, err := client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("echo")})
		if err != nil {
			t.Fatal(err)
		}
		c := got.Configuration
		if aws.ToInt32(c.MemorySize) != 512 || aws.ToInt32(c.Timeout) != 3 || aws.ToString(c.FunctionArn) != "arn:aws:lambda:eu-west-1:000000000000:function:echo" {
			t.Errorf("GetFunction configuration = %+v", c)
		}
	})
}

func waitFor(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func invokeEcho(t *testing.T, client *lambda.Client, fn, payload string) (echoResponse, *lambda.InvokeOutput) {
	t.Helper()
	out, err := client.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String(fn), Payload: []byte(payload)})
	if err != nil {
		t.Fatalf("Invoke %s: %v", fn, err)
	}
	var got echoResponse
	if out.FunctionError == nil {
		if err := json.Unmarshal(out.Payload, &got); err != nil {
			t.Fatalf("payload %s: %v", out.Payload, err)
		}
	}
	return got, out
}

func TestTimeoutKillsInstanceAndNextInvocationRecovers(t *testing.T) {
	t.Parallel()
	cfg := &Config{Functions: []FunctionConfig{{Name: "slow", Bootstrap: installEchofn(t), TimeoutSeconds: 1, MaxConcurrency: 1}}}
	if err := cfg.Resolve("."); err != nil {
		t.Fatal(err)
	}
	h, _ := startHost(t, cfg, Options{})
	client := lambdaClient(h)

	first, _ := invokeEcho(t, client, "slow", `{}`)

	start := time.Now()
	_, out := invokeEcho(t, client, "slow", `{"sleep_ms":5000}`)
	elapsed := time.Since(start)
	if aws.ToString(out.FunctionError) != "Unhandled" {
		t.Fatalf("FunctionError = %q, payload %s", aws.ToString(out.FunctionError), out.Payload)
	}
	var doc errorDoc
	if err := json.Unmarshal(out.Payload, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.ErrorType != "Sandbox.Timedout" || !strings.Contains(doc.ErrorMessage, "Task timed out after 1.00 seconds") {
		t.Errorf("error document = %+v", doc)
	}
	if elapsed < 900*time.Millisecond || elapsed > 3*time.Second {
		t.Errorf("timed-out invocation took %v, want about 1s", elapsed)
	}
	if err := syscallKill0(first.PID); err == nil {
		// The killed instance is reaped asynchronously; give it a moment.
		waitFor(t, 3*time.Second, func() bool { return syscallKill0(first.PID) != nil })
	}

	after, _ := invokeEcho(t, client, "slow", `{}`)
	if after.PID == 0 || after.PID == first.PID {
		t.Errorf("after timeout got pid %d, want a fresh instance (old %d)", after.PID, first.PID)
	}
}

func TestConcurrencyAndWarmReuse(t *testing.T) {
	t.Parallel()
	bootstrap := installEchofn(t)
	cfg := &Config{Functions: []FunctionConfig{
		{Name: "wide", Bootstrap: bootstrap, MaxConcurrency: 3},
		{Name: "narrow", Bootstrap: bootstrap, MaxConcurrency: 1},
	}}
	if err := cfg.Resolve("."); err != nil {
		t.Fatal(err)
	}
	h, _ := startHost(t, cfg, Options{})
	client := lambdaClient(h)

	// Warm both pools first so process start-up does not blur the timing.
	for _, fn := range []string{"wide", "narrow"} {
		invokeEcho(t, client, fn, `{}`)
	}

	tests := []struct {
		name       string
		function   string
		parallel   int
		sleepMS    int
		wantPIDs   int
		minElapsed time.Duration
		maxElapsed time.Duration
	}{
		{name: "parallel invocations use separate instances", function: "wide", parallel: 3, sleepMS: 600,
			wantPIDs: 3, minElapsed: 600 * time.Millisecond, maxElapsed: 1500 * time.Millisecond},
		{name: "max_concurrency 1 queues invocations on one warm instance", function: "narrow", parallel: 3, sleepMS: 200,
			wantPIDs: 1, minElapsed: 600 * time.Millisecond, maxElapsed: 3 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var wg sync.WaitGroup
			pids := make([]int, tc.parallel)
			start := time.Now()
			for i := range tc.parallel {
				wg.Add(1)
				go func() {
					defer wg.Done()
					got, out := invokeEcho(t, client, tc.function, fmt.Sprintf(`{"sleep_ms":%d}`, tc.sleepMS))
					if out.FunctionError != nil {
						t.Errorf("invoke %d: %s", i, out.Payload)
					}
					pids[i] = got.PID
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			distinct := map[int]bool{}
			for _, p := range pids {
				distinct[p] = true
			}
			if len(distinct) != tc.wantPIDs {
				t.Errorf("distinct instances = %d (%v), want %d", len(distinct), pids, tc.wantPIDs)
			}
			if elapsed < tc.minElapsed || elapsed > tc.maxElapsed {
				t.Errorf("elapsed %v, want between %v and %v", elapsed, tc.minElapsed, tc.maxElapsed)
			}
			if n := h.funcs[tc.function].instanceCount(); n > cfg.Functions[map[string]int{"wide": 0, "narrow": 1}[tc.function]].MaxConcurrency {
				t.Errorf("instances = %d exceeds max_concurrency", n)
			}
		})
	}

	t.Run("sequential invocations reuse the warm instance", func(t *testing.T) {
		a, _ := invokeEcho(t, client, "narrow", `{}`)
		b, _ := invokeEcho(t, client, "narrow", `{}`)
		if a.PID != b.PID {
			t.Errorf("pids %d then %d, want the same warm instance", a.PID, b.PID)
		}
	})

	t.Run("rebuilt bootstrap replaces warm instances", func(t *testing.T) {
		a, _ := invokeEcho(t, client, "narrow", `{}`)
		future := time.Now().Add(time.Minute)
		if err := os.Chtimes(bootstrap, future, future); err != nil {
			t.Fatal(err)
		}
		b, _ := invokeEcho(t, client, "narrow", `{}`)
		if a.PID == b.PID {
			t.Errorf("pid %d reused after the bootstrap changed", a.PID)
		}
	})
}

func TestInProcessInvokeAndShutdown(t *testing.T) {
	t.Parallel()
	cfg := &Config{Functions: []FunctionConfig{{Name: "echo", Bootstrap: installEchofn(t)}}}
	if err := cfg.Resolve("."); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	h, err := New(cfg, Options{Addr: "127.0.0.1:0", Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	res, err := h.Invoke(context.Background(), "echo", []byte(`{"x":1}`))
	if err != nil || res.FunctionError != "" {
		t.Fatalf("Invoke = %+v, %v", res, err)
	}
	var got echoResponse
	if err := json.Unmarshal(res.Payload, &got); err != nil {
		t.Fatal(err)
	}
	if res, err := h.Invoke(context.Background(), "echo", []byte(`{"error":"logged failure"}`)); err != nil || res.FunctionError != "Unhandled" || res.ErrorType != "errorString" {
		t.Errorf("Invoke error case = %+v, %v", res, err)
	}
	if _, err := h.Invoke(context.Background(), "nope", nil); !errors.Is(err, ErrFunctionNotFound) {
		t.Errorf("unknown function error = %v, want ErrFunctionNotFound", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if syscallKill0(got.PID) == nil {
		t.Errorf("instance pid %d still alive after Shutdown", got.PID)
	}
	if _, err := h.Invoke(context.Background(), "echo", nil); !errors.Is(err, errHostClosed) {
		t.Errorf("Invoke after Shutdown = %v, want errHostClosed", err)
	}
	// aws-lambda-go logs a returned error to stderr; it must reach the host
	// log with the function-name prefix.
	if !strings.Contains(logs.String(), `"msg":"[echo] `) || !strings.Contains(logs.String(), "logged failure") {
		t.Errorf("host log lacks the function's prefixed output:\n%s", logs.String())
	}
}

func syscallKill0(pid int) error { return syscall.Kill(pid, 0) }

// TestInstanceEnvExpands: a configured value names the host's variables,
// so one config serves stacks on any ports; reserved names stay the host's.
func TestInstanceEnvExpands(t *testing.T) {
	h := &Host{region: "us-east-1", environ: []string{"RECOUP_STATE_DIR=/s", "AWS_ENDPOINT_URL_SQS=http://127.0.0.1:9424", "SECRET=x"}}
	got := h.instanceEnv(FunctionConfig{Name: "send", Bootstrap: "/d/send/bootstrap", Environment: map[string]string{
		"RECOUP_MODEL_DIR":        "${RECOUP_STATE_DIR}/models",
		"RECOUP_LETTER_QUEUE_URL": "${AWS_ENDPOINT_URL_SQS}/000000000000/recoup-letters",
		"RECOUP_UNSET":            "${NOPE}",
	}}, "127.0.0.1:1", 1)
	want := map[string]string{"RECOUP_MODEL_DIR": "/s/models", "RECOUP_LETTER_QUEUE_URL": "http://127.0.0.1:9424/000000000000/recoup-letters",
		"RECOUP_UNSET": "", "AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:9424", "SECRET": "<absent>"}
	for k, w := range want {
		v := envLookup(got, k)
		if v == "" && w == "<absent>" {
			continue
		}
		if v != w {
			t.Errorf("%s = %q, want %q", k, v, w)
		}
	}
}
