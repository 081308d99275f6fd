// Command engagement is the Kinesis-triggered consumer of engagement events:
// it applies each event to the consent ledger, contact history, ledger,
// features and planned actions exactly once, and sends poison records with
// their reason to the dead-letter queue. See shared/engagement.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/recoup-dev/recoup/shared/approval/sfn"
	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/clock"
	"github.com/recoup-dev/recoup/shared/cycle"
	"github.com/recoup-dev/recoup/shared/engagement"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
	sqsq "github.com/recoup-dev/recoup/shared/stream/sqs"
	"github.com/recoup-dev/recoup/shared/writeback"
	"github.com/recoup-dev/recoup/shared/writeback/sqsqueue"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	c, err := build(context.Background(), log)
	if err != nil {
		log.Error("start engagement consumer", "err", err)
		os.Exit(1)
	}
	lambda.Start(c.Handle)
}

func build(ctx context.Context, log *slog.Logger) (*engagement.Consumer, error) {
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		return nil, err
	}
	// RECOUP_DLQ: the SQS queue poison records go to, by URL (as CDK passes
	// it) or by name (the local stack, whose port varies). Without it a
	// poison record could only block its shard or be lost, so refuse to start.
	dlq := os.Getenv("RECOUP_DLQ")
	if dlq == "" {
		return nil, errors.New("RECOUP_DLQ is not set: the engagement consumer needs its dead-letter queue (URL or name)")
	}
	sqsClient := sqs.NewFromConfig(cfg)
	dlqURL := dlq
	if !strings.HasPrefix(dlq, "https://") && !strings.HasPrefix(dlq, "http://") {
		out, err := sqsClient.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: &dlq})
		if err != nil {
			return nil, fmt.Errorf("dead-letter queue %q: %w", dlq, err)
		}
		dlqURL = *out.QueueUrl
	}
	c, err := dynamo.NewEngagementConsumer(awsconfig.DynamoDB(cfg), awsconfig.TablePrefix())
	if err != nil {
		return nil, err
	}
	sink, err := sqsq.NewDeadLetters(sqsClient, dlqURL)
	if err != nil {
		return nil, err
	}
	c.DLQ, c.Log, c.Now = sink, log, clock.FromEnv(os.Getenv, log)
	// With the cycle's state machine named, a re-plan event wakes the
	// customer's waiting execution at once.
	if machine := os.Getenv("RECOUP_CYCLE_STATE_MACHINE"); machine != "" {
		runs, err := dynamo.NewRuns(awsconfig.DynamoDB(cfg), awsconfig.TablePrefix())
		if err != nil {
			return nil, err
		}
		ex, err := sfn.NewExecutions(sfn.NewClient(cfg))
		if err != nil {
			return nil, err
		}
		c.Replanner = &cycle.Waker{Runs: runs, Executions: ex, Machine: machine, Now: c.Now}
	}
	// RECOUP_EVENT_ID_TTL: how long applied event ids are remembered; must
	// exceed the stream's retention (default 8 days).
	if s := os.Getenv("RECOUP_EVENT_ID_TTL"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return nil, errors.New("RECOUP_EVENT_ID_TTL must be a positive duration such as 192h")
		}
		c.ClaimTTL = d
	}
	// RECOUP_WRITEBACK_QUEUE_URL: promises, disputes, hardship and cease
	// requests are also written to the tenant's ERP (functions/writeback).
	if q := os.Getenv("RECOUP_WRITEBACK_QUEUE_URL"); q != "" {
		db := awsconfig.DynamoDB(cfg)
		audit, err := dynamo.NewAudit(db, awsconfig.TablePrefix())
		if err != nil {
			return nil, err
		}
		store, err := dynamo.NewWritebacks(db, audit, awsconfig.TablePrefix())
		if err != nil {
			return nil, err
		}
		queue, err := sqsqueue.NewQueue(sqsClient, q)
		if err != nil {
			return nil, err
		}
		c.ERP = &writeback.Submitter{Store: store, Queue: queue, Now: c.Now}
	}
	return c, nil
}
