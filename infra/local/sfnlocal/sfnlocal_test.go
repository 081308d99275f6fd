package sfnlocal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/recoup-dev/recoup/infra/statemachine"
)

const (
	region  = "us-east-1"
	account = "000000000000"
	role    = "arn:aws:iam::000000000000:role/recoup-local"
)

// requireNode returns the infra/local folder, skipping the test when the
// Node 22 binary is not installed there. Under CI a missing binary fails
// the test instead, as localtest.Require does for the stack: CI must never
// pass by skipping.
func requireNode(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(NodePath(dir)); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no Node binary at %s under CI: install infra/local (make up) first", NodePath(dir))
		}
		t.Skipf("needs the Node binary at %s (run make up once)", NodePath(dir))
	}
	return dir
}

// syncBuffer collects the server's output for the failure log.
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

// startServer runs server.cjs on a free 127.0.0.1 port, stopped when t ends,
// and returns an SDK client for it.
func startServer(t *testing.T, opts Options) (*sfn.Client, *Server) {
	t.Helper()
	dir := requireNode(t)
	out := &syncBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := Start(ctx, dir, opts, out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
		if t.Failed() {
			t.Logf("server output:\n%s", out)
		}
	})
	return client(srv.Endpoint), srv
}

func client(endpoint string) *sfn.Client {
	return sfn.New(sfn.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
}

// invocation is one call the fake Lambda received.
type invocation struct {
	Function string
	Payload  map[string]any
}

// fakeLambda is the Lambda Invoke API of a few test functions:
//   - approve: records its payload (with the task token) and returns {};
//   - echo: returns its payload;
//   - flaky: records its payload and fails with errorType Transient;
//   - boom: fails with errorType Boom.
type fakeLambda struct {
	srv   *httptest.Server
	calls chan invocation
}

func newFakeLambda(t *testing.T) *fakeLambda {
	t.Helper()
	f := &fakeLambda{calls: make(chan invocation, 100)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2015-03-31/functions/{name}/invocations", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		// The name may be an ARN (arn:aws:lambda:...:function:flaky).
		if i := strings.LastIndex(name, ":function:"); i >= 0 {
			name = name[i+len(":function:"):]
		}
		body, _ := io.ReadAll(r.Body)
		var payload map[string]any
		if err := json.Unmarshal(body, &payload); err != nil {
			http.Error(w, "payload is not a JSON object: "+err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch name {
		case "approve", "flaky":
			f.calls <- invocation{Function: name, Payload: payload}
		}
		switch name {
		case "approve":
			_, _ = io.WriteString(w, `{}`)
		case "echo":
			_, _ = w.Write(body)
		case "flaky", "boom":
			typ := map[string]string{"flaky": "Transient", "boom": "Boom"}[name]
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
			_ = json.NewEncoder(w).Encode(map[string]any{"errorType": typ, "errorMessage": "try again"})
		default:
			w.Header().Set("X-Amzn-ErrorType", "ResourceNotFoundException")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"Type":"User","message":"Function not found"}`)
		}
	})
	f.srv = httptest.NewServer(mux) // binds 127.0.0.1
	t.Cleanup(f.srv.Close)
	return f
}

// next waits for the next recorded invocation.
func (f *fakeLambda) next(t *testing.T) invocation {
	t.Helper()
	select {
	case inv := <-f.calls:
		return inv
	case <-time.After(15 * time.Second):
		t.Fatal("no Lambda invocation within 15 s")
		return invocation{}
	}
}

func create(t *testing.T, c *sfn.Client, name, def string) string {
	t.Helper()
	out, err := c.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{
		Name: aws.String(name), Definition: aws.String(def), RoleArn: aws.String(role),
	})
	if err != nil {
		t.Fatalf("CreateStateMachine %s: %v", name, err)
	}
	return aws.ToString(out.StateMachineArn)
}

func start(t *testing.T, c *sfn.Client, machine, name, input string) string {
	t.Helper()
	in := &sfn.StartExecutionInput{StateMachineArn: aws.String(machine), Input: aws.String(input)}
	if name != "" {
		in.Name = aws.String(name)
	}
	out, err := c.StartExecution(context.Background(), in)
	if err != nil {
		t.Fatalf("StartExecution: %v", err)
	}
	return aws.ToString(out.ExecutionArn)
}

// wait polls DescribeExecution until the execution is no longer RUNNING.
func wait(t *testing.T, c *sfn.Client, arn string) *sfn.DescribeExecutionOutput {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		out, err := c.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil {
			t.Fatalf("DescribeExecution: %v", err)
		}
		if out.Status != types.ExecutionStatusRunning {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still RUNNING after a minute", arn)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func describe(t *testing.T, c *sfn.Client, arn string) *sfn.DescribeExecutionOutput {
	t.Helper()
	out, err := c.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	if err != nil {
		t.Fatalf("DescribeExecution: %v", err)
	}
	return out
}

func decode(t *testing.T, s *string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(s)), &v); err != nil {
		t.Fatalf("output %q: %v", aws.ToString(s), err)
	}
	return v
}

func wantSucceeded(t *testing.T, out *sfn.DescribeExecutionOutput) map[string]any {
	t.Helper()
	if out.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("status = %s (error %q, cause %q), want SUCCEEDED", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
	}
	if out.StopDate == nil || out.StartDate == nil || out.StopDate.Before(*out.StartDate) {
		t.Errorf("startDate %v, stopDate %v", out.StartDate, out.StopDate)
	}
	return decode(t, out.Output)
}

func wantErr[E error](t *testing.T, err error) {
	t.Helper()
	var target E
	if !errors.As(err, &target) {
		t.Fatalf("error = %v, want %T", err, target)
	}
}

const passChoice = `{
  "StartAt": "Annotate",
  "States": {
    "Annotate": {"Type": "Pass", "Parameters": {"amount.$": "$.amount", "execution.$": "$$.Execution.Id", "name.$": "$$.Execution.Name"}, "Next": "IsLarge"},
    "IsLarge": {"Type": "Choice", "Choices": [{"Variable": "$.amount", "NumericGreaterThanEquals": 100, "Next": "Large"}], "Default": "Small"},
    "Large": {"Type": "Pass", "Result": "large", "ResultPath": "$.size", "End": true},
    "Small": {"Type": "Fail", "Error": "TooSmall", "Cause": "amount below 100"}
  }
}`

// (a) A Pass/Choice machine runs; DescribeExecution, ListExecutions,
// GetExecutionHistory and the machine operations answer as AWS does.
func TestIntegrationPassChoice(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t, Options{})
	ctx := context.Background()
	arn := create(t, c, "pass-choice", passChoice)
	if again := create(t, c, "pass-choice", passChoice); again != arn {
		t.Errorf("second CreateStateMachine = %s, want %s (idempotent)", again, arn)
	}
	_, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String("pass-choice"), Definition: aws.String(strings.Replace(passChoice, "100", "200", 1)), RoleArn: aws.String(role),
	})
	wantErr[*types.StateMachineAlreadyExists](t, err)
	_, err = c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String("broken"), Definition: aws.String(`{"StartAt": "Nowhere", "States": {}}`), RoleArn: aws.String(role),
	})
	wantErr[*types.InvalidDefinition](t, err)

	dm, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	if err != nil || aws.ToString(dm.Definition) != passChoice || aws.ToString(dm.RoleArn) != role || dm.Type != types.StateMachineTypeStandard {
		t.Errorf("DescribeStateMachine = %+v, %v", dm, err)
	}
	lm, err := c.ListStateMachines(ctx, &sfn.ListStateMachinesInput{})
	if err != nil || len(lm.StateMachines) != 1 || aws.ToString(lm.StateMachines[0].StateMachineArn) != arn {
		t.Errorf("ListStateMachines = %+v, %v", lm, err)
	}

	ok := start(t, c, arn, "big", `{"amount": 250}`)
	if want := "arn:aws:states:us-east-1:000000000000:execution:pass-choice:big"; ok != want {
		t.Errorf("execution ARN = %s, want %s", ok, want)
	}
	got := wantSucceeded(t, wait(t, c, ok))
	want := map[string]any{"amount": 250.0, "execution": ok, "name": "big", "size": "large"}
	if !jsonEqual(got, want) {
		t.Errorf("output = %v, want %v", got, want)
	}

	bad := start(t, c, arn, "", `{"amount": 5}`)
	out := wait(t, c, bad)
	if out.Status != types.ExecutionStatusFailed || aws.ToString(out.Error) != "TooSmall" || aws.ToString(out.Cause) != "amount below 100" {
		t.Errorf("small amount: status %s, error %q, cause %q; want FAILED TooSmall", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
	}
	if aws.ToString(out.Input) != `{"amount": 5}` {
		t.Errorf("input = %q", aws.ToString(out.Input))
	}

	for status, want := range map[types.ExecutionStatus][]string{
		types.ExecutionStatusSucceeded: {ok},
		types.ExecutionStatusFailed:    {bad},
		types.ExecutionStatusRunning:   nil,
	} {
		le, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(arn), StatusFilter: status})
		if err != nil {
			t.Fatal(err)
		}
		var gotArns []string
		for _, e := range le.Executions {
			gotArns = append(gotArns, aws.ToString(e.ExecutionArn))
		}
		if strings.Join(gotArns, ",") != strings.Join(want, ",") {
			t.Errorf("ListExecutions(%s) = %v, want %v", status, gotArns, want)
		}
	}

	h, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(ok)})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range h.Events {
		kinds = append(kinds, string(e.Type))
	}
	if len(kinds) < 2 || kinds[0] != "ExecutionStarted" || kinds[len(kinds)-1] != "ExecutionSucceeded" || !strings.Contains(strings.Join(kinds, ","), "ChoiceStateEntered") {
		t.Errorf("history = %v", kinds)
	}

	_, err = c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(ok + "x")})
	wantErr[*types.ExecutionDoesNotExist](t, err)
	_, err = c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(arn + "x")})
	wantErr[*types.StateMachineDoesNotExist](t, err)
	_, err = c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String("not-an-arn")})
	wantErr[*types.InvalidArn](t, err)
	_, err = c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(arn), Input: aws.String("{")})
	wantErr[*types.InvalidExecutionInput](t, err)
	_, err = c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(arn), Name: aws.String("has space")})
	wantErr[*types.InvalidName](t, err)
}

// Recoup's own definitions are accepted (validated and compiled).
func TestIntegrationRecoupDefinitions(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t, Options{})
	for _, name := range statemachine.Names {
		def, err := statemachine.Definition(name)
		if err != nil {
			t.Fatal(err)
		}
		values := map[string]string{}
		for _, p := range statemachine.Placeholders(def) {
			values[p] = statemachine.LambdaARN(region, account, "recoup-"+strings.ToLower(strings.TrimSuffix(p, "FunctionArn")))
		}
		def, err = statemachine.Substitute(def, values)
		if err != nil {
			t.Fatal(err)
		}
		create(t, c, name, def)
	}
}

func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// callback waits for a task token; Catch order checks that States.TaskFailed
// does not catch States.Timeout.
const callback = `{
  "StartAt": "Approve",
  "States": {
    "Approve": {
      "Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
      "Parameters": {
        "FunctionName": "arn:aws:lambda:us-east-1:000000000000:function:approve",
        "Payload": {
          "token.$": "$$.Task.Token",
          "execution.$": "$$.Execution.Id",
          "state.$": "$$.State.Name",
          "entered.$": "$$.State.EnteredTime",
          "input.$": "$$.Execution.Input",
          "customer.$": "$.customer"
        }
      },
      "TimeoutSecondsPath": "$.wait",
      "ResultPath": "$.approval",
      "Catch": [
        {"ErrorEquals": ["Rejected"], "ResultPath": "$.rejection", "Next": "WasRejected"},
        {"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.wrong", "Next": "Wrong"},
        {"ErrorEquals": ["States.Timeout"], "ResultPath": "$.timeout", "Next": "TimedOut"}
      ],
      "Next": "Approved"
    },
    "Approved": {"Type": "Succeed"},
    "WasRejected": {"Type": "Pass", "End": true},
    "TimedOut": {"Type": "Pass", "End": true},
    "Wrong": {"Type": "Fail", "Error": "Wrong", "Cause": "States.TaskFailed caught a timeout"}
  }
}`

// (b, c, d) Callback tasks: the Lambda gets the token and the context;
// SendTaskSuccess resumes with the output at ResultPath; SendTaskFailure's
// error is caught by name; TimeoutSecondsPath gives States.Timeout; tokens
// of ended tasks give TaskTimedOut, foreign tokens InvalidToken.
func TestIntegrationCallback(t *testing.T) {
	t.Parallel()
	fake := newFakeLambda(t)
	c, _ := startServer(t, Options{LambdaEndpoint: fake.srv.URL})
	ctx := context.Background()
	arn := create(t, c, "callback", callback)

	t.Run("success", func(t *testing.T) {
		input := `{"customer": "c-1", "wait": 3600}`
		exec := start(t, c, arn, "", input)
		inv := fake.next(t)
		p := inv.Payload
		token, _ := p["token"].(string)
		if token == "" || p["execution"] != exec || p["state"] != "Approve" || p["customer"] != "c-1" {
			t.Fatalf("payload = %v", p)
		}
		if !jsonEqual(p["input"], map[string]any{"customer": "c-1", "wait": 3600}) {
			t.Errorf("$$.Execution.Input = %v", p["input"])
		}
		if _, err := time.Parse(time.RFC3339, p["entered"].(string)); err != nil {
			t.Errorf("$$.State.EnteredTime = %v: %v", p["entered"], err)
		}
		if s := describe(t, c, exec).Status; s != types.ExecutionStatusRunning {
			t.Fatalf("status while waiting = %s", s)
		}
		if _, err := c.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(token)}); err != nil {
			t.Errorf("SendTaskHeartbeat: %v", err)
		}
		_, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{"verdict": `)})
		wantErr[*types.InvalidOutput](t, err)
		if _, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{"verdict": "approved"}`)}); err != nil {
			t.Fatalf("SendTaskSuccess: %v", err)
		}
		got := wantSucceeded(t, wait(t, c, exec))
		if !jsonEqual(got["approval"], map[string]any{"verdict": "approved"}) || got["customer"] != "c-1" {
			t.Errorf("output = %v, want approval at $.approval", got)
		}
		// The answer is in the history, as AWS records it.
		h, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(exec), ReverseOrder: true})
		if err != nil {
			t.Fatal(err)
		}
		answered := slices.ContainsFunc(h.Events, func(ev types.HistoryEvent) bool {
			d := ev.TaskSucceededEventDetails
			return ev.Type == types.HistoryEventTypeTaskSucceeded && d != nil &&
				aws.ToString(d.Resource) == "invoke.waitForTaskToken" && aws.ToString(d.Output) == `{"verdict": "approved"}`
		})
		if !answered {
			t.Errorf("the history has no TaskSucceeded with the callback's output")
		}
		// (d) The task is over.
		_, err = c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{}`)})
		wantErr[*types.TaskTimedOut](t, err)
	})

	t.Run("failure caught by name", func(t *testing.T) {
		exec := start(t, c, arn, "", `{"customer": "c-2", "wait": 3600}`)
		token := fake.next(t).Payload["token"].(string)
		if _, err := c.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(token), Error: aws.String("Rejected"), Cause: aws.String("not today")}); err != nil {
			t.Fatalf("SendTaskFailure: %v", err)
		}
		got := wantSucceeded(t, wait(t, c, exec))
		if !jsonEqual(got["rejection"], map[string]any{"Error": "Rejected", "Cause": "not today"}) {
			t.Errorf("output = %v, want the rejection at $.rejection", got)
		}
		_, err := c.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(token), Error: aws.String("Rejected")})
		wantErr[*types.TaskTimedOut](t, err)
	})

	t.Run("TimeoutSecondsPath", func(t *testing.T) {
		begin := time.Now()
		exec := start(t, c, arn, "", `{"customer": "c-3", "wait": 1}`)
		token := fake.next(t).Payload["token"].(string)
		got := wantSucceeded(t, wait(t, c, exec))
		if d := time.Since(begin); d < time.Second {
			t.Errorf("timed out after %v, want >= 1 s", d)
		}
		to, _ := got["timeout"].(map[string]any)
		if to["Error"] != "States.Timeout" || got["wrong"] != nil {
			t.Errorf("output = %v, want States.Timeout at $.timeout", got)
		}
		// (d) The token of a timed-out task.
		_, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{}`)})
		wantErr[*types.TaskTimedOut](t, err)
	})

	t.Run("tokens", func(t *testing.T) {
		_, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("not-a-token"), Output: aws.String(`{}`)})
		wantErr[*types.InvalidToken](t, err)
		_, err = c.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String("sfnlocal-v1-" + strings.Repeat("A", 43))})
		wantErr[*types.TaskTimedOut](t, err)
	})
}

const lambdas = `{
  "StartAt": "Echo",
  "States": {
    "Echo": {
      "Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke",
      "Parameters": {"FunctionName": "echo", "Payload": {"x.$": "$.x"}},
      "ResultSelector": {"echoed.$": "$.Payload", "status.$": "$.StatusCode"},
      "ResultPath": "$.result",
      "Next": "Flaky"
    },
    "Flaky": {
      "Type": "Task",
      "Resource": "arn:aws:lambda:us-east-1:000000000000:function:flaky",
      "Parameters": {"retry.$": "$$.State.RetryCount"},
      "Retry": [{"ErrorEquals": ["Transient"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 1}],
      "Catch": [{"ErrorEquals": ["Transient"], "ResultPath": "$.error", "Next": "Boom"}],
      "End": true
    },
    "Boom": {
      "Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
      "Parameters": {"FunctionName": "boom", "Payload": {"token.$": "$$.Task.Token"}},
      "Catch": [{"ErrorEquals": ["Boom"], "ResultPath": "$.boom", "Next": "Missing"}],
      "End": true
    },
    "Missing": {
      "Type": "Task",
      "Resource": "arn:aws:lambda:us-east-1:000000000000:function:missing",
      "Catch": [{"ErrorEquals": ["Lambda.ResourceNotFoundException"], "ResultPath": "$.missing", "Next": "Done"}],
      "End": true
    },
    "Done": {"Type": "Succeed"}
  }
}`

// (e) Lambda results and errors: lambda:invoke wraps the payload; a function
// error with errorType Transient is retried per Retry, then caught by name,
// and $$.State.RetryCount counts the retries; a callback task whose Lambda
// fails fails with its errorType; a missing function is
// Lambda.ResourceNotFoundException.
func TestIntegrationLambdaErrors(t *testing.T) {
	t.Parallel()
	fake := newFakeLambda(t)
	c, _ := startServer(t, Options{LambdaEndpoint: fake.srv.URL})
	arn := create(t, c, "lambdas", lambdas)
	exec := start(t, c, arn, "", `{"x": 1}`)
	var retries []any
	for range 3 {
		inv := fake.next(t)
		retries = append(retries, inv.Payload["retry"])
	}
	got := wantSucceeded(t, wait(t, c, exec))
	if !jsonEqual(retries, []any{0, 1, 2}) {
		t.Errorf("flaky saw RetryCount %v, want [0 1 2] (1 try + 2 retries)", retries)
	}
	select {
	case inv := <-fake.calls:
		t.Errorf("unexpected fourth call %v", inv)
	default:
	}
	if !jsonEqual(got["result"], map[string]any{"echoed": map[string]any{"x": 1}, "status": 200}) {
		t.Errorf("lambda:invoke result = %v", got["result"])
	}
	e, _ := got["error"].(map[string]any)
	if e["Error"] != "Transient" || !strings.Contains(e["Cause"].(string), "try again") {
		t.Errorf("caught error = %v, want Transient with the function's message", got["error"])
	}
	if b, _ := got["boom"].(map[string]any); b["Error"] != "Boom" {
		t.Errorf("callback Lambda failure = %v, want Boom", got["boom"])
	}
	if m, _ := got["missing"].(map[string]any); m["Error"] != "Lambda.ResourceNotFoundException" {
		t.Errorf("missing function = %v", got["missing"])
	}
}

// (f) StartExecution with a name: the same input while running returns the
// same execution; a different input, or any input once it has ended,
// conflicts. StopExecution aborts it and ends its task.
func TestIntegrationStartExecutionIdempotency(t *testing.T) {
	t.Parallel()
	fake := newFakeLambda(t)
	c, _ := startServer(t, Options{LambdaEndpoint: fake.srv.URL})
	ctx := context.Background()
	arn := create(t, c, "callback", callback)
	input := `{"customer": "c-9", "wait": 3600}`
	first, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(arn), Name: aws.String("n1"), Input: aws.String(input)})
	if err != nil {
		t.Fatal(err)
	}
	token := fake.next(t).Payload["token"].(string)
	again, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(arn), Name: aws.String("n1"), Input: aws.String(input)})
	if err != nil {
		t.Fatalf("same name and input while running: %v", err)
	}
	if aws.ToString(again.ExecutionArn) != aws.ToString(first.ExecutionArn) || !again.StartDate.Equal(*first.StartDate) {
		t.Errorf("second start = %s %v, want %s %v", aws.ToString(again.ExecutionArn), again.StartDate, aws.ToString(first.ExecutionArn), first.StartDate)
	}
	_, err = c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(arn), Name: aws.String("n1"), Input: aws.String(`{"customer": "other"}`)})
	wantErr[*types.ExecutionAlreadyExists](t, err)

	if _, err := c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: first.ExecutionArn, Error: aws.String("Stopped"), Cause: aws.String("by the test")}); err != nil {
		t.Fatal(err)
	}
	out := describe(t, c, aws.ToString(first.ExecutionArn))
	if out.Status != types.ExecutionStatusAborted || aws.ToString(out.Error) != "Stopped" || aws.ToString(out.Cause) != "by the test" || out.StopDate == nil {
		t.Errorf("after StopExecution: %s %q %q %v", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause), out.StopDate)
	}
	_, err = c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{}`)})
	wantErr[*types.TaskTimedOut](t, err)
	_, err = c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(arn), Name: aws.String("n1"), Input: aws.String(input)})
	wantErr[*types.ExecutionAlreadyExists](t, err)

	le, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(arn), StatusFilter: types.ExecutionStatusAborted})
	if err != nil || len(le.Executions) != 1 || aws.ToString(le.Executions[0].Name) != "n1" {
		t.Errorf("ListExecutions(ABORTED) = %+v, %v", le, err)
	}
	h, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: first.ExecutionArn, ReverseOrder: true})
	if err != nil || len(h.Events) == 0 || h.Events[0].Type != types.HistoryEventTypeExecutionAborted {
		t.Errorf("last history event = %+v, %v", h, err)
	}
}

// (g) After a restart on the same state folder, machines and finished
// executions are still there; running executions are ABORTED with
// RestartCause and their tokens are over.
func TestIntegrationRestart(t *testing.T) {
	t.Parallel()
	fake := newFakeLambda(t)
	opts := Options{LambdaEndpoint: fake.srv.URL, StateDir: t.TempDir()}
	c, srv := startServer(t, opts)
	ctx := context.Background()
	pass := create(t, c, "pass-choice", passChoice)
	cb := create(t, c, "callback", callback)
	done := start(t, c, pass, "done", `{"amount": 300}`)
	wantOut := aws.ToString(wait(t, c, done).Output)
	running := start(t, c, cb, "running", `{"customer": "c-5", "wait": 3600}`)
	token := fake.next(t).Payload["token"].(string)
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	// A record cut short by a crash is skipped, and later records still
	// start on a line of their own.
	f, err := os.OpenFile(filepath.Join(opts.StateDir, "sfnlocal.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"kind":"end","arn":"`); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()

	c, srv = startServer(t, opts)
	out := describe(t, c, done)
	if out.Status != types.ExecutionStatusSucceeded || aws.ToString(out.Output) != wantOut {
		t.Errorf("finished execution after restart: %s %q, want SUCCEEDED %q", out.Status, aws.ToString(out.Output), wantOut)
	}
	out = describe(t, c, running)
	if out.Status != types.ExecutionStatusAborted || aws.ToString(out.Cause) != RestartCause || out.StopDate == nil {
		t.Errorf("running execution after restart: %s cause %q, want ABORTED %q", out.Status, aws.ToString(out.Cause), RestartCause)
	}
	_, err = c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{}`)})
	wantErr[*types.TaskTimedOut](t, err)
	if again := create(t, c, "pass-choice", passChoice); again != pass {
		t.Errorf("CreateStateMachine after restart = %s, want %s", again, pass)
	}
	_, err = c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(pass), Name: aws.String("done"), Input: aws.String(`{"amount": 300}`)})
	wantErr[*types.ExecutionAlreadyExists](t, err)
	wantSucceeded(t, wait(t, c, start(t, c, pass, "after", `{"amount": 300}`)))
	h, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(running)})
	if err != nil || len(h.Events) != 2 || h.Events[1].Type != types.HistoryEventTypeExecutionAborted {
		t.Errorf("history after restart = %+v, %v", h, err)
	}

	// And once more: the second restart reads the records the first one
	// appended after the cut-short line.
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	c, _ = startServer(t, opts)
	le, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(pass), StatusFilter: types.ExecutionStatusSucceeded})
	if err != nil || len(le.Executions) != 2 {
		t.Errorf("succeeded executions after the second restart = %+v, %v; want done and after", le, err)
	}
}

const scaled = `{
  "StartAt": "Sleep",
  "States": {
    "Sleep": {"Type": "Wait", "Seconds": 3600, "Next": "SleepPath"},
    "SleepPath": {"Type": "Wait", "SecondsPath": "$.delay", "Next": "Park"},
    "Park": {
      "Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
      "Parameters": {"FunctionName": "approve", "Payload": {"token.$": "$$.Task.Token"}},
      "TimeoutSeconds": 3600,
      "ResultPath": "$.wake",
      "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.wake", "Next": "Beat"}],
      "Next": "Beat"
    },
    "Beat": {
      "Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
      "Parameters": {"FunctionName": "approve", "Payload": {"token.$": "$$.Task.Token"}},
      "TimeoutSeconds": 360000,
      "HeartbeatSeconds": 600,
      "ResultPath": "$.beat",
      "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.beat", "Next": "Done"}],
      "Next": "Done"
    },
    "Done": {"Type": "Succeed"}
  }
}`

// --wait-scale shrinks Wait states, callback timeouts and heartbeats, and
// the machine's TimeoutSeconds; a heartbeat timeout is States.HeartbeatTimeout
// and is caught by a Catch on States.Timeout, as in AWS.
func TestIntegrationWaitScale(t *testing.T) {
	t.Parallel()
	fake := newFakeLambda(t)
	c, _ := startServer(t, Options{LambdaEndpoint: fake.srv.URL, WaitScale: 1e-4})
	arn := create(t, c, "scaled", scaled)
	begin := time.Now()
	exec := start(t, c, arn, "", `{"delay": 7200}`)
	got := wantSucceeded(t, wait(t, c, exec))
	// 3600 + 7200 + 3600 + 600 scaled seconds = 1.5 s.
	if d := time.Since(begin); d < 1400*time.Millisecond || d > time.Minute {
		t.Errorf("took %v, want about 1.5 s", d)
	}
	if w, _ := got["wake"].(map[string]any); w["Error"] != "States.Timeout" {
		t.Errorf("wake = %v, want States.Timeout", got["wake"])
	}
	if b, _ := got["beat"].(map[string]any); b["Error"] != "States.HeartbeatTimeout" {
		t.Errorf("beat = %v, want States.HeartbeatTimeout", got["beat"])
	}

	// The machine's own TimeoutSeconds, scaled: 3600 s → 0.36 s.
	timed := create(t, c, "timed", `{"TimeoutSeconds": 3600, "StartAt": "Sleep", "States": {"Sleep": {"Type": "Wait", "Seconds": 36000, "End": true}}}`)
	out := wait(t, c, start(t, c, timed, "", `{}`))
	if out.Status != types.ExecutionStatusTimedOut {
		t.Errorf("status = %s, want TIMED_OUT", out.Status)
	}
}

const mapParallel = `{
  "StartAt": "Each",
  "States": {
    "Each": {
      "Type": "Map",
      "ItemsPath": "$.items",
      "MaxConcurrency": 2,
      "ItemProcessor": {
        "ProcessorConfig": {"Mode": "INLINE"},
        "StartAt": "Wake",
        "States": {
          "Wake": {
            "Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:000000000000:function:echo",
            "Parameters": {"id.$": "$.id", "execution.$": "$$.Execution.Id"},
            "ResultPath": "$.woken",
            "End": true
          }
        }
      },
      "ResultPath": "$.customers",
      "Next": "Both"
    },
    "Both": {
      "Type": "Parallel",
      "Branches": [
        {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "Result": "l", "End": true}}},
        {"StartAt": "Right", "States": {"Right": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "echo", "Payload": {"r": 1}}, "OutputPath": "$.Payload", "End": true}}}
      ],
      "ResultPath": "$.both",
      "Next": "Broken"
    },
    "Broken": {
      "Type": "Task",
      "Resource": "arn:aws:lambda:us-east-1:000000000000:function:echo",
      "Parameters": {"x.$": "$.missing"},
      "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
      "End": true
    },
    "Caught": {"Type": "Succeed"}
  }
}`

// Tasks inside Map iterations and Parallel branches run through the same
// handlers; a Parameters path that finds nothing is States.Runtime, which
// no Catch handles, as in AWS.
func TestIntegrationMapAndParallel(t *testing.T) {
	t.Parallel()
	fake := newFakeLambda(t)
	c, _ := startServer(t, Options{LambdaEndpoint: fake.srv.URL})
	arn := create(t, c, "map", mapParallel)
	exec := start(t, c, arn, "", `{"items": [{"id": 1}, {"id": 2}, {"id": 3}]}`)
	out := wait(t, c, exec)
	if out.Status != types.ExecutionStatusFailed || aws.ToString(out.Error) != "States.Runtime" {
		t.Fatalf("status %s, error %q, cause %q; want FAILED States.Runtime", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
	}
	h, err := c.GetExecutionHistory(context.Background(), &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(exec), MaxResults: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var broken map[string]any
	for _, e := range h.Events {
		if e.Type == types.HistoryEventTypeTaskStateEntered && aws.ToString(e.StateEnteredEventDetails.Name) == "Broken" {
			broken = decode(t, e.StateEnteredEventDetails.Input)
		}
	}
	want := map[string]any{
		"both": []any{"l", map[string]any{"r": 1}},
		"customers": []any{
			map[string]any{"id": 1, "woken": map[string]any{"execution": exec, "id": 1}},
			map[string]any{"id": 2, "woken": map[string]any{"execution": exec, "id": 2}},
			map[string]any{"id": 3, "woken": map[string]any{"execution": exec, "id": 3}},
		},
		"items": []any{map[string]any{"id": 1}, map[string]any{"id": 2}, map[string]any{"id": 3}},
	}
	if !jsonEqual(broken, want) {
		t.Errorf("input of Broken = %v, want %v", broken, want)
	}
}
