package sqsqueue

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/recoup-dev/recoup/infra/local/localtest"
	"github.com/recoup-dev/recoup/shared/deadletter"
	"github.com/recoup-dev/recoup/shared/erp"
	"github.com/recoup-dev/recoup/shared/writeback"
)

// scripted answers Retry for the keys in retry and Confirmed otherwise,
// recording each delivery's Final.
type scripted struct {
	mu     sync.Mutex
	retry  map[string]bool
	finals map[string][]bool
}

func (s *scripted) Deliver(_ context.Context, a erp.Action, at writeback.Attempt) (writeback.Outcome, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.finals[a.Key] = append(s.finals[a.Key], at.Final)
	if s.retry[a.Key] {
		if at.Final {
			return writeback.DeadLettered, nil
		}
		return writeback.Retry, erp.Transient("500", "down")
	}
	return writeback.Confirmed, nil
}

type sink struct{ letters []deadletter.Letter }

func (s *sink) Put(_ context.Context, l []deadletter.Letter) error {
	s.letters = append(s.letters, l...)
	return nil
}

// TestIntegrationQueueAndConsumer runs the queue on the local SQS emulator:
// a copy queued within the deduplication window is dropped, a confirmed
// action is deleted, a failing one is retried until its last receive is
// marked final and the redrive policy moves it to the dead-letter queue,
// and a body that is no action goes to the dead-letter sink.
func TestIntegrationQueueAndConsumer(t *testing.T) {
	client, name := localtest.SQS(t)
	ctx := context.Background()
	dlq, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-dlq.fifo"),
		Attributes: map[string]string{"FifoQueue": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	dlqAttrs, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl,
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	const maxReceives = 3
	q, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + ".fifo"), Attributes: map[string]string{
		"FifoQueue": "true", "VisibilityTimeout": "30",
		"RedrivePolicy": fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"%d"}`, dlqAttrs.Attributes["QueueArn"], maxReceives)}})
	if err != nil {
		t.Fatal(err)
	}
	url := aws.ToString(q.QueueUrl)
	queue, err := NewQueue(client, url)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	good := erp.New("acme", erp.KindNote, "event:1", erp.Target{Customer: "C-1"}, at)
	good.Text = "called"
	bad := erp.New("acme", erp.KindNote, "event:2", erp.Target{Customer: "C-2"}, at)
	bad.Text = "called"
	if err := queue.Send(ctx, []erp.Action{good, bad, good}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(`{"kind":"fax"}`),
		MessageGroupId: aws.String("acme#C-3"), MessageDeduplicationId: aws.String("junk")}); err != nil {
		t.Fatal(err)
	}

	d := &scripted{retry: map[string]bool{bad.Key: true}, finals: map[string][]bool{}}
	s := &sink{}
	// Backoff of 0 s keeps the test fast: the failed message is visible
	// again at once.
	c := &Consumer{Deliverer: d, Sink: s, API: client, QueueURL: url, MaxReceives: maxReceives, Base: time.Nanosecond, Max: time.Nanosecond}
	deadline := time.Now().Add(30 * time.Second)
	for len(d.finals[bad.Key]) < maxReceives || len(d.finals[good.Key]) < 1 || len(s.letters) < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("deliveries %v, letters %d", d.finals, len(s.letters))
		}
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
			WaitTimeSeconds: 1, MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}})
		if err != nil {
			t.Fatal(err)
		}
		ev := events.SQSEvent{}
		for _, m := range out.Messages {
			attrs := map[string]string{}
			for k, v := range m.Attributes {
				attrs[k] = v
			}
			ev.Records = append(ev.Records, events.SQSMessage{MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle),
				Body: aws.ToString(m.Body), Attributes: attrs})
		}
		resp, err := c.Handle(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		failed := map[string]bool{}
		for _, f := range resp.BatchItemFailures {
			failed[f.ItemIdentifier] = true
		}
		// The event source mapping deletes what did not fail.
		for _, m := range out.Messages {
			if !failed[aws.ToString(m.MessageId)] {
				if _, err := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if got := d.finals[good.Key]; len(got) != 1 {
		t.Errorf("good delivered %d times (the copy within the window must be dropped)", len(got))
	}
	if got := d.finals[bad.Key]; len(got) != maxReceives || got[maxReceives-1] != true || got[0] {
		t.Errorf("bad deliveries' Final: %v", got)
	}
	if len(s.letters) != 1 || s.letters[0].Source != "writeback" || s.letters[0].Kind != deadletter.KindInvalid {
		t.Errorf("letters %+v", s.letters)
	}
	// The redrive policy moves the failed action on its next receive.
	for time.Now().Before(deadline) {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: dlq.QueueUrl, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 1 {
			var a erp.Action
			if err := json.Unmarshal([]byte(aws.ToString(out.Messages[0].Body)), &a); err != nil || a.Key != bad.Key {
				t.Fatalf("dead letter %v %v", a.Key, err)
			}
			return
		}
		// A receive on the source queue is what triggers the move.
		if _, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 0}); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("the failed action never reached the dead-letter queue")
}
