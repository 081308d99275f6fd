// Command writeback is the consumer of the ERP write-back queue (SQS FIFO,
// one message group per customer): it delivers each action — credit hold,
// dunning letter, note, task, promise, dispute — exactly once to the
// tenant's ERP, backs off with jitter through the message's visibility,
// and dead-letters an action on its last receive. See shared/writeback.
//
// Environment: RECOUP_WRITEBACK_QUEUE (its URL or, on the local stack,
// its name), RECOUP_DLQ (the standard queue for messages that are not
// actions), and the ERP connection (shared/erp/erpconfig) from
// RECOUP_ERP_SECRET (a Secrets Manager id) or RECOUP_ERP_CONFIG_FILE (a
// file, for the local stack).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/recoup-dev/recoup/functions/internal/wire"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
	sqsq "github.com/recoup-dev/recoup/shared/stream/sqs"
	"github.com/recoup-dev/recoup/shared/writeback"
	"github.com/recoup-dev/recoup/shared/writeback/sqsqueue"
)

func main() {
	ctx := context.Background()
	env := wire.Must(wire.Load(ctx))
	// The connection is read again when the ERP refuses its credentials:
	// the tenant rotates the password in the secret, not in this function.
	open := func(ctx context.Context) (writeback.ERP, error) {
		conn, found, err := env.ERP(ctx)
		if err == nil && !found {
			err = errors.New("neither RECOUP_ERP_SECRET (a Secrets Manager id) nor RECOUP_ERP_CONFIG_FILE is set: the write-back needs the ERP connection")
		}
		if err != nil {
			return nil, err
		}
		return conn.Open()
	}
	adapter := wire.Must(writeback.NewReconnecting(ctx, open, time.Now))
	audit := wire.Must(dynamo.NewAudit(env.DB, env.Prefix))
	store := wire.Must(dynamo.NewWritebacks(env.DB, audit, env.Prefix))
	d := wire.Must(writeback.New(adapter, store, writeback.Options{Now: env.Now, Log: env.Log}))
	client := sqs.NewFromConfig(env.AWS)
	queue := wire.Must(queueURL(ctx, client, wire.Must(env.Required("RECOUP_WRITEBACK_QUEUE", "the write-back queue"))))
	dlq := wire.Must(queueURL(ctx, client, wire.Must(env.Required("RECOUP_DLQ", "the queue for messages that are not actions"))))
	c := &sqsqueue.Consumer{Deliverer: d, Sink: wire.Must(sqsq.NewDeadLetters(client, dlq)), API: client, QueueURL: queue,
		MaxReceives: wire.Must(maxReceives(ctx, client, queue)), Log: env.Log}
	lambda.Start(c.Handle)
}

// queueURL takes a URL as it is (CDK passes URLs) and looks a name up (the
// local stack's port varies).
func queueURL(ctx context.Context, api *sqs.Client, q string) (string, error) {
	if strings.HasPrefix(q, "https://") || strings.HasPrefix(q, "http://") {
		return q, nil
	}
	out, err := api.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(q)})
	if err != nil {
		return "", fmt.Errorf("queue %q: %w", q, err)
	}
	return aws.ToString(out.QueueUrl), nil
}

// maxReceives reads the queue's redrive maxReceiveCount, so the receive
// that dead-letters an action is the queue's own, not a second setting
// that could drift from it. A queue without a redrive policy is refused:
// its failing actions would be retried until the retention period drops
// them.
func maxReceives(ctx context.Context, api *sqs.Client, url string) (int, error) {
	out, err := api.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameRedrivePolicy}})
	if err != nil {
		return 0, fmt.Errorf("write-back queue attributes: %w", err)
	}
	var p struct {
		MaxReceiveCount json.RawMessage `json:"maxReceiveCount"`
	}
	raw := out.Attributes[string(types.QueueAttributeNameRedrivePolicy)]
	if raw == "" {
		return 0, errors.New("the write-back queue has no redrive policy: give it a dead-letter queue")
	}
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return 0, fmt.Errorf("write-back queue redrive policy %q: %w", raw, err)
	}
	n, err := strconv.Atoi(strings.Trim(string(p.MaxReceiveCount), `"`))
	if err != nil || n < 1 {
		return 0, fmt.Errorf("write-back queue redrive policy: maxReceiveCount %s is not a positive count", p.MaxReceiveCount)
	}
	return n, nil
}
