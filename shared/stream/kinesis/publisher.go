// Package kinesis is the Kinesis adapter for engagement events: it puts
// events on a stream with the customer as partition key, so one customer's
// events stay in order on one shard.
package kinesis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/recoup-dev/recoup/events"
)

// API is the part of the Kinesis client the publisher uses.
type API interface {
	PutRecords(context.Context, *kinesis.PutRecordsInput, ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error)
	DescribeStreamSummary(context.Context, *kinesis.DescribeStreamSummaryInput, ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error)
	CreateStream(context.Context, *kinesis.CreateStreamInput, ...func(*kinesis.Options)) (*kinesis.CreateStreamOutput, error)
}

var _ API = (*kinesis.Client)(nil)

// Publisher puts engagement events on one stream.
type Publisher struct {
	api    API
	stream string
}

// NewPublisher returns a publisher for the named stream (by name: kinesalite
// does not take stream ARNs).
func NewPublisher(api API, stream string) (*Publisher, error) {
	if api == nil || stream == "" {
		return nil, errors.New("kinesis: NewPublisher needs a client and a stream name")
	}
	return &Publisher{api: api, stream: stream}, nil
}

// PutRecords limits: 500 records and 5 MiB a call.
const (
	maxRecords = 500
	maxBytes   = 5 << 20
	maxRetries = 8
)

// Put puts events in the order given. A customer's events must keep their
// order, so a record Kinesis refuses (throttling) is retried together with
// every later record of the same call before anything after them is sent.
func (p *Publisher) Put(ctx context.Context, evs []events.Event) error {
	recs := make([]types.PutRecordsRequestEntry, len(evs))
	for i, ev := range evs {
		data, err := events.Encode(ev)
		if err != nil {
			return fmt.Errorf("event %d (%s): %w", i+1, ev.ID, err)
		}
		recs[i] = types.PutRecordsRequestEntry{Data: data, PartitionKey: aws.String(ev.PartitionKey())}
	}
	for start := 0; start < len(recs); {
		end, size := start, 0
		for end < len(recs) && end-start < maxRecords && size+len(recs[end].Data)+len(*recs[end].PartitionKey) <= maxBytes {
			size += len(recs[end].Data) + len(*recs[end].PartitionKey)
			end++
		}
		if err := p.putAll(ctx, recs[start:end]); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// putAll sends a batch, resending from the first refused record on.
func (p *Publisher) putAll(ctx context.Context, batch []types.PutRecordsRequestEntry) error {
	for try := 0; len(batch) > 0; try++ {
		if try > maxRetries {
			return fmt.Errorf("put on stream %s: %d records still refused after %d retries", p.stream, len(batch), maxRetries)
		}
		if try > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(50<<min(try, 5)) * time.Millisecond):
			}
		}
		out, err := p.api.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(p.stream), Records: batch})
		if err != nil {
			return fmt.Errorf("put on stream %s: %w", p.stream, err)
		}
		if aws.ToInt32(out.FailedRecordCount) == 0 {
			return nil
		}
		first := len(batch)
		for i, r := range out.Records {
			if r.ErrorCode != nil {
				first = i
				break
			}
		}
		// Records after the first refused one may have been accepted; sending
		// them again may duplicate them, which consumers absorb (event ids are
		// idempotency keys), but never reorders a customer's events.
		batch = batch[first:]
	}
	return nil
}

// EnsureStream creates the stream with the given shard count if it does
// not exist and waits until it is active.
func (p *Publisher) EnsureStream(ctx context.Context, shards int32) error {
	_, err := p.api.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(p.stream)})
	var missing *types.ResourceNotFoundException
	switch {
	case errors.As(err, &missing):
		if _, err := p.api.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(p.stream), ShardCount: aws.Int32(shards)}); err != nil {
			var inUse *types.ResourceInUseException
			if !errors.As(err, &inUse) {
				return fmt.Errorf("create stream %s: %w", p.stream, err)
			}
		}
	case err != nil:
		return fmt.Errorf("describe stream %s: %w", p.stream, err)
	}
	for range 600 {
		d, err := p.api.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(p.stream)})
		if err != nil {
			return fmt.Errorf("describe stream %s: %w", p.stream, err)
		}
		if d.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("stream %s not active after 60 s", p.stream)
}
