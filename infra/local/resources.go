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
	// LetterQueue holds the dunning letters the Send step queues for the
	// ERP write-back (the send function's RECOUP_LETTER_QUEUE_URL).
	LetterQueue = "recoup-letters"
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
	fmt.Fprintf(w, "stream %-23s active\n", EngagementStream)
	url, err := sqsq.EnsureQueue(ctx, awssqs.NewFromConfig(cfg), EngagementDLQ, map[string]string{"MessageRetentionPeriod": dlqRetention})
	if err != nil {
		return fmt.Errorf("sqs: %w", err)
	}
	fmt.Fprintf(w, "queue  %-23s %s\n", EngagementDLQ, url)
	url, err = sqsq.EnsureQueue(ctx, awssqs.NewFromConfig(cfg), LetterQueue, map[string]string{"MessageRetentionPeriod": dlqRetention})
	if err != nil {
		return fmt.Errorf("sqs: %w", err)
	}
	fmt.Fprintf(w, "queue  %-23s %s\n", LetterQueue, url)
	return nil
}
