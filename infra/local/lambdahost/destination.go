package lambdahost

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	sqsq "github.com/recoup-dev/recoup/shared/stream/sqs"
)

// SQSAPI is the part of the SQS client the on-failure destination uses.
type SQSAPI interface {
	GetQueueUrl(context.Context, *sqs.GetQueueUrlInput, ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
	CreateQueue(context.Context, *sqs.CreateQueueInput, ...func(*sqs.Options)) (*sqs.CreateQueueOutput, error)
	SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

var _ SQSAPI = (*sqs.Client)(nil)

// DestinationRecord is what Lambda sends to an SQS on-failure destination
// of a Kinesis event source mapping ("Retaining records of discarded
// batches" in the Lambda developer guide): the invocation context and
// where the discarded records are on the stream, not the records.
type DestinationRecord struct {
	RequestContext   DestinationRequestContext  `json:"requestContext"`
	ResponseContext  DestinationResponseContext `json:"responseContext"`
	Version          string                     `json:"version"`
	Timestamp        string                     `json:"timestamp"`
	KinesisBatchInfo KinesisBatchInfo           `json:"KinesisBatchInfo"`
}

// DestinationRequestContext describes the last invocation of the batch.
type DestinationRequestContext struct {
	RequestID              string `json:"requestId"`
	FunctionARN            string `json:"functionArn"`
	Condition              string `json:"condition"`
	ApproximateInvokeCount int    `json:"approximateInvokeCount"`
}

// DestinationResponseContext describes the function's answer.
type DestinationResponseContext struct {
	StatusCode      int    `json:"statusCode"`
	ExecutedVersion string `json:"executedVersion"`
	FunctionError   string `json:"functionError"`
}

// KinesisBatchInfo locates the discarded records on the stream.
type KinesisBatchInfo struct {
	ShardID                         string `json:"shardId"`
	StartSequenceNumber             string `json:"startSequenceNumber"`
	EndSequenceNumber               string `json:"endSequenceNumber"`
	ApproximateArrivalOfFirstRecord string `json:"approximateArrivalOfFirstRecord"`
	ApproximateArrivalOfLastRecord  string `json:"approximateArrivalOfLastRecord"`
	BatchSize                       int    `json:"batchSize"`
	StreamARN                       string `json:"streamArn"`
}

// destinationTime is the timestamp layout of on-failure records
// (2019-11-14T00:38:06.021Z).
const destinationTime = "2006-01-02T15:04:05.000Z"

func (p *KinesisPoller) destinationRecord(shard string, recs []types.Record, attempts int, at time.Time) DestinationRecord {
	arrival := func(r types.Record) string {
		if r.ApproximateArrivalTimestamp == nil {
			return ""
		}
		return r.ApproximateArrivalTimestamp.UTC().Format(destinationTime)
	}
	return DestinationRecord{
		RequestContext: DestinationRequestContext{
			RequestID:              newRequestID(),
			FunctionARN:            FunctionARN(p.region, p.m.Function),
			Condition:              "RetryAttemptsExhausted",
			ApproximateInvokeCount: attempts,
		},
		// The host gives up only on function errors (or reported item
		// failures), which Lambda reports as a 200 with an Unhandled error.
		ResponseContext: DestinationResponseContext{StatusCode: 200, ExecutedVersion: "$LATEST", FunctionError: "Unhandled"},
		Version:         "1.0",
		Timestamp:       at.UTC().Format(destinationTime),
		KinesisBatchInfo: KinesisBatchInfo{
			ShardID:                         shard,
			StartSequenceNumber:             aws.ToString(recs[0].SequenceNumber),
			EndSequenceNumber:               aws.ToString(recs[len(recs)-1].SequenceNumber),
			ApproximateArrivalOfFirstRecord: arrival(recs[0]),
			ApproximateArrivalOfLastRecord:  arrival(recs[len(recs)-1]),
			BatchSize:                       len(recs),
			StreamARN:                       p.streamARN,
		},
	}
}

// onFailureQueueURL returns the destination queue's URL, creating the
// queue when it does not exist, and remembers it.
func (p *KinesisPoller) onFailureQueueURL(ctx context.Context) (string, error) {
	p.queueMu.Lock()
	defer p.queueMu.Unlock()
	if p.queueURL != "" {
		return p.queueURL, nil
	}
	if p.sqs == nil {
		return "", errors.New("no SQS client")
	}
	url, err := sqsq.EnsureQueue(ctx, p.sqs, p.m.OnFailureQueue, nil)
	if err != nil {
		return "", err
	}
	p.queueURL = url
	p.log.Info("on-failure queue ready", "queue", p.m.OnFailureQueue, "url", url)
	return url, nil
}

func (p *KinesisPoller) sendFailure(rec DestinationRecord) error {
	// Not the poller's context: a record given up on during shutdown must
	// still be kept.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url, err := p.onFailureQueueURL(ctx)
	if err != nil {
		return err
	}
	body, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = p.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(string(body))})
	return err
}
