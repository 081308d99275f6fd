package awsfault

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/recoup-dev/recoup/shared/sender"
)

// apiErr is an API error as the SDK returns it: the service's error inside
// the HTTP response error.
func apiErr(status int, code string, fault smithy.ErrorFault) error {
	return &smithy.OperationError{ServiceID: "SESv2", OperationName: "SendEmail", Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
			Err:      &smithy.GenericAPIError{Code: code, Message: "about pat@example.com", Fault: fault},
		}}}
}

func TestClassify(t *testing.T) {
	codes := map[string]sender.Class{"ConflictException": sender.ClassPermanent, "ServiceQuotaExceededException": sender.ClassTransient}
	tests := []struct {
		name       string
		err        error
		class      sender.Class
		code, text string
	}{
		{"a validation error is permanent", apiErr(400, "ValidationException", smithy.FaultClient), sender.ClassPermanent, "ValidationException",
			"permanent provider error ValidationException (HTTP 400)"},
		{"the service's own code decides", apiErr(400, "ServiceQuotaExceededException", smithy.FaultClient), sender.ClassTransient, "ServiceQuotaExceededException", ""},
		{"opted out at the provider is permanent", apiErr(400, "ConflictException", smithy.FaultClient), sender.ClassPermanent, "ConflictException", ""},
		{"throttling by code is transient", apiErr(400, "ThrottlingException", smithy.FaultClient), sender.ClassTransient, "ThrottlingException", ""},
		{"TooManyRequests is transient", apiErr(429, "TooManyRequestsException", smithy.FaultClient), sender.ClassTransient, "TooManyRequestsException", ""},
		{"an unknown 5xx is transient", apiErr(503, "ServiceUnavailable", smithy.FaultUnknown), sender.ClassTransient, "ServiceUnavailable", ""},
		{"a server fault is transient", apiErr(400, "Odd", smithy.FaultServer), sender.ClassTransient, "Odd", ""},
		{"a refused connection never sent", &smithyhttp.RequestSendError{Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}},
			sender.ClassTransient, "NotSent", ""},
		{"a broken answer may have sent", &smithyhttp.RequestSendError{Err: io.ErrUnexpectedEOF}, sender.ClassInDoubt, "NoAnswer", ""},
		{"an unreadable answer may have sent", &smithy.DeserializationError{Err: errors.New("bad json")}, sender.ClassInDoubt, "UnreadableAnswer", ""},
		{"a cut-off call may have sent", fmt.Errorf("op: %w", context.DeadlineExceeded), sender.ClassInDoubt, "Interrupted", ""},
		{"parameters the SDK refuses are permanent", smithy.InvalidParamsError{Context: "SendEmailInput"}, sender.ClassPermanent, "InvalidParameters", ""},
		{"a failure before sending is transient", errors.New("failed to retrieve credentials"), sender.ClassTransient, "NotSent", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pe := Classify(tc.err, codes)
			if pe.Class != tc.class || pe.Code != tc.code {
				t.Errorf("Classify = %s %s, want %s %s", pe.Class, pe.Code, tc.class, tc.code)
			}
			if tc.text != "" && pe.Error() != tc.text {
				t.Errorf("Error() = %q, want %q", pe.Error(), tc.text)
			}
			if pe.Err == nil {
				t.Errorf("the SDK error is not kept in Err")
			}
		})
	}
	if Classify(nil, codes) != nil {
		t.Error("Classify(nil) is not nil")
	}
}

// TestRetryerRepeatsOnlyWhatCannotHaveSent: the SDK's default would retry a
// reset connection, which may have delivered the message.
func TestRetryerRepeatsOnlyWhatCannotHaveSent(t *testing.T) {
	r := Retryer(nil)
	tests := []struct {
		err  error
		want bool
	}{
		{apiErr(429, "TooManyRequestsException", smithy.FaultClient), true},
		{apiErr(500, "InternalServiceErrorException", smithy.FaultServer), true},
		{&smithyhttp.RequestSendError{Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}, true},
		{&smithyhttp.RequestSendError{Err: &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}}, false},
		{apiErr(400, "MessageRejected", smithy.FaultClient), false},
	}
	for _, tc := range tests {
		if got := r.IsErrorRetryable(tc.err); got != tc.want {
			t.Errorf("IsErrorRetryable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// A send answered with a message id is a receipt; one answered without
// any is in doubt, never a receipt with an empty id.
func TestReceipt(t *testing.T) {
	at := time.Date(2026, 5, 4, 15, 4, 5, 0, time.FixedZone("EDT", -4*3600))
	id := "0100018f-abc"
	empty := ""
	for _, tc := range []struct {
		name    string
		id      *string
		want    sender.Receipt
		inDoubt bool
	}{
		{"with an id", &id, sender.Receipt{Provider: sender.ProviderSES, ProviderID: id, At: at.UTC()}, false},
		{"no id field", nil, sender.Receipt{}, true},
		{"an empty id", &empty, sender.Receipt{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Receipt(sender.ProviderSES, tc.id, at)
			if got != tc.want {
				t.Errorf("receipt %+v, want %+v", got, tc.want)
			}
			var pe *sender.ProviderError
			switch {
			case !tc.inDoubt && err != nil:
				t.Errorf("error %v, want none", err)
			case tc.inDoubt && (!errors.As(err, &pe) || pe.Class != sender.ClassInDoubt || pe.Code != "NoMessageId"):
				t.Errorf("error %v, want in doubt, code NoMessageId", err)
			}
		})
	}
}
