package sqs

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/infra/local/localtest"
	"github.com/recoup-dev/recoup/shared/deadletter"
)

// TestIntegrationDeadLetters puts letters on the local stack's SQS and reads
// them back.
func TestIntegrationDeadLetters(t *testing.T) {
	client, name := localtest.SQS(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// A short visibility timeout: a receive whose answer the SDK lost and
	// retried leaves its messages in flight, and they must come back
	// before the deadline below.
	url, err := EnsureQueue(ctx, client, name, map[string]string{"MessageRetentionPeriod": "1209600", "VisibilityTimeout": "2"})
	if err != nil {
		t.Fatal(err)
	}
	sink, err := NewDeadLetters(client, url)
	if err != nil {
		t.Fatal(err)
	}
	want := letters(12, 64)
	if err := sink.Put(ctx, want); err != nil {
		t.Fatal(err)
	}
	got := map[string]deadletter.Letter{}
	// An empty receive does not mean the queue is empty (SQS samples its
	// servers; the emulator under load answers late), so poll until every
	// letter is back or 20 s have passed.
	deadline := time.Now().Add(20 * time.Second)
	for len(got) < len(want) && time.Now().Before(deadline) {
		rs, err := Receive(ctx, client, url, 10, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if r.DecodeErr != nil {
				t.Fatalf("message %s: %v", r.MessageID, r.DecodeErr)
			}
			got[r.Letter.RecordID] = r.Letter
			if err := Delete(ctx, client, url, r.ReceiptHandle); err != nil {
				t.Fatal(err)
			}
		}
	}
	if diff := cmp.Diff(byRecordID(want), got); diff != "" {
		t.Errorf("letters read back (-want +got):\n%s", diff)
	}
}
