package sqs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/infra/local/sqslocal/sqslocaltest"
	"github.com/recoup-dev/recoup/shared/deadletter"
)

// recorder wraps an API, records each SendMessageBatch and can fail chosen
// entries: fail maps a letter's RecordID to how many sends of it fail, with
// senderFault saying whose fault SQS reports.
type recorder struct {
	API
	mu          sync.Mutex
	calls       [][]string // record ids per call
	bytes       []int
	fail        map[string]int
	senderFault bool
	callErr     int // this many whole calls fail first
}

func (r *recorder) SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	r.mu.Lock()
	if r.callErr > 0 {
		r.callErr--
		r.mu.Unlock()
		return nil, errors.New("connection reset")
	}
	var ids []string
	size := 0
	pass := &sqs.SendMessageBatchInput{QueueUrl: in.QueueUrl}
	var failed []types.BatchResultErrorEntry
	for _, e := range in.Entries {
		l, err := deadletter.Decode([]byte(aws.ToString(e.MessageBody)))
		if err != nil {
			r.mu.Unlock()
			return nil, err
		}
		ids = append(ids, l.RecordID)
		size += len(aws.ToString(e.MessageBody))
		if r.fail[l.RecordID] > 0 {
			r.fail[l.RecordID]--
			failed = append(failed, types.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InternalError"), Message: aws.String("injected"), SenderFault: r.senderFault})
			continue
		}
		pass.Entries = append(pass.Entries, e)
	}
	r.calls = append(r.calls, ids)
	r.bytes = append(r.bytes, size)
	r.mu.Unlock()
	out := &sqs.SendMessageBatchOutput{}
	if len(pass.Entries) > 0 {
		var err error
		if out, err = r.API.SendMessageBatch(ctx, pass, opts...); err != nil {
			return nil, err
		}
	}
	out.Failed = append(out.Failed, failed...)
	return out, nil
}

var at = time.Date(2026, 11, 3, 14, 0, 0, 0, time.UTC)

func letters(n, bodyBytes int) []deadletter.Letter {
	var ls []deadletter.Letter
	for i := range n {
		l := deadletter.New("engagement", deadletter.KindInvalid, fmt.Sprintf("record %d: payload.amount is not a number", i),
			bytes.Repeat([]byte{'x'}, bodyBytes), at)
		l.RecordID = fmt.Sprintf("evt-%02d", i)
		if i%2 == 0 {
			l.Tenant = "acme"
		}
		l.Origin = map[string]string{"shard": "shardId-000000000000"}
		ls = append(ls, l)
	}
	return ls
}

// byRecordID indexes letters by their record id.
func byRecordID(ls []deadletter.Letter) map[string]deadletter.Letter {
	m := make(map[string]deadletter.Letter, len(ls))
	for _, l := range ls {
		m[l.RecordID] = l
	}
	return m
}

// drain reads every message on the queue.
func drain(t *testing.T, api API, url string) []Received {
	t.Helper()
	var all []Received
	for {
		got, err := Receive(context.Background(), api, url, 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			return all
		}
		all = append(all, got...)
	}
}

func newSink(t *testing.T, api API, url string) *DeadLetters {
	t.Helper()
	d, err := NewDeadLetters(api, url)
	if err != nil {
		t.Fatal(err)
	}
	d.backoff = time.Millisecond
	return d
}

func TestPutStoresEveryLetterInBatches(t *testing.T) {
	tests := []struct {
		name      string
		n, body   int
		wantCalls int
	}{
		{"small letters, ten per batch", 25, 10, 3},
		// 100 KiB bodies are about 133 KiB as base64 JSON: one per batch.
		{"large letters, cut by size", 3, 100 << 10, 3},
		{"one letter", 1, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := sqslocaltest.Client(t)
			url, err := EnsureQueue(context.Background(), c, "dead", nil)
			if err != nil {
				t.Fatal(err)
			}
			rec := &recorder{API: c}
			want := letters(tt.n, tt.body)
			if err := newSink(t, rec, url).Put(context.Background(), want); err != nil {
				t.Fatalf("Put: %v", err)
			}
			if len(rec.calls) != tt.wantCalls {
				t.Errorf("%d SendMessageBatch calls, want %d", len(rec.calls), tt.wantCalls)
			}
			for i, ids := range rec.calls {
				if len(ids) > 10 || rec.bytes[i] > 256<<10 {
					t.Errorf("call %d: %d entries, %d bytes; over the SQS batch limits", i, len(ids), rec.bytes[i])
				}
			}
			got := drain(t, c, url)
			byID := map[string]deadletter.Letter{}
			for _, r := range got {
				if r.DecodeErr != nil {
					t.Fatalf("message %s: %v", r.MessageID, r.DecodeErr)
				}
				if r.ReceiveCount != 1 || r.SentAt.IsZero() {
					t.Errorf("message %s: receive count %d, sent %v", r.MessageID, r.ReceiveCount, r.SentAt)
				}
				byID[r.Letter.RecordID] = r.Letter
			}
			if diff := cmp.Diff(byRecordID(want), byID); diff != "" {
				t.Errorf("letters on the queue (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPutSetsAttributes(t *testing.T) {
	c := sqslocaltest.Client(t)
	url, err := EnsureQueue(context.Background(), c, "dead", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := newSink(t, c, url).Put(context.Background(), letters(2, 4)); err != nil {
		t.Fatal(err)
	}
	out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]string{}
	for _, m := range out.Messages {
		l, _ := deadletter.Decode([]byte(aws.ToString(m.Body)))
		a := map[string]string{}
		for k, v := range m.MessageAttributes {
			a[k] = aws.ToString(v.StringValue)
		}
		got[l.RecordID] = a
	}
	want := map[string]map[string]string{
		"evt-00": {AttrSource: "engagement", AttrKind: "invalid", AttrTenant: "acme"},
		"evt-01": {AttrSource: "engagement", AttrKind: "invalid"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("attributes (-want +got):\n%s", diff)
	}
}

func TestPutRetriesAndReportsFailures(t *testing.T) {
	tests := []struct {
		name        string
		fail        map[string]int
		senderFault bool
		callErr     int
		wantFailed  []string // record ids named in the PutError
		wantStored  int
		wantCalls   int
	}{
		{name: "server-side failures retried until stored", fail: map[string]int{"evt-01": 2, "evt-03": 1}, wantStored: 5, wantCalls: 3},
		{name: "failed calls retried", callErr: 2, wantStored: 5, wantCalls: 1},
		{name: "sender faults not retried", fail: map[string]int{"evt-02": 1}, senderFault: true, wantFailed: []string{"evt-02"}, wantStored: 4, wantCalls: 1},
		{name: "retries are bounded", fail: map[string]int{"evt-04": 100}, wantFailed: []string{"evt-04"}, wantStored: 4, wantCalls: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := sqslocaltest.Client(t)
			url, err := EnsureQueue(context.Background(), c, "dead", nil)
			if err != nil {
				t.Fatal(err)
			}
			rec := &recorder{API: c, fail: tt.fail, senderFault: tt.senderFault, callErr: tt.callErr}
			err = newSink(t, rec, url).Put(context.Background(), letters(5, 8))
			var gotFailed []string
			var pe *PutError
			if errors.As(err, &pe) {
				for _, f := range pe.Failed {
					gotFailed = append(gotFailed, f.RecordID)
					if !strings.Contains(err.Error(), f.RecordID) {
						t.Errorf("error %q does not name %s", err, f.RecordID)
					}
				}
			} else if err != nil {
				t.Fatalf("Put error %v is not a *PutError", err)
			}
			if diff := cmp.Diff(tt.wantFailed, gotFailed); diff != "" {
				t.Errorf("failed letters (-want +got):\n%s", diff)
			}
			if got := len(drain(t, c, url)); got != tt.wantStored {
				t.Errorf("%d letters stored, want %d", got, tt.wantStored)
			}
			if len(rec.calls) != tt.wantCalls {
				t.Errorf("%d answered SendMessageBatch calls, want %d", len(rec.calls), tt.wantCalls)
			}
		})
	}
}

func TestPutRefusesInvalidLetters(t *testing.T) {
	c := sqslocaltest.Client(t)
	url, err := EnsureQueue(context.Background(), c, "dead", nil)
	if err != nil {
		t.Fatal(err)
	}
	ls := letters(3, 4)
	ls[1].Reason = ""
	rec := &recorder{API: c}
	if err := newSink(t, rec, url).Put(context.Background(), ls); err == nil || !strings.Contains(err.Error(), "evt-01") {
		t.Errorf("Put = %v, want an error naming evt-01", err)
	}
	if len(rec.calls) != 0 {
		t.Errorf("%d calls made for a refused batch, want 0", len(rec.calls))
	}
}

func TestPutToMissingQueueNamesEveryLetter(t *testing.T) {
	c := sqslocaltest.Client(t)
	d := newSink(t, c, "http://127.0.0.1:1/000000000000/none")
	d.attempts = 2
	err := d.Put(context.Background(), letters(2, 4))
	var pe *PutError
	if !errors.As(err, &pe) || len(pe.Failed) != 2 {
		t.Fatalf("Put = %v, want a PutError for both letters", err)
	}
}

func TestNewDeadLettersNeedsClientAndURL(t *testing.T) {
	if _, err := NewDeadLetters(nil, "u"); err == nil {
		t.Error("nil client: no error")
	}
	if _, err := NewDeadLetters(sqslocaltest.Client(t), ""); err == nil {
		t.Error("empty URL: no error")
	}
}

func TestEnsureQueueIsIdempotent(t *testing.T) {
	c := sqslocaltest.Client(t)
	ctx := context.Background()
	first, err := EnsureQueue(ctx, c, "dlq", map[string]string{"MessageRetentionPeriod": "1209600"})
	if err != nil {
		t.Fatal(err)
	}
	// Other attributes: the existing queue is returned, not an error.
	second, err := EnsureQueue(ctx, c, "dlq", map[string]string{"MessageRetentionPeriod": "60"})
	if err != nil || second != first {
		t.Errorf("second EnsureQueue = %q, %v; want %q", second, err, first)
	}
	attrs, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &first, AttributeNames: []types.QueueAttributeName{"MessageRetentionPeriod"}})
	if err != nil || attrs.Attributes["MessageRetentionPeriod"] != "1209600" {
		t.Errorf("retention = %v, %v; want 1209600", attrs, err)
	}
	if _, err := EnsureQueue(ctx, c, "bad name", nil); err == nil {
		t.Error("invalid name: no error")
	}
}

func TestReceiveAndDelete(t *testing.T) {
	c := sqslocaltest.Client(t)
	ctx := context.Background()
	url, err := EnsureQueue(ctx, c, "dlq", map[string]string{"VisibilityTimeout": "1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("not a letter")}); err != nil {
		t.Fatal(err)
	}
	got, err := Receive(ctx, c, url, 1, time.Second)
	if err != nil || len(got) != 1 {
		t.Fatalf("Receive = %v, %v", got, err)
	}
	if got[0].DecodeErr == nil || got[0].Body != "not a letter" {
		t.Errorf("foreign message: DecodeErr %v, Body %q", got[0].DecodeErr, got[0].Body)
	}
	if err := Delete(ctx, c, url, got[0].ReceiptHandle); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	if again, err := Receive(ctx, c, url, 10, 0); err != nil || len(again) != 0 {
		t.Errorf("after Delete and the visibility timeout: %v, %v; want nothing", again, err)
	}
	for _, bad := range []struct {
		max  int
		wait time.Duration
	}{{0, 0}, {11, 0}, {1, 21 * time.Second}} {
		if _, err := Receive(ctx, c, url, bad.max, bad.wait); err == nil {
			t.Errorf("Receive(max %d, wait %s) = nil error", bad.max, bad.wait)
		}
	}
}
