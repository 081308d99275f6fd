package sfn_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/shared/approval"
	"github.com/recoup-dev/recoup/shared/approval/sfn"
)

// stepFunctions is an httptest stand-in for the awsJson1_0 protocol: it
// checks each request's shape and answers with the next scripted reply.
type stepFunctions struct {
	t       *testing.T
	mu      sync.Mutex
	replies []reply
	got     []call
}

type reply struct {
	status    int
	errorType string // sent as __type in the body (and, when header, as X-Amzn-ErrorType)
	header    bool
	hangUp    bool // close the connection without answering
}

type call struct {
	Target string
	Body   map[string]string
}

func (s *stepFunctions) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := s.t
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		t.Errorf("request %s %s, want POST /", r.Method, r.URL.Path)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.0" {
		t.Errorf("Content-Type %q", ct)
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		t.Errorf("request not signed: %q", r.Header.Get("Authorization"))
	}
	target := r.Header.Get("X-Amz-Target")
	raw, _ := io.ReadAll(r.Body)
	var body map[string]string
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Errorf("body %s: %v", raw, err)
	}
	s.mu.Lock()
	s.got = append(s.got, call{Target: target, Body: body})
	var rp reply
	if len(s.replies) > 0 {
		rp, s.replies = s.replies[0], s.replies[1:]
	}
	s.mu.Unlock()
	if rp.hangUp {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if rp.status == 0 || rp.status == http.StatusOK {
		io.WriteString(w, "{}")
		return
	}
	if rp.header {
		w.Header().Set("X-Amzn-ErrorType", rp.errorType+":http://internal.amazon.com/coral/com.amazonaws.swf.service.v2.model/")
	}
	w.WriteHeader(rp.status)
	typ := rp.errorType
	if !rp.header {
		typ = "com.amazonaws.swf.service.v2.model#" + typ
	}
	json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": "Task Timed Out: 'Provided task does not exist anymore' token=SECRET-TOKEN"})
}

func (s *stepFunctions) calls() []call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]call(nil), s.got...)
}

func newResumer(t *testing.T, replies ...reply) (*sfn.Resumer, *stepFunctions) {
	t.Helper()
	fake := &stepFunctions{t: t, replies: replies}
	hs := httptest.NewServer(fake)
	t.Cleanup(hs.Close)
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	client := sfn.NewClient(cfg, func(o *awssfn.Options) {
		o.BaseEndpoint = aws.String(hs.URL)
		o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, time.Millisecond)
	})
	r, err := sfn.New(client)
	if err != nil {
		t.Fatal(err)
	}
	return r, fake
}

const token = "AQCEAAAAKgAAAAMAAAAAAAAAAZ/SECRET-TOKEN"

func TestSendTaskSuccessSpeaksAWSJSON10(t *testing.T) {
	r, fake := newResumer(t)
	out := json.RawMessage(`{"verdict":"approved","by":"col-7","at":"2025-06-02T09:00:00Z"}`)
	if err := r.SendTaskSuccess(context.Background(), token, out); err != nil {
		t.Fatal(err)
	}
	want := []call{{Target: "AWSStepFunctions.SendTaskSuccess", Body: map[string]string{"taskToken": token, "output": string(out)}}}
	if diff := cmp.Diff(want, fake.calls()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestSendTaskFailureSpeaksAWSJSON10(t *testing.T) {
	r, fake := newResumer(t)
	if err := r.SendTaskFailure(context.Background(), token, approval.FailureInvalid, "approval: customer: is required"); err != nil {
		t.Fatal(err)
	}
	want := []call{{Target: "AWSStepFunctions.SendTaskFailure", Body: map[string]string{"taskToken": token,
		"error": approval.FailureInvalid, "cause": "approval: customer: is required"}}}
	if diff := cmp.Diff(want, fake.calls()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestErrorsAreClassified(t *testing.T) {
	tests := []struct {
		name     string
		replies  []reply
		want     error // nil: permanent
		code     string
		requests int
	}{
		{"task timed out", []reply{{status: 400, errorType: "TaskTimedOut"}}, approval.ErrExpired, "TaskTimedOut", 1},
		{"task timed out, type in the header", []reply{{status: 400, errorType: "TaskTimedOut", header: true}}, approval.ErrExpired, "TaskTimedOut", 1},
		{"invalid token", []reply{{status: 400, errorType: "InvalidToken"}}, approval.ErrExpired, "InvalidToken", 1},
		{"task does not exist", []reply{{status: 400, errorType: "TaskDoesNotExist"}}, approval.ErrExpired, "TaskDoesNotExist", 1},
		{"throttled, then through", []reply{{status: 400, errorType: "ThrottlingException"}, {}}, nil, "", 2},
		{"throttled throughout", []reply{{status: 400, errorType: "ThrottlingException"}, {status: 400, errorType: "ThrottlingException"},
			{status: 400, errorType: "ThrottlingException"}}, approval.ErrTransient, "ThrottlingException", 3},
		{"unavailable throughout", []reply{{status: 503, errorType: "ServiceUnavailable"}, {status: 503, errorType: "ServiceUnavailable"},
			{status: 500, errorType: "InternalFailure"}}, approval.ErrTransient, "InternalFailure", 3},
		{"KMS throttled", []reply{{status: 400, errorType: "KmsThrottlingException"}, {status: 400, errorType: "KmsThrottlingException"},
			{status: 400, errorType: "KmsThrottlingException"}}, approval.ErrTransient, "KmsThrottlingException", 3},
		{"output too large", []reply{{status: 400, errorType: "InvalidOutput"}}, nil, "InvalidOutput", 1},
		{"access denied", []reply{{status: 400, errorType: "AccessDeniedException"}}, nil, "AccessDeniedException", 1},
		// The call may have resumed the task: not repeated, reported transient.
		{"connection dropped", []reply{{hangUp: true}, {}}, approval.ErrTransient, "NoAnswer", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, fake := newResumer(t, tc.replies...)
			err := r.SendTaskSuccess(context.Background(), token, json.RawMessage(`{"verdict":"approved"}`))
			if n := len(fake.calls()); n != tc.requests {
				t.Errorf("%d requests, want %d", n, tc.requests)
			}
			if tc.code == "" {
				if err != nil {
					t.Fatalf("err %v, want success", err)
				}
				return
			}
			var e *sfn.Error
			if !errors.As(err, &e) || e.Code != tc.code {
				t.Fatalf("err %v, want code %s", err, tc.code)
			}
			for _, class := range []error{approval.ErrExpired, approval.ErrTransient} {
				if errors.Is(err, class) != (class == tc.want) {
					t.Errorf("errors.Is(%v, %v) = %v", err, class, !(class == tc.want))
				}
			}
			if strings.Contains(err.Error(), "SECRET-TOKEN") {
				t.Errorf("the error quotes the token or the service's message: %v", err)
			}
		})
	}
}

func TestNewRefusesNil(t *testing.T) {
	if _, err := sfn.New(nil); err == nil {
		t.Error("nil client accepted")
	}
}

// TestDeliveredReadsTheHistory: Delivered pages through the execution's
// history newest first (awsJson1_0 GetExecutionHistory, reverseOrder) and
// finds a callback task that succeeded with the verdict, compared as JSON
// values; a Lambda task's output or another verdict is not it.
func TestDeliveredReadsTheHistory(t *testing.T) {
	const arn = "arn:aws:states:us-east-1:000000000000:execution:recoup-cycle:acme-C1-20261102"
	verdict := `{"verdict":"approved","by":"col-7","at":"2026-11-02T09:00:00Z"}`
	event := func(id int, resource, output string) map[string]any {
		return map[string]any{"id": id, "type": "TaskSucceeded", "timestamp": 1.7e9,
			"taskSucceededEventDetails": map[string]any{"resourceType": "lambda", "resource": resource, "output": output}}
	}
	pages := map[string]map[string]any{
		"": {"events": []any{event(9, "invoke", verdict), event(8, "invoke.waitForTaskToken",
			`{"verdict":"rejected","by":"col-7","at":"2026-11-02T09:00:00Z"}`)}, "nextToken": "page-2"},
		"page-2": {"events": []any{event(5, "invoke.waitForTaskToken",
			`{"at":"2026-11-02T09:00:00Z", "by":"col-7","verdict":"approved"}`)}},
	}
	var seen []string
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			ExecutionArn string `json:"executionArn"`
			ReverseOrder bool   `json:"reverseOrder"`
			MaxResults   int    `json:"maxResults"`
			NextToken    string `json:"nextToken"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("body: %v", err)
		}
		if target := r.Header.Get("X-Amz-Target"); target != "AWSStepFunctions.GetExecutionHistory" || body.ExecutionArn != arn ||
			!body.ReverseOrder || body.MaxResults != 1000 {
			t.Errorf("request %s %+v, want GetExecutionHistory of %s, newest first, 1000 a page", target, body, arn)
		}
		seen = append(seen, body.NextToken)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		json.NewEncoder(w).Encode(pages[body.NextToken])
	}))
	defer hs.Close()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	r, err := sfn.New(sfn.NewClient(cfg, func(o *awssfn.Options) { o.BaseEndpoint = aws.String(hs.URL) }))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		output string
		want   bool
		pages  []string
	}{
		{verdict, true, []string{"", "page-2"}},
		{`{"verdict":"edited","by":"col-7","at":"2026-11-02T09:00:00Z"}`, false, []string{"", "page-2"}},
	} {
		seen = nil
		got, err := r.Delivered(context.Background(), arn, json.RawMessage(tc.output))
		if err != nil || got != tc.want {
			t.Errorf("Delivered(%s) = %v, %v; want %v", tc.output, got, err, tc.want)
		}
		if diff := cmp.Diff(tc.pages, seen); diff != "" {
			t.Errorf("pages read (-want +got):\n%s", diff)
		}
	}
	if _, err := r.Delivered(context.Background(), arn, json.RawMessage(`not json`)); err == nil {
		t.Error("Delivered of a verdict that is not JSON: no error")
	}
}
