package letters

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/infra/local/localtest"
	streamsqs "github.com/recoup-dev/recoup/shared/stream/sqs"
)

// TestIntegrationLetters queues a letter on the local stack's SQS, on a
// standard and a FIFO queue, and reads the request back as the ERP
// write-back will. On the FIFO queue a repeat of the attempt is accepted
// and not queued again.
func TestIntegrationLetters(t *testing.T) {
	client, name := localtest.SQS(t)
	tests := []struct {
		name  string
		queue string
		attrs map[string]string
	}{
		{"standard", name, nil},
		{"fifo", name + ".fifo", map[string]string{"FifoQueue": "true"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			url, err := streamsqs.EnsureQueue(ctx, client, tc.queue, tc.attrs)
			if err != nil {
				t.Fatal(err)
			}
			s, err := New(client, Options{QueueURL: url})
			if err != nil {
				t.Fatal(err)
			}
			m := message()
			rc, err := s.Send(ctx, m)
			if err != nil {
				t.Fatal(err)
			}
			fifo := tc.attrs != nil
			if fifo {
				if _, err := s.Send(ctx, m); err != nil {
					t.Fatalf("repeat: %v", err)
				}
			}
			got := receive(ctx, t, client, url)
			if len(got) != 1 {
				t.Fatalf("received %d messages, want 1", len(got))
			}
			msg := got[0]
			if aws.ToString(msg.MessageId) != rc.ProviderID {
				t.Errorf("received message %s, receipt names %s", aws.ToString(msg.MessageId), rc.ProviderID)
			}
			req, err := Decode([]byte(aws.ToString(msg.Body)))
			if err != nil {
				t.Fatal(err)
			}
			want := Request{Kind: KindDunningLetter, Tenant: m.Tenant, Customer: m.Customer, AttemptID: m.AttemptID, Debt: m.Debt,
				Subject: m.Content.Subject, Text: m.Content.Text, QueuedAt: rc.At}
			if diff := cmp.Diff(want, req); diff != "" {
				t.Errorf("request read back (-want +got):\n%s", diff)
			}
			attrs := map[string]string{}
			for k, v := range msg.MessageAttributes {
				attrs[k] = aws.ToString(v.StringValue)
			}
			wantAttrs := map[string]string{AttrTenant: "acme", AttrCustomer: "C4", AttrAttempt: "cyc-0a1b", AttrKind: KindDunningLetter}
			if diff := cmp.Diff(wantAttrs, attrs); diff != "" {
				t.Errorf("message attributes (-want +got):\n%s", diff)
			}
			if fifo {
				if g := msg.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)]; g != "acme#C4" {
					t.Errorf("MessageGroupId %q, want acme#C4", g)
				}
			}
			// Deleting the letter unblocks its FIFO group, so a repeat that
			// had been queued would now be received.
			if err := streamsqs.Delete(ctx, client, url, aws.ToString(msg.ReceiptHandle)); err != nil {
				t.Fatal(err)
			}
			if more := receive(ctx, t, client, url); len(more) != 0 {
				t.Errorf("%d more messages on the queue, want none", len(more))
			}
		})
	}
}

// receive reads what is on the queue, waiting a second for the first
// message, with attributes.
func receive(ctx context.Context, t *testing.T, client *sqs.Client, url string) []types.Message {
	t.Helper()
	out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Messages
}
