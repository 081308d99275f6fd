package lambdahost

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// fakeKinesis is an in-memory KinesisAPI with just enough behaviour for the
// poller: shards with parents, closing, and iterators that encode a
// position.
type fakeKinesis struct {
	mu      sync.Mutex
	stream  string
	created time.Time
	exists  bool
	shards  []*fakeShard
	nextSeq int
	// getRecordsCalls lets tests wait until a reader is polling.
	getRecordsCalls int
}

type fakeShard struct {
	id     string
	parent string
	recs   []types.Record
	closed bool
}

func newFakeKinesis(stream string, shards int) *fakeKinesis {
	k := &fakeKinesis{stream: stream, created: time.Now().Truncate(time.Millisecond), exists: true, nextSeq: 1000}
	for range shards {
		k.addShard("")
	}
	return k
}

func (k *fakeKinesis) addShard(parent string) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	id := fmt.Sprintf("shardId-%012d", len(k.shards))
	k.shards = append(k.shards, &fakeShard{id: id, parent: parent})
	return id
}

func (k *fakeKinesis) closeShard(id string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.shard(id).closed = true
}

// recreate simulates deleting and re-creating the stream (e.g. kinesalite
// restarted in memory): same name, new creation time, empty shards.
func (k *fakeKinesis) recreate() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.created = k.created.Add(time.Hour)
	for _, s := range k.shards {
		s.recs = nil
		s.closed = false
	}
}

// put appends records to a shard and returns their sequence numbers.
func (k *fakeKinesis) put(shardID string, data ...string) []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	s := k.shard(shardID)
	var seqs []string
	for _, d := range data {
		k.nextSeq++
		// Real sequence numbers are long decimals; any unique,
		// increasing string works for the poller.
		seq := fmt.Sprintf("4960000000000000000000000000%08d", k.nextSeq)
		now := time.Now()
		s.recs = append(s.recs, types.Record{
			Data:                        []byte(d),
			SequenceNumber:              aws.String(seq),
			PartitionKey:                aws.String("pk-" + d),
			ApproximateArrivalTimestamp: &now,
		})
		seqs = append(seqs, seq)
	}
	return seqs
}

func (k *fakeKinesis) shard(id string) *fakeShard {
	for _, s := range k.shards {
		if s.id == id {
			return s
		}
	}
	return nil
}

func notFound(what string) error {
	return &types.ResourceNotFoundException{Message: aws.String(what + " not found")}
}

func (k *fakeKinesis) DescribeStreamSummary(ctx context.Context, in *kinesis.DescribeStreamSummaryInput, _ ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.exists || aws.ToString(in.StreamName) != k.stream {
		return nil, notFound("stream")
	}
	created := k.created
	return &kinesis.DescribeStreamSummaryOutput{StreamDescriptionSummary: &types.StreamDescriptionSummary{
		StreamName:              aws.String(k.stream),
		StreamStatus:            types.StreamStatusActive,
		StreamCreationTimestamp: &created,
	}}, nil
}

func (k *fakeKinesis) ListShards(ctx context.Context, in *kinesis.ListShardsInput, _ ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.exists || aws.ToString(in.StreamName) != k.stream {
		return nil, notFound("stream")
	}
	out := &kinesis.ListShardsOutput{}
	for _, s := range k.shards {
		sh := types.Shard{ShardId: aws.String(s.id)}
		if s.parent != "" {
			sh.ParentShardId = aws.String(s.parent)
		}
		out.Shards = append(out.Shards, sh)
	}
	return out, nil
}

func (k *fakeKinesis) GetShardIterator(ctx context.Context, in *kinesis.GetShardIteratorInput, _ ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	s := k.shard(aws.ToString(in.ShardId))
	if !k.exists || s == nil {
		return nil, notFound("shard")
	}
	var pos int
	switch in.ShardIteratorType {
	case types.ShardIteratorTypeTrimHorizon:
		pos = 0
	case types.ShardIteratorTypeLatest:
		pos = len(s.recs)
	case types.ShardIteratorTypeAfterSequenceNumber:
		pos = -1
		for i, r := range s.recs {
			if aws.ToString(r.SequenceNumber) == aws.ToString(in.StartingSequenceNumber) {
				pos = i + 1
			}
		}
		if pos < 0 {
			return nil, &types.InvalidArgumentException{Message: aws.String("unknown sequence number")}
		}
	default:
		return nil, &types.InvalidArgumentException{Message: aws.String("unsupported iterator type")}
	}
	return &kinesis.GetShardIteratorOutput{ShardIterator: aws.String(fmt.Sprintf("%s/%d", s.id, pos))}, nil
}

func (k *fakeKinesis) GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.getRecordsCalls++
	id, posStr, _ := strings.Cut(aws.ToString(in.ShardIterator), "/")
	pos, err := strconv.Atoi(posStr)
	s := k.shard(id)
	if err != nil || s == nil {
		return nil, &types.InvalidArgumentException{Message: aws.String("bad iterator")}
	}
	if pos > len(s.recs) { // the stream was re-created under us
		pos = len(s.recs)
	}
	end := min(len(s.recs), pos+int(aws.ToInt32(in.Limit)))
	out := &kinesis.GetRecordsOutput{Records: append([]types.Record(nil), s.recs[pos:end]...)}
	if !(s.closed && end == len(s.recs)) {
		out.NextShardIterator = aws.String(fmt.Sprintf("%s/%d", s.id, end))
	}
	return out, nil
}

func (k *fakeKinesis) polls() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.getRecordsCalls
}
