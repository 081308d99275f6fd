package kinesis

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/recoup-dev/recoup/events"
	"github.com/recoup-dev/recoup/infra/local/localtest"
	"github.com/recoup-dev/recoup/shared/awsconfig"
)

// throttleOnce is the real kinesalite client with a fault injected: the
// first PutRecords sends only the first keep records and reports the rest
// refused, as Kinesis does when a shard is over its write limit.
type throttleOnce struct {
	*kinesis.Client
	keep int
	done bool
}

func (c *throttleOnce) PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, opts ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	if c.done || len(in.Records) <= c.keep {
		return c.Client.PutRecords(ctx, in, opts...)
	}
	c.done = true
	part := *in
	part.Records = in.Records[:c.keep]
	out, err := c.Client.PutRecords(ctx, &part, opts...)
	if err != nil {
		return nil, err
	}
	for range in.Records[c.keep:] {
		out.Records = append(out.Records, types.PutRecordsResultEntry{
			ErrorCode: aws.String("ProvisionedThroughputExceededException"), ErrorMessage: aws.String("injected")})
	}
	out.FailedRecordCount = aws.Int32(int32(len(in.Records) - c.keep))
	return out, nil
}

func TestIntegrationPutKeepsOrderThroughThrottling(t *testing.T) {
	localtest.Require(t, "AWS_ENDPOINT_URL_KINESIS")
	ctx := context.Background()
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client := &throttleOnce{Client: kinesis.NewFromConfig(cfg), keep: 7}
	stream := fmt.Sprintf("put-%d", time.Now().UnixNano())
	pub, err := NewPublisher(client, stream)
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.EnsureStream(ctx, 1); err != nil {
		t.Fatal(err)
	}
	var evs []events.Event
	at := time.Date(2026, 4, 14, 15, 0, 0, 0, time.UTC)
	for i := range 20 {
		evs = append(evs, events.Event{ID: fmt.Sprintf("e%02d", i), Tenant: "acme", Customer: "C1", Channel: events.Channel("sms"),
			ContactPoint: "+16175550142", OccurredAt: at.Add(time.Duration(i) * time.Second), Source: "sms",
			Payload: events.SMSDelivered{}})
	}
	if err := pub.Put(ctx, evs); err != nil {
		t.Fatal(err)
	}
	shards, err := client.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatal(err)
	}
	it, err := client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(stream),
		ShardId: shards.Shards[0].ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs.Records) != len(evs) {
		t.Fatalf("%d records on the stream, want %d", len(recs.Records), len(evs))
	}
	for i, r := range recs.Records {
		ev, err := events.Decode(r.Data)
		if err != nil {
			t.Fatal(err)
		}
		if ev.ID != evs[i].ID {
			t.Errorf("record %d is %s, want %s: order lost across the retry", i, ev.ID, evs[i].ID)
		}
	}
}
