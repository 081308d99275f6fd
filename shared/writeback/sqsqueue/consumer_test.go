package sqsqueue

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/shared/erp"
	"github.com/recoup-dev/recoup/shared/sender/letters"
)

func msg(t *testing.T, id, group string, body any) events.SQSMessage {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return events.SQSMessage{MessageId: id, Body: string(b), Attributes: map[string]string{"MessageGroupId": group, "ApproximateReceiveCount": "1"}}
}

// TestHandleKeepsCustomerOrder: after one of a customer's actions fails,
// the customer's later actions in the batch fail unprocessed; other
// customers' go on. A letter request from the letters sender is delivered
// as a dunning-letter action keyed by its attempt; an invalid action goes
// to the sink.
func TestHandleKeepsCustomerOrder(t *testing.T) {
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	note := func(customer, cause string) erp.Action {
		a := erp.New("acme", erp.KindNote, cause, erp.Target{Customer: customer}, at)
		a.Text = "x"
		return a
	}
	hold, release, other := note("C-1", "event:1"), note("C-1", "event:2"), note("C-2", "event:3")
	invalid := note("C-3", "event:4")
	invalid.Text = ""
	letter := letters.Request{Kind: letters.KindDunningLetter, Tenant: "acme", Customer: "C-4", AttemptID: "att-9",
		Subject: "Overdue", Text: "Please pay.", QueuedAt: at}
	d := &scripted{retry: map[string]bool{hold.Key: true}, finals: map[string][]bool{}}
	s := &sink{}
	c := &Consumer{Deliverer: d, Sink: s, MaxReceives: 5}
	resp, err := c.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		msg(t, "m1", "acme#C-1", hold), msg(t, "m2", "acme#C-1", release), msg(t, "m3", "acme#C-2", other),
		msg(t, "m4", "acme#C-3", invalid), msg(t, "m5", "acme#C-4", letter),
	}})
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	if diff := cmp.Diff([]string{"m1", "m2"}, failed); diff != "" {
		t.Errorf("failed (-want +got):\n%s", diff)
	}
	if _, ok := d.finals[release.Key]; ok {
		t.Error("the release was delivered after the hold before it failed")
	}
	wantLetter := erp.KeyOf("acme", erp.KindDunningLetter, "attempt:att-9", erp.Target{Customer: "C-4"})
	if len(d.finals[other.Key]) != 1 || len(d.finals[wantLetter]) != 1 {
		t.Errorf("deliveries %v", d.finals)
	}
	if len(s.letters) != 1 || s.letters[0].RecordID != "m4" {
		t.Errorf("sink %+v", s.letters)
	}
}
