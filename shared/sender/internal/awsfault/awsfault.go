// Package awsfault sorts errors from aws-sdk-go-v2 calls into the sender's
// classes (transient, permanent, in doubt), and gives the SDK clients of
// at-most-once senders a retryer that repeats only what cannot have been
// sent.
package awsfault

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/recoup-dev/recoup/shared/sender"
)

// Classify turns an SDK error into a *sender.ProviderError. codes gives the
// class of a service's own error codes; other API errors are transient when
// they are throttling, 429 or 5xx and permanent otherwise.
//
// The transport decides the rest. A request that never left (the dial
// failed) is transient. One that may have reached the provider (the
// connection broke or timed out afterwards, the answer could not be read,
// the context ended mid-call) is in doubt: for e-mail and texts that means
// "do not send again".
func Classify(err error, codes map[string]sender.Class) *sender.ProviderError {
	if err == nil {
		return nil
	}
	var pe *sender.ProviderError
	if errors.As(err, &pe) {
		return pe
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code := ae.ErrorCode()
		status := 0
		var he interface{ HTTPStatusCode() int }
		if errors.As(err, &he) {
			status = he.HTTPStatusCode()
		}
		out := &sender.ProviderError{Code: code, Err: err}
		if status != 0 {
			out.Detail = fmt.Sprintf("HTTP %d", status)
		}
		_, throttle := retry.DefaultThrottleErrorCodes[code]
		_, retryable := retry.DefaultRetryableErrorCodes[code]
		c, known := codes[code]
		switch {
		case known:
			out.Class = c
		case throttle || retryable || status == 429 || status >= 500 || ae.ErrorFault() == smithy.FaultServer:
			out.Class = sender.ClassTransient
		default:
			out.Class = sender.ClassPermanent
		}
		return out
	}
	var ipe smithy.InvalidParamsError
	var se *smithy.SerializationError
	if errors.As(err, &ipe) || errors.As(err, &se) {
		return &sender.ProviderError{Class: sender.ClassPermanent, Code: "InvalidParameters", Detail: "the SDK refused the request", Err: err}
	}
	var de *smithy.DeserializationError
	if errors.As(err, &de) {
		return &sender.ProviderError{Class: sender.ClassInDoubt, Code: "UnreadableAnswer", Detail: "the provider's answer could not be read", Err: err}
	}
	var rse *smithyhttp.RequestSendError
	if errors.As(err, &rse) {
		// The transport's text names the URL and the network failure, no
		// personal data.
		if neverSent(rse.Err) {
			return &sender.ProviderError{Class: sender.ClassTransient, Code: "NotSent", Detail: rse.Err.Error(), Err: err}
		}
		return &sender.ProviderError{Class: sender.ClassInDoubt, Code: "NoAnswer", Detail: rse.Err.Error(), Err: err}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &sender.ProviderError{Class: sender.ClassInDoubt, Code: "Interrupted", Detail: "the call was cut off", Err: err}
	}
	// What is left failed before the transport: credentials, endpoint
	// resolution, signing. Nothing was sent.
	return &sender.ProviderError{Class: sender.ClassTransient, Code: "NotSent", Detail: "failed before sending", Err: err}
}

// neverSent reports whether a transport error proves the request never
// reached the provider: the connection was not established.
func neverSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	return err != nil && strings.Contains(err.Error(), "connection refused")
}

// Retryer returns an SDK retryer that retries only errors Classify calls
// transient. The SDK's default also retries a reset or timed-out
// connection, which may have sent the message: for e-mail and texts that
// could send it twice.
func Retryer(codes map[string]sender.Class) aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.Retryables = []retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
			return aws.BoolTernary(Classify(err, codes).Class == sender.ClassTransient)
		})}
	})
}

// Receipt turns a successful send call's message id into a receipt from
// provider; an answer without one is in doubt (the provider may have sent
// the message, and nothing identifies it).
func Receipt(provider string, id *string, at time.Time) (sender.Receipt, error) {
	if aws.ToString(id) == "" {
		return sender.Receipt{}, &sender.ProviderError{Class: sender.ClassInDoubt, Code: "NoMessageId",
			Detail: provider + " answered without a message id"}
	}
	return sender.Receipt{Provider: provider, ProviderID: *id, At: at.UTC()}, nil
}
