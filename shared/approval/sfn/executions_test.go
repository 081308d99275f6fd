package sfn_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/recoup-dev/recoup/shared/approval/sfn"
	"github.com/recoup-dev/recoup/shared/cycle"
)

// answer is the service's reply to one operation: a JSON body, or an
// error type with its status.
type answer struct {
	status int
	body   string
}

func newExecutions(t *testing.T, answers map[string]answer, seen *[]map[string]any) *sfn.Executions {
	t.Helper()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := r.Header.Get("X-Amz-Target")
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		if err := json.Unmarshal(raw, &body); err != nil || r.Header.Get("Content-Type") != "application/x-amz-json-1.0" {
			t.Errorf("%s: body %s (%v), content type %q", op, raw, err, r.Header.Get("Content-Type"))
		}
		body["op"] = op
		*seen = append(*seen, body)
		a, ok := answers[op]
		if !ok {
			t.Errorf("unexpected %s", op)
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		if a.status != 0 {
			w.WriteHeader(a.status)
		}
		io.WriteString(w, a.body)
	}))
	t.Cleanup(hs.Close)
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""), RetryMaxAttempts: 1}
	e, err := sfn.NewExecutions(sfn.NewClient(cfg, func(o *awssfn.Options) { o.BaseEndpoint = aws.String(hs.URL) }))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

const (
	machineARN = "arn:aws:states:us-east-1:000000000000:stateMachine:recoup-cycle"
	execARN    = "arn:aws:states:us-east-1:000000000000:execution:recoup-cycle:acme-C1-20260310"
)

func TestExecutions(t *testing.T) {
	ctx := context.Background()
	var seen []map[string]any
	e := newExecutions(t, map[string]answer{
		"AWSStepFunctions.StartExecution":    {body: `{"executionArn":"` + execARN + `","startDate":1.7e9}`},
		"AWSStepFunctions.DescribeExecution": {body: `{"executionArn":"` + execARN + `","stateMachineArn":"` + machineARN + `","status":"RUNNING","startDate":1.7e9}`},
		"AWSStepFunctions.SendTaskSuccess":   {status: 400, body: `{"__type":"com.amazonaws.swf.service.v2.model#TaskTimedOut","message":"gone"}`},
	}, &seen)
	arn, err := e.Start(ctx, machineARN, "acme-C1-20260310", []byte(`{"tenant":"acme"}`))
	if err != nil || arn != execARN {
		t.Fatalf("start: %q %v", arn, err)
	}
	if running, err := e.Running(ctx, execARN); err != nil || !running {
		t.Errorf("running: %v %v", running, err)
	}
	if err := e.SendTaskSuccess(ctx, "tok", json.RawMessage(`{"reason":"x"}`)); !errors.Is(err, cycle.ErrTaskGone) {
		t.Errorf("a timed-out task: %v, want ErrTaskGone", err)
	}
	if len(seen) != 3 || seen[0]["name"] != "acme-C1-20260310" || seen[0]["stateMachineArn"] != machineARN || seen[0]["input"] != `{"tenant":"acme"}` ||
		seen[2]["taskToken"] != "tok" || seen[2]["output"] != `{"reason":"x"}` {
		t.Errorf("requests %v", seen)
	}
}

func TestExecutionsErrors(t *testing.T) {
	ctx := context.Background()
	var seen []map[string]any
	e := newExecutions(t, map[string]answer{
		"AWSStepFunctions.StartExecution":    {status: 400, body: `{"__type":"ExecutionAlreadyExists","message":"exists"}`},
		"AWSStepFunctions.DescribeExecution": {status: 400, body: `{"__type":"ExecutionDoesNotExist","message":"no"}`},
		"AWSStepFunctions.SendTaskSuccess":   {status: 500, body: `{"__type":"ServiceUnavailable","message":"down"}`},
	}, &seen)
	if _, err := e.Start(ctx, machineARN, "n", []byte(`{}`)); !errors.Is(err, cycle.ErrAlreadyRan) {
		t.Errorf("a used name: %v, want ErrAlreadyRan", err)
	}
	if running, err := e.Running(ctx, execARN); err != nil || running {
		t.Errorf("an unknown execution: %v %v", running, err)
	}
	if err := e.SendTaskSuccess(ctx, "tok", json.RawMessage(`{}`)); err == nil || errors.Is(err, cycle.ErrTaskGone) {
		t.Errorf("a service fault: %v, want a failure that is not ErrTaskGone", err)
	}
}
