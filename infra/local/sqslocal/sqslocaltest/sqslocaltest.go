// Package sqslocaltest runs the SQS emulator (infra/local/sqslocal) inside a
// test, on 127.0.0.1 and a free port, for packages that talk to SQS.
package sqslocaltest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/recoup-dev/recoup/infra/local/sqslocal"
)

// Client starts an in-memory emulator, stopped when t ends, and returns an
// SDK client for it.
func Client(t testing.TB) *sqs.Client {
	t.Helper()
	srv, err := sqslocal.New(sqslocal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	endpoint, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close(context.Background()) })
	return sqs.New(sqs.Options{
		Region:       sqslocal.DefaultRegion,
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(endpoint),
	})
}
