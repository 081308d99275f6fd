package sqslocal

import (
	"errors"
	"testing"
)

// FuzzDecodeRequest checks that any body, for any target, decodes or fails
// with an SQS error value, and never panics.
func FuzzDecodeRequest(f *testing.F) {
	f.Add("AmazonSQS.SendMessage", []byte(`{"QueueUrl":"http://127.0.0.1:1/000000000000/q","MessageBody":"x","DelaySeconds":3}`))
	f.Add("AmazonSQS.SendMessageBatch", []byte(`{"QueueUrl":"u","Entries":[{"Id":"a","MessageBody":"b","MessageAttributes":{"k":{"DataType":"Binary","BinaryValue":"AAE="}}}]}`))
	f.Add("AmazonSQS.ReceiveMessage", []byte(`{"MaxNumberOfMessages":1.5}`))
	f.Add("AmazonSQS.CreateQueue", []byte(`{"QueueName":"q","Attributes":{"RedrivePolicy":"{}"}}`))
	f.Add("AmazonSQS.ListQueues", []byte(``))
	f.Add("AmazonSQS.Nope", []byte(`{}`))
	f.Add("AmazonSQS.DeleteMessageBatch", []byte(`{"Entries":[null]} {}`))
	f.Fuzz(func(t *testing.T, target string, body []byte) {
		op, in, err := decodeRequest(target, body)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.status != 400 || ae.shape == "" {
				t.Fatalf("decodeRequest error %v is not a 400 SQS error", err)
			}
			return
		}
		if op == "" || in == nil {
			t.Fatalf("decodeRequest(%q) = %q, %v without an error", target, op, in)
		}
	})
}
