// Package localtest gates integration tests on the local stack: `make
// integration` (and so `make test`) starts a stack, exports its endpoints and
// sets RECOUP_INTEGRATION=1. A plain `go test` skips these tests; under CI a
// missing stack fails them instead, so CI can never pass by skipping.
package localtest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/recoup-dev/recoup/shared/awsconfig"
)

// Require skips t unless the local stack is configured, and fails it when
// running under CI without one. Each name in vars must be set too.
func Require(t testing.TB, vars ...string) {
	t.Helper()
	missing := ""
	for _, v := range append([]string{"RECOUP_INTEGRATION"}, vars...) {
		if os.Getenv(v) == "" {
			missing = v
			break
		}
	}
	if missing == "" {
		// Tests must never reach real AWS (or its credential endpoints):
		// every endpoint they may use has to be on loopback.
		if os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") == "" && os.Getenv("AWS_ENDPOINT_URL") == "" {
			t.Fatal("RECOUP_INTEGRATION is set but no AWS_ENDPOINT_URL_DYNAMODB or AWS_ENDPOINT_URL: refusing to run against real AWS")
		}
		for _, v := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_KINESIS", "AWS_ENDPOINT_URL_LAMBDA", "AWS_ENDPOINT_URL_SQS", "RECOUP_SQS_ENDPOINT",
			"AWS_ENDPOINT_URL_SFN", "AWS_ENDPOINT_URL_SESV2", "AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2", "AWS_ENDPOINT_URL_CONNECT", "AWS_ENDPOINT_URL_BEDROCK_RUNTIME"} {
			if e := os.Getenv(v); e != "" && !awsconfig.IsLoopback(e) {
				t.Fatalf("%s=%s is not a loopback address; integration tests only talk to 127.0.0.1", v, e)
			}
		}
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not set under CI: run integration tests through `make test`", missing)
	}
	t.Skipf("needs the local stack (%s is not set): run `make integration`", missing)
}

// DynamoDB returns a client for the local stack's DynamoDB and a table
// prefix no other test uses, after Require. The caller creates the tables
// (dynamo.EnsureTables), which this package cannot import: the store's own
// tests use it.
func DynamoDB(t testing.TB) (*dynamodb.Client, string) {
	t.Helper()
	Require(t)
	cfg, err := awsconfig.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return awsconfig.DynamoDB(cfg), fmt.Sprintf("t%d-", time.Now().UnixNano())
}

// SQS returns a client for the local stack's SQS emulator
// (RECOUP_SQS_ENDPOINT, which `make integration` sets) and a queue name no
// other test uses, after Require. The caller creates the queue.
func SQS(t testing.TB) (*sqs.Client, string) {
	t.Helper()
	Require(t, "RECOUP_SQS_ENDPOINT")
	cfg, err := awsconfig.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	endpoint := os.Getenv("RECOUP_SQS_ENDPOINT")
	client := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = &endpoint })
	return client, fmt.Sprintf("t%d", time.Now().UnixNano())
}

// Invoke calls a function on the local Lambda host (AWS_ENDPOINT_URL_LAMBDA)
// with req as JSON. A function error is returned as its payload in fnErr
// (the test decides whether it expected one); otherwise the reply is
// decoded into resp.
func Invoke(t testing.TB, function string, req, resp any) (fnErr string) {
	t.Helper()
	Require(t, "AWS_ENDPOINT_URL_LAMBDA")
	ctx := context.Background()
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	out, err := lambda.NewFromConfig(cfg).Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(function), Payload: payload})
	if err != nil {
		t.Fatalf("invoke %s at %s: %v", function, os.Getenv("AWS_ENDPOINT_URL_LAMBDA"), err)
	}
	if out.FunctionError != nil {
		return string(out.Payload)
	}
	if err := json.Unmarshal(out.Payload, resp); err != nil {
		t.Fatalf("decode the reply of %s %s: %v", function, out.Payload, err)
	}
	return ""
}
