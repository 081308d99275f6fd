// Package sqsqueue carries write-back actions on an SQS FIFO queue: Queue
// sends them (a writeback.Queue), Consumer is the Lambda handler of the
// queue's event source mapping (ReportBatchItemFailures on).
//
// Each customer's actions share a message group (tenant#customer), so a
// hold and its release reach the ERP in the order they were decided; the
// deduplication id is the action's key, so SQS drops a copy queued within
// its 5-minute window and the delivery's status drops any later one. A
// failed delivery is retried with exponential backoff and full jitter (the
// message's visibility timeout), until the queue's maxReceiveCount moves it
// to the dead-letter queue; the delivery marks that last attempt
// dead-lettered in the status and the audit log. A message that is not an
// action goes to the dead-letter sink with its reason, never dropped.
package sqsqueue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/recoup-dev/recoup/shared/deadletter"
	"github.com/recoup-dev/recoup/shared/erp"
	"github.com/recoup-dev/recoup/shared/sender/letters"
	"github.com/recoup-dev/recoup/shared/writeback"
)

// API is the part of the SQS client this package uses.
type API interface {
	SendMessageBatch(context.Context, *sqs.SendMessageBatchInput, ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
	ChangeMessageVisibility(context.Context, *sqs.ChangeMessageVisibilityInput, ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

var (
	_ API             = (*sqs.Client)(nil)
	_ writeback.Queue = (*Queue)(nil)
)

// Queue sends actions to one FIFO queue.
type Queue struct {
	api API
	url string
}

// NewQueue returns a sender to the FIFO queue at url.
func NewQueue(api API, url string) (*Queue, error) {
	if api == nil {
		return nil, errors.New("sqsqueue: nil SQS client")
	}
	if !strings.HasSuffix(url, ".fifo") {
		return nil, fmt.Errorf("sqsqueue: %s is not a FIFO queue: actions of one customer must stay in order", url)
	}
	return &Queue{api: api, url: url}, nil
}

// Send queues actions, ten to a batch. An entry SQS refuses fails the call
// with its id and SQS's code; the caller submits again (the keys keep it
// from doubling).
func (q *Queue) Send(ctx context.Context, actions []erp.Action) error {
	return q.send(ctx, actions, "")
}

// send queues actions with deduplication id tenant#key plus round.
func (q *Queue) send(ctx context.Context, actions []erp.Action, round string) error {
	for len(actions) > 0 {
		n := min(10, len(actions))
		batch := actions[:n]
		actions = actions[n:]
		in := &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.url)}
		for i, a := range batch {
			body, err := json.Marshal(a)
			if err != nil {
				return fmt.Errorf("sqsqueue: encode action %s: %w", a.Key, err)
			}
			in.Entries = append(in.Entries, types.SendMessageBatchRequestEntry{
				Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(body)),
				MessageGroupId:         aws.String(letters.GroupID(a.Tenant, a.Target.Customer)),
				MessageDeduplicationId: aws.String(string(a.Tenant) + "#" + a.Key + round),
				MessageAttributes: map[string]types.MessageAttributeValue{
					"tenant": {DataType: aws.String("String"), StringValue: aws.String(string(a.Tenant))},
					"kind":   {DataType: aws.String("String"), StringValue: aws.String(string(a.Kind))},
				},
			})
		}
		out, err := q.api.SendMessageBatch(ctx, in)
		if err != nil {
			return fmt.Errorf("sqsqueue: send %d actions: %w", len(batch), err)
		}
		if len(out.Failed) > 0 {
			f := out.Failed[0]
			i, _ := strconv.Atoi(aws.ToString(f.Id))
			return fmt.Errorf("sqsqueue: SQS refused %d of %d actions, first %s: %s %s", len(out.Failed), len(batch),
				batch[i].Key, aws.ToString(f.Code), aws.ToString(f.Message))
		}
	}
	return nil
}

// Deliverer is what the consumer needs of writeback.Deliverer.
type Deliverer interface {
	Deliver(ctx context.Context, a erp.Action, at writeback.Attempt) (writeback.Outcome, error)
}

// Consumer handles batches from the write-back queue.
type Consumer struct {
	Deliverer Deliverer
	// Sink keeps messages that are not actions.
	Sink deadletter.Sink
	// API and QueueURL set the backoff of a failed message; without them
	// the queue's own visibility timeout applies.
	API      API
	QueueURL string
	// MaxReceives is the queue's redrive maxReceiveCount: the delivery on
	// that receive is the last.
	MaxReceives int
	// Backoff bounds the retry delay: Base doubled per receive, capped at
	// Max, with full jitter. Defaults 30 s and 15 minutes.
	Base, Max time.Duration
	Log       *slog.Logger
}

// Handle delivers a batch in order. Messages of a group that already failed
// in this batch fail too, unprocessed: on a FIFO queue a later action of a
// customer must not overtake an earlier one.
func (c *Consumer) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	failedGroups := map[string]bool{}
	fail := func(m events.SQSMessage) {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		failedGroups[m.Attributes["MessageGroupId"]] = true
	}
	for _, m := range ev.Records {
		if g := m.Attributes["MessageGroupId"]; g != "" && failedGroups[g] {
			fail(m)
			continue
		}
		a, err := decode(m.Body)
		if err != nil {
			if perr := c.deadLetter(ctx, m, err); perr != nil {
				c.log().Error("writeback: keeping a refused message failed", "message", m.MessageId, "err", perr)
				fail(m)
			}
			continue
		}
		receives, _ := strconv.Atoi(m.Attributes["ApproximateReceiveCount"])
		final := c.MaxReceives > 0 && receives >= c.MaxReceives
		out, err := c.Deliverer.Deliver(ctx, a, writeback.Attempt{Final: final})
		switch {
		case out == writeback.Failed && errors.Is(err, erp.ErrInvalid):
			if perr := c.deadLetter(ctx, m, err); perr != nil {
				fail(m)
			}
		case out == writeback.Retry:
			var busy *writeback.InProgressError
			if errors.As(err, &busy) {
				// Come back when the other delivery's lease ends.
				c.hide(ctx, m, int32(busy.Wait.Seconds())+1)
			} else {
				c.backoff(ctx, m, receives)
			}
			fail(m)
		case out == writeback.DeadLettered:
			// Fail it, visible again at once, so the redrive policy moves
			// it to the dead-letter queue on its next receive, where a
			// replay finds it.
			c.hide(ctx, m, 0)
			fail(m)
		}
	}
	return resp, nil
}

// decode reads an action, or a dunning-letter request the letters sender
// queued (an attempt's letter, keyed by its attempt).
func decode(body string) (erp.Action, error) {
	a, err := erp.Decode([]byte(body))
	if err == nil {
		return a, nil
	}
	r, lerr := letters.Decode([]byte(body))
	if lerr != nil {
		return erp.Action{}, err
	}
	a = erp.New(r.Tenant, erp.KindDunningLetter, "attempt:"+r.AttemptID, erp.Target{Customer: r.Customer, Transaction: r.Debt}, r.QueuedAt)
	a.Subject, a.Text = r.Subject, r.Text
	return a, a.Validate()
}

func (c *Consumer) deadLetter(ctx context.Context, m events.SQSMessage, cause error) error {
	if c.Sink == nil {
		return fmt.Errorf("no dead-letter sink for message %s: %w", m.MessageId, cause)
	}
	l := deadletter.New("writeback", deadletter.KindInvalid, cause.Error(), []byte(m.Body), time.Now().UTC())
	l.RecordID = m.MessageId
	l.Origin = map[string]string{"queue": m.EventSourceARN, "message_id": m.MessageId, "receive_count": m.Attributes["ApproximateReceiveCount"]}
	return c.Sink.Put(ctx, []deadletter.Letter{l})
}

// backoff hides a failed message for a jittered, doubling delay.
func (c *Consumer) backoff(ctx context.Context, m events.SQSMessage, receives int) {
	base, capd := c.Base, c.Max
	if base <= 0 {
		base = 30 * time.Second
	}
	if capd <= 0 {
		capd = 15 * time.Minute
	}
	d := capd
	if receives < 30 && base<<max(receives-1, 0) < capd {
		d = base << max(receives-1, 0)
	}
	c.hide(ctx, m, int32(rand.Int64N(int64(d/time.Second)+1))+1)
}

// hide sets m's visibility timeout (best effort: without it the queue's
// own applies).
func (c *Consumer) hide(ctx context.Context, m events.SQSMessage, secs int32) {
	if c.API == nil || c.QueueURL == "" {
		return
	}
	if _, err := c.API.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(c.QueueURL),
		ReceiptHandle: aws.String(m.ReceiptHandle), VisibilityTimeout: secs}); err != nil {
		c.log().Warn("writeback: visibility not set", "message", m.MessageId, "err", err)
	}
}

func (c *Consumer) log() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	return slog.Default()
}
