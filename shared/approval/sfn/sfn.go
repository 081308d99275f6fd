// Package sfn is the Step Functions adapter. Resumer resumes executions
// that wait on a task token (the Approval state's
// lambda:invoke.waitForTaskToken): approval.Resumer over SendTaskSuccess
// and SendTaskFailure, and approval.DeliveryChecker over the execution's
// history. Executions starts, inspects and wakes the
// collection cycle's executions (cycle.Executions). The endpoint comes
// from AWS_ENDPOINT_URL_SFN or AWS_ENDPOINT_URL, as for every SDK client.
package sfn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"reflect"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/recoup-dev/recoup/shared/approval"
)

// API is the part of the Step Functions client the resumer uses.
type API interface {
	SendTaskSuccess(ctx context.Context, in *awssfn.SendTaskSuccessInput, optFns ...func(*awssfn.Options)) (*awssfn.SendTaskSuccessOutput, error)
	SendTaskFailure(ctx context.Context, in *awssfn.SendTaskFailureInput, optFns ...func(*awssfn.Options)) (*awssfn.SendTaskFailureOutput, error)
	GetExecutionHistory(ctx context.Context, in *awssfn.GetExecutionHistoryInput, optFns ...func(*awssfn.Options)) (*awssfn.GetExecutionHistoryOutput, error)
}

var (
	_ API                      = (*awssfn.Client)(nil)
	_ approval.Resumer         = (*Resumer)(nil)
	_ approval.DeliveryChecker = (*Resumer)(nil)
)

// Resumer resumes or fails waiting tasks.
type Resumer struct {
	api API
}

// New returns a resumer over api (build it with NewClient).
func New(api API) (*Resumer, error) {
	if api == nil {
		return nil, errors.New("sfn: nil Step Functions client")
	}
	return &Resumer{api: api}, nil
}

// NewClient builds a Step Functions client whose retryer repeats only calls
// that cannot have reached the service or that it refused (throttling, 5xx,
// a connection never made). The SDK's default would also repeat a call
// whose connection broke after sending; if that first call resumed the
// task, the repeat finds the token used and answers TaskTimedOut, and a
// verdict the execution took would be reported as expired.
func NewClient(cfg aws.Config, opts ...func(*awssfn.Options)) *awssfn.Client {
	return awssfn.NewFromConfig(cfg, append([]func(*awssfn.Options){func(o *awssfn.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.Retryables = []retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
				return aws.BoolTernary(retryable(err))
			})}
		})
	}}, opts...)...)
}

// SendTaskSuccess implements approval.Resumer.
func (r *Resumer) SendTaskSuccess(ctx context.Context, token string, output json.RawMessage) error {
	_, err := r.api.SendTaskSuccess(ctx, &awssfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(string(output))})
	return classify("SendTaskSuccess", err)
}

// SendTaskFailure implements approval.Resumer. code and cause are cut to
// the service's limits (256 and 32768 characters).
func (r *Resumer) SendTaskFailure(ctx context.Context, token, code, cause string) error {
	_, err := r.api.SendTaskFailure(ctx, &awssfn.SendTaskFailureInput{TaskToken: aws.String(token),
		Error: aws.String(cut(code, 256)), Cause: aws.String(cut(cause, 32768))})
	return classify("SendTaskFailure", err)
}

// historyPages bounds how far back Delivered reads an execution's history,
// newest first: the verdict it looks for is recent, and a cycle that has
// looped for months has a long history.
const historyPages = 10

// Delivered implements approval.DeliveryChecker: it reads the execution's
// history, newest first, for a callback task that succeeded with output
// (compared as JSON values, not bytes).
func (r *Resumer) Delivered(ctx context.Context, execution string, output json.RawMessage) (bool, error) {
	var want any
	if err := json.Unmarshal(output, &want); err != nil {
		return false, fmt.Errorf("sfn: delivered: the verdict is not JSON: %w", err)
	}
	pages := awssfn.NewGetExecutionHistoryPaginator(r.api, &awssfn.GetExecutionHistoryInput{
		ExecutionArn: aws.String(execution), ReverseOrder: true, MaxResults: 1000})
	for n := 0; pages.HasMorePages() && n < historyPages; n++ {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return false, classify("GetExecutionHistory", err)
		}
		for _, ev := range page.Events {
			d := ev.TaskSucceededEventDetails
			if ev.Type != sfntypes.HistoryEventTypeTaskSucceeded || d == nil || !strings.HasSuffix(aws.ToString(d.Resource), ".waitForTaskToken") {
				continue
			}
			var got any
			if json.Unmarshal([]byte(aws.ToString(d.Output)), &got) == nil && reflect.DeepEqual(got, want) {
				return true, nil
			}
		}
	}
	return false, nil
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// Error is a failed call. It names the operation, the service's error code
// and the HTTP status, never the service's message or the request, which
// could quote the task token. It unwraps to approval.ErrExpired when the
// task no longer waits and to approval.ErrTransient when a later call may
// succeed.
type Error struct {
	Op     string
	Code   string
	Status int
	class  error
}

func (e *Error) Error() string {
	s := "step functions " + e.Op + ": " + e.Code
	if e.Status != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.class != nil {
		s += ": " + e.class.Error()
	}
	return s
}

// Unwrap gives the error's class, nil when permanent.
func (e *Error) Unwrap() error { return e.class }

// ended are the codes saying the task no longer waits: it timed out, the
// execution stopped, or the token was used or never valid.
var ended = map[string]bool{"TaskTimedOut": true, "InvalidToken": true, "TaskDoesNotExist": true}

func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		e := &Error{Op: op, Code: ae.ErrorCode()}
		var re *smithyhttp.ResponseError
		if errors.As(err, &re) {
			e.Status = re.HTTPStatusCode()
		}
		switch {
		case ended[e.Code]:
			e.class = approval.ErrExpired
		case refused(e.Code, e.Status, ae.ErrorFault()):
			e.class = approval.ErrTransient
		}
		return e
	}
	var rse *smithyhttp.RequestSendError
	switch {
	case errors.As(err, &rse):
		return &Error{Op: op, Code: "NoAnswer", class: approval.ErrTransient}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &Error{Op: op, Code: "Interrupted", class: approval.ErrTransient}
	}
	var de *smithy.DeserializationError
	if errors.As(err, &de) {
		return &Error{Op: op, Code: "UnreadableAnswer", class: approval.ErrTransient}
	}
	// Before sending: parameters, credentials, endpoint, signing.
	return &Error{Op: op, Code: "NotSent"}
}

// refused reports whether the service declined the call in a way a later
// call may not be: throttled or a server fault.
func refused(code string, status int, fault smithy.ErrorFault) bool {
	_, throttle := retry.DefaultThrottleErrorCodes[code]
	return throttle || code == "KmsThrottlingException" || code == "ServiceUnavailable" || code == "InternalFailure" ||
		status == 429 || status >= 500 || fault == smithy.FaultServer
}

// retryable is what NewClient's retryer repeats: refusals, and
// connections that were never made.
func retryable(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if ended[ae.ErrorCode()] {
			return false
		}
		status := 0
		var re *smithyhttp.ResponseError
		if errors.As(err, &re) {
			status = re.HTTPStatusCode()
		}
		return refused(ae.ErrorCode(), status, ae.ErrorFault())
	}
	var rse *smithyhttp.RequestSendError
	if errors.As(err, &rse) {
		var op *net.OpError
		return errors.As(rse.Err, &op) && op.Op == "dial"
	}
	return false
}
