// Package sqs is the SQS adapter for dead letters: it keeps
// [deadletter.Letter] values on a queue (a [deadletter.Sink]) and reads them
// back for re-drive tooling.
package sqs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/recoup-dev/recoup/shared/deadletter"
)

// QueueAPI is the part of the SQS client [EnsureQueue] uses.
type QueueAPI interface {
	CreateQueue(context.Context, *sqs.CreateQueueInput, ...func(*sqs.Options)) (*sqs.CreateQueueOutput, error)
	GetQueueUrl(context.Context, *sqs.GetQueueUrlInput, ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
}

// API is the part of the SQS client this package uses.
type API interface {
	QueueAPI
	SendMessageBatch(context.Context, *sqs.SendMessageBatchInput, ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
	ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(context.Context, *sqs.DeleteMessageInput, ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
}

var _ API = (*sqs.Client)(nil)

// SendMessageBatch limits: 10 entries, and 256 KiB for the bodies and
// attributes of the whole batch (the classic limit, which every emulator and
// every queue accepts whatever its MaximumMessageSize).
const (
	maxBatchEntries = 10
	maxBatchBytes   = 256 << 10
)

// Message attributes set on every letter, so consumers and alarms can filter
// without parsing the body.
const (
	AttrSource = "source"
	AttrKind   = "kind"
	AttrTenant = "tenant"
)

// DeadLetters keeps letters on one SQS queue.
type DeadLetters struct {
	api      API
	queueURL string
	// attempts bounds the sends of one entry; backoff is the wait before the
	// second, doubling after each.
	attempts int
	backoff  time.Duration
}

var _ deadletter.Sink = (*DeadLetters)(nil)

// NewDeadLetters returns a sink that sends to queueURL (see [EnsureQueue]).
func NewDeadLetters(api API, queueURL string) (*DeadLetters, error) {
	if api == nil || queueURL == "" {
		return nil, errors.New("sqs: NewDeadLetters needs a client and a queue URL")
	}
	return &DeadLetters{api: api, queueURL: queueURL, attempts: 4, backoff: 100 * time.Millisecond}, nil
}

// FailedLetter is one letter Put could not store.
type FailedLetter struct {
	Index    int    // position in the slice given to Put
	Source   string // Letter.Source
	RecordID string // Letter.RecordID, when known
	Code     string // the SQS error code, or "" for a call that failed as a whole
	Reason   string
}

// PutError lists the letters Put could not store; every other letter was
// stored.
type PutError struct {
	Queue  string
	Total  int
	Failed []FailedLetter
}

func (e *PutError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sqs: %d of %d dead letters not stored in %s:", len(e.Failed), e.Total, e.Queue)
	for _, f := range e.Failed {
		name := f.RecordID
		if name == "" {
			name = "(no record id)"
		}
		fmt.Fprintf(&b, " [%d %s from %s: %s %s]", f.Index, name, f.Source, f.Code, f.Reason)
	}
	return b.String()
}

type entry struct {
	index int
	req   types.SendMessageBatchRequestEntry
	size  int
}

// Put stores letters with SendMessageBatch, in batches of at most 10
// entries and 256 KiB. Entries SQS fails on its side (or whose call fails)
// are sent again with exponential backoff up to the attempt limit; entries
// it refuses as the sender's fault are not. A letter that does not validate
// stops Put before anything is sent. The error is a *PutError naming each
// letter not stored.
func (d *DeadLetters) Put(ctx context.Context, letters []deadletter.Letter) error {
	pending := make([]entry, 0, len(letters))
	for i, l := range letters {
		body, err := deadletter.Encode(l)
		if err != nil {
			return fmt.Errorf("sqs: letter %d (%s from %s): %w", i, l.RecordID, l.Source, err)
		}
		e := entry{index: i, req: types.SendMessageBatchRequestEntry{
			Id:                aws.String(strconv.Itoa(i)),
			MessageBody:       aws.String(string(body)),
			MessageAttributes: attributes(l),
		}}
		e.size = len(body)
		for k, v := range e.req.MessageAttributes {
			e.size += len(k) + len(aws.ToString(v.DataType)) + len(aws.ToString(v.StringValue))
		}
		if e.size > maxBatchBytes {
			return fmt.Errorf("sqs: letter %d (%s from %s) is %d bytes encoded, over the %d SQS allows", i, l.RecordID, l.Source, e.size, maxBatchBytes)
		}
		pending = append(pending, e)
	}
	var failed []FailedLetter
	wait := d.backoff
	for attempt := 1; len(pending) > 0; attempt++ {
		var retry []entry
		for _, batch := range chunk(pending) {
			again, gaveUp := d.send(ctx, batch, letters, attempt == d.attempts)
			retry = append(retry, again...)
			failed = append(failed, gaveUp...)
		}
		pending = retry
		if len(pending) > 0 && sleep(ctx, wait) != nil {
			for _, e := range pending {
				failed = append(failed, failure(e, letters, "", ctx.Err().Error()))
			}
			break
		}
		wait *= 2
	}
	if len(failed) > 0 {
		return &PutError{Queue: d.queueURL, Total: len(letters), Failed: failed}
	}
	return nil
}

// send sends one batch and sorts its entries into stored, to retry, and
// given up (all retryable ones too when last is set).
func (d *DeadLetters) send(ctx context.Context, batch []entry, letters []deadletter.Letter, last bool) (retry []entry, gaveUp []FailedLetter) {
	in := &sqs.SendMessageBatchInput{QueueUrl: aws.String(d.queueURL)}
	for _, e := range batch {
		in.Entries = append(in.Entries, e.req)
	}
	out, err := d.api.SendMessageBatch(ctx, in)
	if err != nil {
		if last || ctx.Err() != nil {
			for _, e := range batch {
				gaveUp = append(gaveUp, failure(e, letters, "", err.Error()))
			}
			return nil, gaveUp
		}
		return batch, nil
	}
	byID := map[string]entry{}
	for _, e := range batch {
		byID[aws.ToString(e.req.Id)] = e
	}
	for _, f := range out.Failed {
		e, ok := byID[aws.ToString(f.Id)]
		if !ok {
			continue
		}
		if f.SenderFault || last {
			gaveUp = append(gaveUp, failure(e, letters, aws.ToString(f.Code), aws.ToString(f.Message)))
		} else {
			retry = append(retry, e)
		}
	}
	return retry, gaveUp
}

// sleep waits d, or returns ctx's error if it is done first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func failure(e entry, letters []deadletter.Letter, code, reason string) FailedLetter {
	l := letters[e.index]
	return FailedLetter{Index: e.index, Source: l.Source, RecordID: l.RecordID, Code: code, Reason: reason}
}

// chunk cuts entries into batches SendMessageBatch accepts.
func chunk(entries []entry) [][]entry {
	var out [][]entry
	var cur []entry
	size := 0
	for _, e := range entries {
		if len(cur) == maxBatchEntries || (len(cur) > 0 && size+e.size > maxBatchBytes) {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, e)
		size += e.size
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// attributes are the letter's source, kind and tenant; SQS refuses empty
// attribute values, so an unknown tenant is left out.
func attributes(l deadletter.Letter) map[string]types.MessageAttributeValue {
	str := func(v string) types.MessageAttributeValue {
		return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	a := map[string]types.MessageAttributeValue{AttrSource: str(l.Source), AttrKind: str(l.Kind)}
	if l.Tenant != "" {
		a[AttrTenant] = str(l.Tenant)
	}
	return a
}

// EnsureQueue returns the URL of the named queue, creating it with attrs
// when it does not exist. An existing queue is left as it is, whatever its
// attributes.
func EnsureQueue(ctx context.Context, api QueueAPI, name string, attrs map[string]string) (string, error) {
	got, err := api.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	if err == nil {
		return aws.ToString(got.QueueUrl), nil
	}
	var missing *types.QueueDoesNotExist
	if !errors.As(err, &missing) {
		return "", fmt.Errorf("sqs: look up queue %s: %w", name, err)
	}
	created, err := api.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		return "", fmt.Errorf("sqs: create queue %s: %w", name, err)
	}
	return aws.ToString(created.QueueUrl), nil
}

// Received is one message read back by [Receive].
type Received struct {
	MessageID     string
	ReceiptHandle string // for [Delete]
	ReceiveCount  int    // ApproximateReceiveCount, this receive included
	SentAt        time.Time
	// Letter is the decoded body; DecodeErr says why it could not be
	// decoded (a message some other writer put on the queue), and Body keeps
	// the raw body in every case.
	Letter    deadletter.Letter
	DecodeErr error
	Body      string
}

// Receive reads up to max (1-10) messages, waiting up to wait (at most 20 s)
// for the first. The messages stay on the queue, invisible for the queue's
// visibility timeout, until [Delete]d.
func Receive(ctx context.Context, api API, url string, max int, wait time.Duration) ([]Received, error) {
	if max < 1 || max > 10 {
		return nil, fmt.Errorf("sqs: receive %d messages: want 1 to 10", max)
	}
	if wait < 0 || wait > 20*time.Second {
		return nil, fmt.Errorf("sqs: receive with a wait of %s: want 0 to 20s", wait)
	}
	out, err := api.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(url),
		MaxNumberOfMessages:         int32(max),
		WaitTimeSeconds:             int32(wait / time.Second),
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount, types.MessageSystemAttributeNameSentTimestamp},
	})
	if err != nil {
		return nil, fmt.Errorf("sqs: receive from %s: %w", url, err)
	}
	got := make([]Received, 0, len(out.Messages))
	for _, m := range out.Messages {
		r := Received{MessageID: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body)}
		r.ReceiveCount, _ = strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
		if ms, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
			r.SentAt = time.UnixMilli(ms).UTC()
		}
		r.Letter, r.DecodeErr = deadletter.Decode([]byte(r.Body))
		got = append(got, r)
	}
	return got, nil
}

// Delete removes a received message for good (after a successful re-drive).
func Delete(ctx context.Context, api API, url, receiptHandle string) error {
	if _, err := api.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: aws.String(receiptHandle)}); err != nil {
		return fmt.Errorf("sqs: delete from %s: %w", url, err)
	}
	return nil
}
