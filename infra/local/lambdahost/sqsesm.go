package lambdahost

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQSPollAPI is the part of the SQS API a queue mapping needs.
// *sqs.Client satisfies it.
type SQSPollAPI interface {
	GetQueueUrl(context.Context, *sqs.GetQueueUrlInput, ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
	ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(context.Context, *sqs.DeleteMessageBatchInput, ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
}

var _ SQSPollAPI = (*sqs.Client)(nil)

// QueuePoller plays Lambda's SQS event source mapping: it receives up to
// BatchSize messages, invokes the function with an events.SQSEvent and
// deletes what the function processed. A function error leaves the whole
// batch on the queue; with ReportBatchItemFailures only the listed
// messages stay. What stays comes back after its visibility timeout, and
// the queue's redrive policy moves it to the dead-letter queue once it has
// been received maxReceiveCount times — the mapping itself never drops a
// message. On a FIFO queue the emulator hands out no message of a group
// while another of it is in flight, so group order holds across the
// concurrent pollers as it does in AWS.
type QueuePoller struct {
	m      EventSourceMappingConfig
	api    SQSPollAPI
	inv    Invoker
	region string
	log    *slog.Logger

	mu        sync.Mutex
	url       string
	processed int64
	failed    int64
}

// NewQueuePoller creates a poller for the queue mapping m.
func NewQueuePoller(m EventSourceMappingConfig, api SQSPollAPI, inv Invoker, opts PollerOptions) *QueuePoller {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &QueuePoller{m: m, api: api, inv: inv, region: opts.Region,
		log: opts.Logger.With("esm_function", m.Function, "queue", m.QueueName)}
}

// QueueARN is the ARN the host reports for a local queue.
func QueueARN(region, name string) string {
	return "arn:aws:sqs:" + region + ":000000000000:" + name
}

// Counts returns how many messages the function processed and how many it
// failed (each failed receive counts once).
func (p *QueuePoller) Counts() (processed, failed int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.processed, p.failed
}

// Run polls until ctx ends, with MaximumConcurrency receive loops.
func (p *QueuePoller) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range p.m.MaximumConcurrency {
		wg.Go(func() { p.loop(ctx) })
	}
	wg.Wait()
}

func (p *QueuePoller) loop(ctx context.Context) {
	idle := time.Duration(p.m.PollingIntervalMS) * time.Millisecond
	missingLogged := false
	for ctx.Err() == nil {
		url, err := p.queueURL(ctx)
		if err != nil {
			if !missingLogged && ctx.Err() == nil {
				p.log.Warn("queue not found yet; will keep checking", "err", err)
				missingLogged = true
			}
			sleepCtx(ctx, idle)
			continue
		}
		missingLogged = false
		in := &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: int32(p.m.BatchSize), WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		}
		if strings.HasSuffix(p.m.QueueName, ".fifo") {
			// The SDK retries a receive whose answer was lost with the same
			// input: with an attempt id the queue answers it with the same
			// messages, instead of leaving them in flight, their group
			// blocked, for the whole visibility timeout.
			in.ReceiveRequestAttemptId = aws.String(rand.Text())
		}
		out, err := p.api.ReceiveMessage(ctx, in)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			p.log.Warn("receive failed; will retry", "err", err)
			sleepCtx(ctx, idle)
			continue
		case len(out.Messages) == 0:
			sleepCtx(ctx, idle)
			continue
		}
		p.process(ctx, url, out.Messages)
	}
}

func (p *QueuePoller) queueURL(ctx context.Context) (string, error) {
	p.mu.Lock()
	url := p.url
	p.mu.Unlock()
	if url != "" {
		return url, nil
	}
	out, err := p.api.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(p.m.QueueName)})
	if err != nil {
		return "", err
	}
	p.mu.Lock()
	p.url = aws.ToString(out.QueueUrl)
	p.mu.Unlock()
	return aws.ToString(out.QueueUrl), nil
}

// process invokes the function with one batch and deletes what it
// processed.
func (p *QueuePoller) process(ctx context.Context, url string, msgs []types.Message) {
	ev := p.event(msgs)
	payload, err := json.Marshal(ev)
	if err != nil {
		p.log.Error("cannot encode the batch; leaving it on the queue", "err", err)
		return
	}
	res, err := p.inv.Invoke(ctx, p.m.Function, payload)
	failed := map[string]bool{}
	switch {
	case err != nil:
		p.log.Warn("invoke failed; the batch stays on the queue", "messages", len(msgs), "err", err)
		p.count(0, len(msgs))
		return
	case res.FunctionError != "":
		p.log.Warn("function error; the batch stays on the queue", "messages", len(msgs),
			"error_type", res.ErrorType, "payload", truncate(string(res.Payload), 300))
		p.count(0, len(msgs))
		return
	case p.m.ReportsBatchItemFailures():
		ids, perr := batchItemFailures(res.Payload, msgs)
		if perr != nil {
			// AWS treats an unparsable response as a failure of the whole
			// batch.
			p.log.Warn("partial batch response unreadable; the batch stays on the queue", "err", perr)
			p.count(0, len(msgs))
			return
		}
		for _, id := range ids {
			failed[id] = true
		}
	}
	var del []types.DeleteMessageBatchRequestEntry
	for i, m := range msgs {
		if !failed[aws.ToString(m.MessageId)] {
			del = append(del, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
		}
	}
	if len(del) == 0 {
		p.count(0, len(failed))
		return
	}
	// Not ctx: a processed batch must be deleted even while the host
	// stops, or it is processed again on the next start.
	dctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := p.api.DeleteMessageBatch(dctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: del})
	switch {
	case err != nil:
		// They come back and are counted when deleted.
		p.log.Warn("delete failed; processed messages will be delivered again", "messages", len(del), "err", err)
		p.count(0, len(failed))
	case len(out.Failed) > 0:
		p.log.Warn("some deletes failed; those messages will be delivered again", "failed", len(out.Failed),
			"code", aws.ToString(out.Failed[0].Code), "message", aws.ToString(out.Failed[0].Message))
		p.count(len(del)-len(out.Failed), len(failed))
	default:
		p.count(len(del), len(failed))
	}
}

func (p *QueuePoller) count(ok, failed int) {
	p.mu.Lock()
	p.processed += int64(ok)
	p.failed += int64(failed)
	p.mu.Unlock()
}

// event is the batch as Lambda's SQS mapping shapes it.
func (p *QueuePoller) event(msgs []types.Message) events.SQSEvent {
	arn := QueueARN(p.region, p.m.QueueName)
	ev := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(msgs))}
	for _, m := range msgs {
		attrs := map[string]events.SQSMessageAttribute{}
		for k, v := range m.MessageAttributes {
			attrs[k] = events.SQSMessageAttribute{DataType: aws.ToString(v.DataType), StringValue: v.StringValue, BinaryValue: v.BinaryValue}
		}
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle),
			Body: aws.ToString(m.Body), Md5OfBody: aws.ToString(m.MD5OfBody),
			Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
			Attributes:             m.Attributes, MessageAttributes: attrs,
			EventSource: "aws:sqs", EventSourceARN: arn, AWSRegion: p.region,
		})
	}
	return ev
}

// batchItemFailures reads an events.SQSEventResponse. An id that is not in
// the batch makes the response invalid, as in AWS.
func batchItemFailures(payload []byte, msgs []types.Message) ([]string, error) {
	if len(payload) == 0 || string(payload) == "null" {
		return nil, nil
	}
	var r events.SQSEventResponse
	if err := json.Unmarshal(payload, &r); err != nil {
		return nil, fmt.Errorf("not an SQSEventResponse: %w", err)
	}
	in := map[string]bool{}
	for _, m := range msgs {
		in[aws.ToString(m.MessageId)] = true
	}
	var ids []string
	for _, f := range r.BatchItemFailures {
		if !in[f.ItemIdentifier] {
			return nil, errors.New("itemIdentifier " + truncate(f.ItemIdentifier, 80) + " is not a message of the batch")
		}
		ids = append(ids, f.ItemIdentifier)
	}
	return ids, nil
}
