package sqslocal

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// The request and response members below are named exactly as in the SQS
// Smithy model, which is how AWS JSON 1.0 names them on the wire. Optional
// numbers are pointers so that "absent" (use the queue's default) differs
// from 0.

// attributeValue is a MessageAttributeValue or MessageSystemAttributeValue.
// BinaryValue is a blob, base64 in JSON (encoding/json does the same).
type attributeValue struct {
	DataType         string   `json:"DataType"`
	StringValue      *string  `json:"StringValue,omitempty"`
	BinaryValue      []byte   `json:"BinaryValue,omitempty"`
	StringListValues []string `json:"StringListValues,omitempty"`
	BinaryListValues [][]byte `json:"BinaryListValues,omitempty"`
}

type queueURLInput struct {
	QueueUrl *string `json:"QueueUrl"`
}

type createQueueInput struct {
	QueueName  *string           `json:"QueueName"`
	Attributes map[string]string `json:"Attributes"`
	Tags       map[string]string `json:"tags"`
}

type getQueueURLInput struct {
	QueueName              *string `json:"QueueName"`
	QueueOwnerAWSAccountId *string `json:"QueueOwnerAWSAccountId"`
}

type listQueuesInput struct {
	QueueNamePrefix *string `json:"QueueNamePrefix"`
	MaxResults      *int    `json:"MaxResults"`
	NextToken       *string `json:"NextToken"`
}

type getQueueAttributesInput struct {
	QueueUrl       *string  `json:"QueueUrl"`
	AttributeNames []string `json:"AttributeNames"`
}

type setQueueAttributesInput struct {
	QueueUrl   *string           `json:"QueueUrl"`
	Attributes map[string]string `json:"Attributes"`
}

type sendEntry struct {
	Id                      *string                   `json:"Id,omitempty"`
	MessageBody             *string                   `json:"MessageBody"`
	DelaySeconds            *int                      `json:"DelaySeconds"`
	MessageAttributes       map[string]attributeValue `json:"MessageAttributes"`
	MessageSystemAttributes map[string]attributeValue `json:"MessageSystemAttributes"`
	MessageDeduplicationId  *string                   `json:"MessageDeduplicationId"`
	MessageGroupId          *string                   `json:"MessageGroupId"`
}

type sendMessageInput struct {
	QueueUrl *string `json:"QueueUrl"`
	sendEntry
}

type sendMessageBatchInput struct {
	QueueUrl *string     `json:"QueueUrl"`
	Entries  []sendEntry `json:"Entries"`
}

type receiveMessageInput struct {
	QueueUrl                    *string  `json:"QueueUrl"`
	AttributeNames              []string `json:"AttributeNames"`
	MessageSystemAttributeNames []string `json:"MessageSystemAttributeNames"`
	MessageAttributeNames       []string `json:"MessageAttributeNames"`
	MaxNumberOfMessages         *int     `json:"MaxNumberOfMessages"`
	VisibilityTimeout           *int     `json:"VisibilityTimeout"`
	WaitTimeSeconds             *int     `json:"WaitTimeSeconds"`
	ReceiveRequestAttemptId     *string  `json:"ReceiveRequestAttemptId"`
}

type handleEntry struct {
	Id                *string `json:"Id"`
	ReceiptHandle     *string `json:"ReceiptHandle"`
	VisibilityTimeout *int    `json:"VisibilityTimeout"`
}

type deleteMessageInput struct {
	QueueUrl      *string `json:"QueueUrl"`
	ReceiptHandle *string `json:"ReceiptHandle"`
}

type changeVisibilityInput struct {
	QueueUrl          *string `json:"QueueUrl"`
	ReceiptHandle     *string `json:"ReceiptHandle"`
	VisibilityTimeout *int    `json:"VisibilityTimeout"`
}

type batchHandleInput struct {
	QueueUrl *string       `json:"QueueUrl"`
	Entries  []handleEntry `json:"Entries"`
}

// Responses.

type sendResult struct {
	Id                           string `json:"Id,omitempty"`
	MessageId                    string `json:"MessageId"`
	MD5OfMessageBody             string `json:"MD5OfMessageBody"`
	MD5OfMessageAttributes       string `json:"MD5OfMessageAttributes,omitempty"`
	MD5OfMessageSystemAttributes string `json:"MD5OfMessageSystemAttributes,omitempty"`
	SequenceNumber               string `json:"SequenceNumber,omitempty"`
}

type batchErrorEntry struct {
	Id          string `json:"Id"`
	Code        string `json:"Code"`
	Message     string `json:"Message,omitempty"`
	SenderFault bool   `json:"SenderFault"`
}

type idEntry struct {
	Id string `json:"Id"`
}

type messageOut struct {
	MessageId              string                    `json:"MessageId"`
	ReceiptHandle          string                    `json:"ReceiptHandle"`
	MD5OfBody              string                    `json:"MD5OfBody"`
	Body                   string                    `json:"Body"`
	Attributes             map[string]string         `json:"Attributes,omitempty"`
	MD5OfMessageAttributes string                    `json:"MD5OfMessageAttributes,omitempty"`
	MessageAttributes      map[string]attributeValue `json:"MessageAttributes,omitempty"`
}

// operations maps each X-Amz-Target operation to a fresh input value.
var operations = map[string]func() any{
	"CreateQueue":                  func() any { return new(createQueueInput) },
	"GetQueueUrl":                  func() any { return new(getQueueURLInput) },
	"ListQueues":                   func() any { return new(listQueuesInput) },
	"GetQueueAttributes":           func() any { return new(getQueueAttributesInput) },
	"SetQueueAttributes":           func() any { return new(setQueueAttributesInput) },
	"DeleteQueue":                  func() any { return new(queueURLInput) },
	"PurgeQueue":                   func() any { return new(queueURLInput) },
	"SendMessage":                  func() any { return new(sendMessageInput) },
	"SendMessageBatch":             func() any { return new(sendMessageBatchInput) },
	"ReceiveMessage":               func() any { return new(receiveMessageInput) },
	"DeleteMessage":                func() any { return new(deleteMessageInput) },
	"DeleteMessageBatch":           func() any { return new(batchHandleInput) },
	"ChangeMessageVisibility":      func() any { return new(changeVisibilityInput) },
	"ChangeMessageVisibilityBatch": func() any { return new(batchHandleInput) },
}

// targetPrefix is the X-Amz-Target prefix of every SQS JSON operation.
const targetPrefix = "AmazonSQS."

// decodeRequest reads the body of an AWS JSON 1.0 request for target into
// its input type. Unknown members are ignored, as Smithy services do; a body
// that is not one JSON object of the right shape is a SerializationException.
func decodeRequest(target string, body []byte) (string, any, error) {
	op, ok := strings.CutPrefix(target, targetPrefix)
	newInput, known := operations[op]
	if !ok || !known {
		return "", nil, errUnknownOperation(target)
	}
	in := newInput()
	if len(bytes.TrimSpace(body)) == 0 {
		return op, in, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(in); err != nil {
		return "", nil, errSerialization("cannot read the %s request: %v", op, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return "", nil, errSerialization("cannot read the %s request: data after the JSON object", op)
	}
	return op, in, nil
}
