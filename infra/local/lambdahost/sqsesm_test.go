package lambdahost

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/infra/local/sqslocal/sqslocaltest"
)

// queueFunc is an Invoker standing in for a function: the poller's
// contract is the event it builds and what it does with the answer, which
// do not depend on a process running behind Invoke.
type queueFunc struct {
	mu     sync.Mutex
	seen   map[string]int // body -> deliveries
	order  map[string][]string
	events []events.SQSEvent
	answer func(ev events.SQSEvent) (*InvokeResult, error)
}

func (f *queueFunc) Invoke(_ context.Context, fn string, payload []byte) (*InvokeResult, error) {
	if fn != "writeback" {
		return nil, fmt.Errorf("%w: %s", ErrFunctionNotFound, fn)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.events = append(f.events, ev)
	for _, r := range ev.Records {
		f.seen[r.Body]++
		g := r.Attributes["MessageGroupId"]
		f.order[g] = append(f.order[g], r.Body)
	}
	f.mu.Unlock()
	return f.answer(ev)
}

func newQueue(t *testing.T, api *sqs.Client, name string, attrs map[string]string) string {
	t.Helper()
	out, err := api.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.QueueUrl)
}

func depth(t *testing.T, api *sqs.Client, url string) (visible, inFlight string) {
	t.Helper()
	out, err := api.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Attributes["ApproximateNumberOfMessages"], out.Attributes["ApproximateNumberOfMessagesNotVisible"]
}

func TestQueuePoller(t *testing.T) {
	ok := func(events.SQSEvent) (*InvokeResult, error) {
		return &InvokeResult{Payload: []byte(`{"batchItemFailures":[]}`)}, nil
	}
	tests := []struct {
		name string
		// failBody makes the function report the message with that body
		// failed every time (partial batch response) or, with whole,
		// fail the invocation.
		failBody string
		whole    bool
		// wantDLQ is the body the redrive policy should move.
		wantDLQ []string
	}{
		{name: "all processed"},
		{name: "a reported failure is redelivered, then dead-lettered", failBody: "C-2 #1", wantDLQ: []string{"C-2 #1"}},
		// A function error fails the whole batch, as in AWS; with batches
		// of one only the failing message ends in the DLQ, and its group
		// goes on after it.
		{name: "a function error leaves the batch, the rest succeeds later", failBody: "C-3 #0", whole: true, wantDLQ: []string{"C-3 #0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := sqslocaltest.Client(t)
			dlq := newQueue(t, api, "wb-dlq.fifo", map[string]string{"FifoQueue": "true"})
			url := newQueue(t, api, "wb.fifo", map[string]string{"FifoQueue": "true", "VisibilityTimeout": "1",
				"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:wb-dlq.fifo","maxReceiveCount":"3"}`})
			var bodies []string
			for c := range 4 {
				for i := range 3 {
					b := fmt.Sprintf("C-%d #%d", c, i)
					bodies = append(bodies, b)
					_, err := api.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(b),
						MessageGroupId: aws.String(fmt.Sprintf("C-%d", c)), MessageDeduplicationId: aws.String(strings.ReplaceAll(b, " ", "_"))})
					if err != nil {
						t.Fatal(err)
					}
				}
			}
			f := &queueFunc{seen: map[string]int{}, order: map[string][]string{}, answer: ok}
			if tc.failBody != "" {
				f.answer = func(ev events.SQSEvent) (*InvokeResult, error) {
					var failures []events.SQSBatchItemFailure
					for _, r := range ev.Records {
						if r.Body == tc.failBody {
							if tc.whole {
								return &InvokeResult{FunctionError: "Unhandled", ErrorType: "errorString", Payload: []byte(`{"errorMessage":"boom"}`)}, nil
							}
							failures = append(failures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
						}
					}
					b, _ := json.Marshal(events.SQSEventResponse{BatchItemFailures: failures})
					return &InvokeResult{Payload: b}, nil
				}
			}
			m := EventSourceMappingConfig{Function: "writeback", QueueName: "wb.fifo", FunctionResponseTypes: []string{ReportBatchItemFailures}}
			if tc.whole {
				m.BatchSize = 1
			}
			cfg := Config{Functions: []FunctionConfig{{Name: "writeback", Bootstrap: "/bin/true"}}, EventSourceMappings: []EventSourceMappingConfig{m}}
			if err := cfg.Resolve("/"); err != nil {
				t.Fatal(err)
			}
			p := NewQueuePoller(cfg.EventSourceMappings[0], api, f, PollerOptions{Logger: slog.New(slog.DiscardHandler)})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { p.Run(ctx); close(done) }()
			defer func() { cancel(); <-done }()

			deadline := time.Now().Add(20 * time.Second)
			for {
				v, fl := depth(t, api, url)
				dv, _ := depth(t, api, dlq)
				if v == "0" && fl == "0" && dv == fmt.Sprint(len(tc.wantDLQ)) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("queue not drained: visible %s in flight %s, dlq %s", v, fl, dv)
				}
				time.Sleep(50 * time.Millisecond)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			for _, b := range bodies {
				want := 1
				if slices.Contains(tc.wantDLQ, b) {
					want = 3 // maxReceiveCount
				}
				if f.seen[b] != want {
					t.Errorf("%s delivered %d times, want %d", b, f.seen[b], want)
				}
			}
			// Within a group, each first delivery comes in send order.
			for g, got := range f.order {
				got = slices.Compact(got)
				var want []string
				for _, b := range bodies {
					if strings.HasPrefix(b, g+" ") {
						want = append(want, b)
					}
				}
				if tc.failBody == "" {
					if d := cmp.Diff(want, got); d != "" {
						t.Errorf("group %s order (-want +got):\n%s", g, d)
					}
				}
			}
			ev := f.events[0].Records[0]
			if ev.EventSource != "aws:sqs" || ev.EventSourceARN != "arn:aws:sqs:us-east-1:000000000000:wb.fifo" || ev.ReceiptHandle == "" ||
				ev.Attributes["ApproximateReceiveCount"] == "" || ev.Md5OfBody == "" {
				t.Errorf("record not shaped like Lambda's: %+v", ev)
			}
		})
	}
}

func TestQueueMappingConfig(t *testing.T) {
	three := 3
	tests := []struct {
		name string
		m    EventSourceMappingConfig
		want string // substring of the error, "" for valid
	}{
		{"defaults", EventSourceMappingConfig{Function: "f", QueueName: "q.fifo"}, ""},
		{"stream and queue", EventSourceMappingConfig{Function: "f", QueueName: "q", StreamName: "s"}, "not both"},
		{"batch too big", EventSourceMappingConfig{Function: "f", QueueName: "q", BatchSize: 11}, "between 1 and 10"},
		{"bad name", EventSourceMappingConfig{Function: "f", QueueName: "q q"}, "not a valid SQS queue name"},
		{"stream field", EventSourceMappingConfig{Function: "f", QueueName: "q", MaximumRetryAttempts: &three}, "maximum_retry_attempts: is for stream mappings"},
		{"concurrency", EventSourceMappingConfig{Function: "f", QueueName: "q", MaximumConcurrency: 1}, "between 2 and 1000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Functions: []FunctionConfig{{Name: "f", Bootstrap: "/bin/true"}}, EventSourceMappings: []EventSourceMappingConfig{tc.m}}
			err := cfg.Resolve("/")
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			case tc.want == "":
				if got := cfg.EventSourceMappings[0]; got.BatchSize != 10 || got.MaximumConcurrency != 2 {
					t.Errorf("defaults not applied: %+v", got)
				}
			}
		})
	}
}
