package local

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/recoup-dev/recoup/shared/stream/kinesis"
	sqsq "github.com/recoup-dev/recoup/shared/stream/sqs"
)

// The engagement stream and its dead-letter queue on the local stack; the
// Lambda host's configuration (lambdahost.json) maps the same names to the
// engagement function. In AWS the CDK app creates them.
const (
	EngagementStream = "recoup-engagement"
	EngagementDLQ    = "recoup-engagement-dlq"
	EngagementShards = 4
	// EngagementFailures is the stream event source's on-failure
	// destination (lambdahost.json's on_failure_queue): batches the
	// engagement function still failed after its retries.
	EngagementFailures = "recoup-engagement-failures"
	// WritebackQueue holds the actions for the tenant's ERP (holds, notes,
	// promises, disputes) and the dunning letters the Send step queues (the
	// send function's RECOUP_LETTER_QUEUE_URL): FIFO, one message group
	// per customer, read by the writeback function. After
	// WritebackMaxReceives receives a message moves to WritebackDLQ, where
	// `recoup writeback replay` finds it.
	WritebackQueue       = "recoup-writeback.fifo"
	WritebackDLQ         = "recoup-writeback-dlq.fifo"
	WritebackMaxReceives = 10
	// WritebackRejects keeps messages on the write-back queue that are not
	// actions, with the reason (the writeback function's RECOUP_DLQ).
	WritebackRejects = "recoup-writeback-rejects"
	// writebackVisibility is six times the writeback function's timeout,
	// as AWS advises for a queue feeding a function, so a slow batch is
	// not received a second time while it still runs.
	writebackVisibility = "360"
)

// dlqRetention keeps dead letters for SQS's maximum, 14 days.
const dlqRetention = "1209600"

// CreateStreams creates the engagement stream (waiting until it is active)
// and its dead-letter queue if they are missing, and says so on w.
func CreateStreams(ctx context.Context, cfg aws.Config, w io.Writer) error {
	pub, err := kinesis.NewPublisher(awskinesis.NewFromConfig(cfg), EngagementStream)
	if err != nil {
		return err
	}
	if err := pub.EnsureStream(ctx, EngagementShards); err != nil {
		return fmt.Errorf("kinesis: %w", err)
	}
	fmt.Fprintf(w, "stream %-26s active\n", EngagementStream)
	url, err := sqsq.EnsureQueue(ctx, awssqs.NewFromConfig(cfg), EngagementDLQ, map[string]string{"MessageRetentionPeriod": dlqRetention})
	if err != nil {
		return fmt.Errorf("sqs: %w", err)
	}
	fmt.Fprintf(w, "queue  %-26s %s\n", EngagementDLQ, url)
	for _, q := range []struct {
		name  string
		attrs map[string]string
	}{
		{WritebackDLQ, map[string]string{"FifoQueue": "true", "MessageRetentionPeriod": dlqRetention}},
		{WritebackQueue, map[string]string{"FifoQueue": "true", "VisibilityTimeout": writebackVisibility,
			"RedrivePolicy": fmt.Sprintf(`{"deadLetterTargetArn":"arn:aws:sqs:%s:%s:%s","maxReceiveCount":%d}`, Region, Account, WritebackDLQ, WritebackMaxReceives)}},
		{WritebackRejects, map[string]string{"MessageRetentionPeriod": dlqRetention}},
	} {
		url, err = sqsq.EnsureQueue(ctx, awssqs.NewFromConfig(cfg), q.name, q.attrs)
		if err != nil {
			return fmt.Errorf("sqs: %w", err)
		}
		fmt.Fprintf(w, "queue  %-26s %s\n", q.name, url)
	}
	return nil
}
