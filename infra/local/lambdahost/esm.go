package lambdahost

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/recoup-dev/recoup/shared/atomicfile"
)

// KinesisAPI is the part of the Kinesis API a poller needs.
// *kinesis.Client satisfies it; tests use an in-memory fake.
type KinesisAPI interface {
	DescribeStreamSummary(ctx context.Context, in *kinesis.DescribeStreamSummaryInput, optFns ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error)
	ListShards(ctx context.Context, in *kinesis.ListShardsInput, optFns ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error)
	GetShardIterator(ctx context.Context, in *kinesis.GetShardIteratorInput, optFns ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error)
}

// Invoker runs one synchronous invocation. *Host satisfies it.
type Invoker interface {
	Invoke(ctx context.Context, function string, payload []byte) (*InvokeResult, error)
}

// FailureRecord is one line of a mapping's on-failure file: the local
// equivalent of the invocation record Lambda sends to an on-failure
// destination when it gives up on a batch.
type FailureRecord struct {
	Function      string    `json:"function"`
	Stream        string    `json:"stream"`
	Shard         string    `json:"shard"`
	StartSequence string    `json:"start_sequence"`
	EndSequence   string    `json:"end_sequence"`
	RecordCount   int       `json:"record_count"`
	Reason        string    `json:"reason"`
	At            time.Time `json:"at"`
}

// PollerOptions tune a KinesisPoller.
type PollerOptions struct {
	// Region goes into eventSourceARN and awsRegion (default us-east-1).
	Region string
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// ShardRefreshInterval is how often shards are re-listed (default 10s).
	ShardRefreshInterval time.Duration
	// SQS sends on-failure records when the mapping has OnFailureQueue.
	SQS SQSAPI
}

// KinesisPoller is one Kinesis event source mapping. Each shard is read by
// its own goroutine, one batch at a time, and a batch is finished
// (succeeded or given up on) before the next one is read, so records of a
// partition key reach the function in order.
type KinesisPoller struct {
	m         EventSourceMappingConfig
	api       KinesisAPI
	inv       Invoker
	region    string
	streamARN string
	log       *slog.Logger
	refresh   time.Duration
	poll      time.Duration

	mu        sync.Mutex
	state     checkpointState
	failMu    sync.Mutex
	lastSaveE string

	sqs      SQSAPI
	queueMu  sync.Mutex
	queueURL string // OnFailureQueue's URL once known
}

// checkpointState is the persisted checkpoint file.
type checkpointState struct {
	Function string `json:"function"`
	Stream   string `json:"stream"`
	// StreamCreatedAt detects a stream that was deleted and re-created
	// (kinesalite restarted in memory): old sequence numbers then mean
	// nothing and the checkpoints are dropped.
	StreamCreatedAt string `json:"stream_created_at,omitempty"`
	// Shards maps shard ID to the last sequence number fully handled
	// (processed, or given up on and written to the on-failure file).
	Shards map[string]string `json:"shards"`
	// FinishedShards are closed shards read to their end; their children
	// may start.
	FinishedShards []string  `json:"finished_shards,omitempty"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// NewKinesisPoller creates a poller for mapping m, reading through api and
// invoking through inv.
func NewKinesisPoller(m EventSourceMappingConfig, api KinesisAPI, inv Invoker, opts PollerOptions) *KinesisPoller {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ShardRefreshInterval <= 0 {
		opts.ShardRefreshInterval = 10 * time.Second
	}
	if m.BatchSize <= 0 {
		m.BatchSize = DefaultBatchSize
	}
	if m.PollingIntervalMS <= 0 {
		m.PollingIntervalMS = DefaultPollingIntervalMS
	}
	return &KinesisPoller{
		m:         m,
		api:       api,
		inv:       inv,
		region:    opts.Region,
		streamARN: StreamARN(opts.Region, m.StreamName),
		log:       opts.Logger.With("esm_function", m.Function, "stream", m.StreamName),
		refresh:   opts.ShardRefreshInterval,
		poll:      time.Duration(m.PollingIntervalMS) * time.Millisecond,
		sqs:       opts.SQS,
		state: checkpointState{
			Function: m.Function,
			Stream:   m.StreamName,
			Shards:   map[string]string{},
		},
	}
}

// Checkpoints returns a copy of the per-shard checkpoints (last handled
// sequence number).
func (p *KinesisPoller) Checkpoints() map[string]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]string, len(p.state.Shards))
	for k, v := range p.state.Shards {
		out[k] = v
	}
	return out
}

// iteratorSpec is where a shard reader starts.
type iteratorSpec struct {
	typ types.ShardIteratorType
}

type shardExit struct {
	id       string
	finished bool
}

// Run polls until ctx is cancelled, then waits for in-flight batches to
// stop and returns.
func (p *KinesisPoller) Run(ctx context.Context) {
	p.loadCheckpoints()
	if p.m.OnFailureQueue != "" {
		// Create the destination up front, as deploying a mapping with a
		// destination needs the queue to exist; a failure here is retried
		// at the first discarded batch.
		if _, err := p.onFailureQueueURL(ctx); err != nil {
			p.log.Error("on-failure queue not ready", "queue", p.m.OnFailureQueue, "err", err)
		}
	}
	var wg sync.WaitGroup
	defer wg.Wait()

	exits := make(chan shardExit)
	running := map[string]bool{}
	origin := map[string]iteratorSpec{} // first start position per shard
	firstListing := true
	streamWasMissing := false
	missingLogged := false

	for {
		shards, created, err := p.listShards(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, errStreamNotReady):
			if firstListing {
				streamWasMissing = true
			}
			if !missingLogged {
				p.log.Warn("stream not found or not active yet; will keep checking", "err", err)
				missingLogged = true
			}
		case err != nil:
			p.log.Warn("listing shards failed; will retry", "err", err)
		default:
			missingLogged = false
			p.checkStreamIdentity(created)
			listed := map[string]bool{}
			for _, s := range shards {
				listed[aws.ToString(s.ShardId)] = true
			}
			for _, s := range shards {
				id := aws.ToString(s.ShardId)
				if running[id] || p.isFinished(id) || !p.parentsDone(s, listed) {
					continue
				}
				if _, ok := origin[id]; !ok {
					// starting_position applies to the shards that exist
					// when the mapping first sees the stream. Shards that
					// appear later (resharding, or a stream created after
					// the host started) are read from TRIM_HORIZON, as
					// Lambda does for child shards, so nothing is skipped.
					spec := iteratorSpec{typ: types.ShardIteratorTypeTrimHorizon}
					if firstListing && !streamWasMissing && p.m.StartingPosition == "LATEST" {
						spec.typ = types.ShardIteratorTypeLatest
					}
					origin[id] = spec
				}
				running[id] = true
				wg.Add(1)
				go func(id string, spec iteratorSpec) {
					defer wg.Done()
					finished := p.runShard(ctx, id, spec)
					select {
					case exits <- shardExit{id, finished}:
					case <-ctx.Done():
					}
				}(id, origin[id])
				p.log.Info("reading shard", "shard", id, "from", p.describeStart(id, origin[id]))
			}
			firstListing = false
		}

		timer := time.NewTimer(p.refresh)
	wait:
		for {
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case ex := <-exits:
				delete(running, ex.id)
				if ex.finished {
					p.markFinished(ex.id)
					p.log.Info("shard closed and fully processed", "shard", ex.id)
					// Children of a finished shard may start now, not at
					// the next refresh.
					timer.Stop()
					break wait
				}
			case <-timer.C:
				break wait
			}
		}
	}
}

func (p *KinesisPoller) describeStart(id string, origin iteratorSpec) string {
	if seq, ok := p.checkpoint(id); ok {
		return "after checkpoint " + seq
	}
	return string(origin.typ)
}

var errStreamNotReady = errors.New("stream not ready")

// listShards returns the stream's shards and creation time.
func (p *KinesisPoller) listShards(ctx context.Context) ([]types.Shard, time.Time, error) {
	var created time.Time
	sum, err := p.api.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(p.m.StreamName)})
	var nf *types.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		return nil, created, fmt.Errorf("%w: %v", errStreamNotReady, err)
	case err != nil:
		return nil, created, err
	}
	if d := sum.StreamDescriptionSummary; d != nil {
		if d.StreamStatus == types.StreamStatusCreating || d.StreamStatus == types.StreamStatusDeleting {
			return nil, created, fmt.Errorf("%w: status %s", errStreamNotReady, d.StreamStatus)
		}
		if d.StreamCreationTimestamp != nil {
			created = *d.StreamCreationTimestamp
		}
	}
	var shards []types.Shard
	in := &kinesis.ListShardsInput{StreamName: aws.String(p.m.StreamName)}
	for {
		out, err := p.api.ListShards(ctx, in)
		if errors.As(err, &nf) {
			return nil, created, fmt.Errorf("%w: %v", errStreamNotReady, err)
		}
		if err != nil {
			return nil, created, err
		}
		shards = append(shards, out.Shards...)
		if out.NextToken == nil || *out.NextToken == "" {
			break
		}
		// ListShards rejects StreamName together with NextToken.
		in = &kinesis.ListShardsInput{NextToken: out.NextToken}
	}
	sort.Slice(shards, func(i, j int) bool { return aws.ToString(shards[i].ShardId) < aws.ToString(shards[j].ShardId) })
	return shards, created, nil
}

// parentsDone holds a child shard back until its parents are read to the
// end, keeping per-key order across a reshard. A parent that is no longer
// listed has expired and does not block.
func (p *KinesisPoller) parentsDone(s types.Shard, listed map[string]bool) bool {
	for _, parent := range []*string{s.ParentShardId, s.AdjacentParentShardId} {
		id := aws.ToString(parent)
		if id != "" && listed[id] && !p.isFinished(id) {
			return false
		}
	}
	return true
}

// runShard reads one shard until it is closed (returns true), the stream
// disappears or ctx ends (returns false).
func (p *KinesisPoller) runShard(ctx context.Context, shard string, origin iteratorSpec) bool {
	log := p.log.With("shard", shard)
	iter, ok := p.shardIterator(ctx, shard, origin)
	if !ok {
		return false
	}
	failures := 0
	for ctx.Err() == nil {
		out, err := p.api.GetRecords(ctx, &kinesis.GetRecordsInput{
			ShardIterator: aws.String(iter),
			Limit:         aws.Int32(int32(p.m.BatchSize)),
		})
		if err != nil {
			if ctx.Err() != nil {
				return false
			}
			var expired *types.ExpiredIteratorException
			var nf *types.ResourceNotFoundException
			var throttled *types.ProvisionedThroughputExceededException
			switch {
			case errors.As(err, &expired):
				// Iterators live five minutes; a batch stuck in retries can
				// outlive one. Resume after the checkpoint.
				if iter, ok = p.shardIterator(ctx, shard, origin); !ok {
					return false
				}
				continue
			case errors.As(err, &nf):
				log.Warn("stream or shard disappeared; stopping reader", "err", err)
				return false
			case errors.As(err, &throttled):
			default:
				failures++
				if failures == 1 || failures%30 == 0 {
					log.Warn("GetRecords failed; retrying", "err", err, "consecutive_failures", failures)
				}
			}
			if !sleepCtx(ctx, p.poll) {
				return false
			}
			continue
		}
		failures = 0
		if len(out.Records) > 0 {
			p.processBatch(ctx, shard, out.Records)
		}
		if out.NextShardIterator == nil || *out.NextShardIterator == "" {
			return ctx.Err() == nil
		}
		iter = *out.NextShardIterator
		if len(out.Records) == 0 && !sleepCtx(ctx, p.poll) {
			return false
		}
	}
	return false
}

// shardIterator gets an iterator after the shard's checkpoint, or at
// origin if there is none, retrying until it works or ctx ends.
func (p *KinesisPoller) shardIterator(ctx context.Context, shard string, origin iteratorSpec) (string, bool) {
	for attempt := 1; ; attempt++ {
		in := &kinesis.GetShardIteratorInput{
			StreamName:        aws.String(p.m.StreamName),
			ShardId:           aws.String(shard),
			ShardIteratorType: origin.typ,
		}
		seq, fromCheckpoint := p.checkpoint(shard)
		if fromCheckpoint {
			in.ShardIteratorType = types.ShardIteratorTypeAfterSequenceNumber
			in.StartingSequenceNumber = aws.String(seq)
		}
		out, err := p.api.GetShardIterator(ctx, in)
		if err == nil && out.ShardIterator != nil {
			return *out.ShardIterator, true
		}
		if ctx.Err() != nil {
			return "", false
		}
		var nf *types.ResourceNotFoundException
		var bad *types.InvalidArgumentException
		switch {
		case errors.As(err, &nf):
			p.log.Warn("shard not found", "shard", shard, "err", err)
			return "", false
		case fromCheckpoint && errors.As(err, &bad):
			p.log.Warn("checkpoint rejected by the stream; restarting the shard from its start position",
				"shard", shard, "checkpoint", seq, "err", err)
			p.dropCheckpoint(shard)
			continue
		}
		if attempt == 1 || attempt%30 == 0 {
			p.log.Warn("GetShardIterator failed; retrying", "shard", shard, "err", err)
		}
		if !sleepCtx(ctx, p.poll) {
			return "", false
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// span is a contiguous run of records still to be handled, with how many
// times its first record has already failed.
type span struct {
	recs     []types.Record
	attempts int
}

// batchOutcome classifies one invocation of a span.
type batchOutcome struct {
	ok bool
	// partial is set when the function reported item failures; firstFailed
	// is the index of the lowest failed record in the span.
	partial     bool
	firstFailed int
	reason      string
	cancelled   bool
}

// processBatch handles one batch read from a shard until every record has
// either succeeded or been given up on, mirroring Lambda's stream error
// handling:
//
//   - success: checkpoint after the last record;
//   - ReportBatchItemFailures with failures: records before the lowest
//     failed sequence number count as processed (checkpointed) and the
//     rest is retried; an itemIdentifier not in the batch, or an
//     unparseable response, fails the whole batch;
//   - function error (error, panic, crash, timeout): with
//     bisect_batch_on_function_error the span is split in two and each
//     half is retried in order; splitting does not use up a retry, so a
//     poison record ends up alone;
//   - a span whose first record has failed more than
//     maximum_retry_attempts times is written to the on-failure file,
//     checkpointed and skipped, so a shard is never blocked for good.
func (p *KinesisPoller) processBatch(ctx context.Context, shard string, records []types.Record) {
	var queue []span
	for _, chunk := range splitBySize(records) {
		queue = append(queue, span{recs: chunk})
	}
	maxRetries := p.m.RetryAttempts()
	for len(queue) > 0 {
		if ctx.Err() != nil {
			return
		}
		s := queue[0]
		res := p.invokeSpan(ctx, shard, s.recs)
		switch {
		case res.cancelled:
			return
		case res.ok:
			p.setCheckpoint(shard, s.recs[len(s.recs)-1])
			queue = queue[1:]
			continue
		case res.partial:
			attempts := s.attempts + 1
			if res.firstFailed > 0 {
				p.setCheckpoint(shard, s.recs[res.firstFailed-1])
				attempts = 1 // a different record now leads the span; it has failed once
			}
			rest := s.recs[res.firstFailed:]
			if attempts > maxRetries {
				p.giveUp(shard, rest, attempts, res.reason)
				queue = queue[1:]
				continue
			}
			queue[0] = span{recs: rest, attempts: attempts}
			p.log.Info("partial batch failure; retrying from the lowest failed record",
				"shard", shard, "from_sequence", aws.ToString(rest[0].SequenceNumber), "records", len(rest), "attempt", attempts)
			if !sleepCtx(ctx, p.backoff(attempts)) {
				return
			}
		default: // function error
			if p.m.BisectBatchOnFunctionError && len(s.recs) > 1 {
				mid := len(s.recs) / 2
				p.log.Info("function error; bisecting batch", "shard", shard, "records", len(s.recs), "reason", res.reason)
				queue = append([]span{{recs: s.recs[:mid], attempts: s.attempts}, {recs: s.recs[mid:], attempts: s.attempts}}, queue[1:]...)
				continue
			}
			attempts := s.attempts + 1
			if attempts > maxRetries {
				p.giveUp(shard, s.recs, attempts, res.reason)
				queue = queue[1:]
				continue
			}
			queue[0].attempts = attempts
			p.log.Info("function error; retrying batch", "shard", shard, "records", len(s.recs), "attempt", attempts, "reason", res.reason)
			if !sleepCtx(ctx, p.backoff(attempts)) {
				return
			}
		}
	}
}

// splitBySize cuts a batch into runs whose event JSON stays under the 6 MB
// synchronous payload limit, as Lambda limits stream batches. Estimated:
// base64 data plus a generous allowance for the other record fields.
func splitBySize(records []types.Record) [][]types.Record {
	const perRecord = 1024
	const limit = maxSyncPayload - 4096
	var out [][]types.Record
	start, size := 0, 0
	for i, r := range records {
		n := (len(r.Data)+2)/3*4 + perRecord
		if i > start && size+n > limit {
			out = append(out, records[start:i])
			start, size = i, 0
		}
		size += n
	}
	return append(out, records[start:])
}

// backoff grows exponentially from the polling interval, capped at 10s.
func (p *KinesisPoller) backoff(attempt int) time.Duration {
	d := p.poll
	for i := 1; i < attempt && d < 10*time.Second; i++ {
		d *= 2
	}
	return min(d, 10*time.Second)
}

// invokeSpan sends recs to the function and classifies the result.
func (p *KinesisPoller) invokeSpan(ctx context.Context, shard string, recs []types.Record) batchOutcome {
	payload, err := json.Marshal(p.event(shard, recs))
	if err != nil {
		return batchOutcome{reason: "marshal event: " + err.Error()}
	}
	res, err := p.inv.Invoke(ctx, p.m.Function, payload)
	if err != nil {
		if ctx.Err() != nil {
			return batchOutcome{cancelled: true}
		}
		return batchOutcome{reason: "invoke: " + err.Error()}
	}
	if res.FunctionError != "" && ctx.Err() != nil {
		// Most likely the instance was killed by shutdown. Do not count it
		// against the records: they are redelivered after a restart.
		return batchOutcome{cancelled: true}
	}
	if res.FunctionError != "" {
		var doc struct {
			ErrorMessage string `json:"errorMessage"`
			ErrorType    string `json:"errorType"`
		}
		_ = json.Unmarshal(res.Payload, &doc)
		return batchOutcome{reason: fmt.Sprintf("function error (%s): %s", doc.ErrorType, truncate(doc.ErrorMessage, 512))}
	}
	if !p.m.ReportsBatchItemFailures() {
		return batchOutcome{ok: true}
	}
	body := bytes.TrimSpace(res.Payload)
	if len(body) == 0 || string(body) == "null" {
		return batchOutcome{ok: true}
	}
	var resp events.KinesisEventResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return batchOutcome{reason: "response is not a valid KinesisEventResponse: " + err.Error()}
	}
	if len(resp.BatchItemFailures) == 0 {
		return batchOutcome{ok: true}
	}
	index := make(map[string]int, len(recs))
	for i, r := range recs {
		index[aws.ToString(r.SequenceNumber)] = i
	}
	lowest := len(recs)
	for _, f := range resp.BatchItemFailures {
		i, ok := index[f.ItemIdentifier]
		if !ok {
			// Lambda treats an empty, null or unknown itemIdentifier as
			// a failure of the whole batch.
			return batchOutcome{reason: fmt.Sprintf("batchItemFailures itemIdentifier %q is not in the batch", f.ItemIdentifier)}
		}
		lowest = min(lowest, i)
	}
	return batchOutcome{
		partial:     true,
		firstFailed: lowest,
		reason:      fmt.Sprintf("function reported %d failed item(s), lowest %s", len(resp.BatchItemFailures), aws.ToString(recs[lowest].SequenceNumber)),
	}
}

// event builds the events.KinesisEvent Lambda would send for recs.
func (p *KinesisPoller) event(shard string, recs []types.Record) events.KinesisEvent {
	ev := events.KinesisEvent{Records: make([]events.KinesisEventRecord, 0, len(recs))}
	for _, r := range recs {
		seq := aws.ToString(r.SequenceNumber)
		arrival := time.Now()
		if r.ApproximateArrivalTimestamp != nil {
			arrival = *r.ApproximateArrivalTimestamp
		}
		enc := string(r.EncryptionType)
		if enc == string(types.EncryptionTypeNone) {
			enc = ""
		}
		data := r.Data
		if data == nil {
			data = []byte{}
		}
		ev.Records = append(ev.Records, events.KinesisEventRecord{
			AwsRegion:         p.region,
			EventID:           shard + ":" + seq,
			EventName:         "aws:kinesis:record",
			EventSource:       "aws:kinesis",
			EventSourceArn:    p.streamARN,
			EventVersion:      "1.0",
			InvokeIdentityArn: fmt.Sprintf("arn:aws:iam::%s:role/%s-role", accountID, p.m.Function),
			Kinesis: events.KinesisRecord{
				ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: arrival},
				Data:                        data,
				EncryptionType:              enc,
				PartitionKey:                aws.ToString(r.PartitionKey),
				SequenceNumber:              seq,
				KinesisSchemaVersion:        "1.0",
			},
		})
	}
	return ev
}

// giveUp records a discarded span in the on-failure file and moves the
// checkpoint past it.
func (p *KinesisPoller) giveUp(shard string, recs []types.Record, attempts int, reason string) {
	rec := FailureRecord{
		Function:      p.m.Function,
		Stream:        p.m.StreamName,
		Shard:         shard,
		StartSequence: aws.ToString(recs[0].SequenceNumber),
		EndSequence:   aws.ToString(recs[len(recs)-1].SequenceNumber),
		RecordCount:   len(recs),
		Reason:        fmt.Sprintf("RetryAttemptsExhausted after %d attempt(s): %s", attempts, reason),
		At:            time.Now().UTC(),
	}
	p.log.Error("giving up on records; writing them to the on-failure file",
		"shard", shard, "start_sequence", rec.StartSequence, "end_sequence", rec.EndSequence,
		"record_count", rec.RecordCount, "reason", rec.Reason, "on_failure_path", p.m.OnFailurePath)
	if p.m.OnFailurePath != "" {
		if err := p.appendFailure(rec); err != nil {
			p.log.Error("writing on-failure record failed", "err", err)
		}
	}
	if p.m.OnFailureQueue != "" {
		if err := p.sendFailure(p.destinationRecord(shard, recs, attempts, rec.At)); err != nil {
			p.log.Error("sending on-failure record to SQS failed", "queue", p.m.OnFailureQueue, "err", err)
		}
	}
	p.setCheckpoint(shard, recs[len(recs)-1])
}

func (p *KinesisPoller) appendFailure(rec FailureRecord) error {
	line, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	p.failMu.Lock()
	defer p.failMu.Unlock()
	if err := os.MkdirAll(filepath.Dir(p.m.OnFailurePath), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(p.m.OnFailurePath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ---- checkpoints ----

func (p *KinesisPoller) checkpoint(shard string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	seq, ok := p.state.Shards[shard]
	return seq, ok
}

func (p *KinesisPoller) setCheckpoint(shard string, r types.Record) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state.Shards[shard] = aws.ToString(r.SequenceNumber)
	p.saveLocked()
}

func (p *KinesisPoller) dropCheckpoint(shard string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.state.Shards, shard)
	p.saveLocked()
}

func (p *KinesisPoller) isFinished(shard string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.state.FinishedShards {
		if s == shard {
			return true
		}
	}
	return false
}

func (p *KinesisPoller) markFinished(shard string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state.FinishedShards = append(p.state.FinishedShards, shard)
	p.saveLocked()
}

// checkStreamIdentity drops checkpoints taken on an earlier incarnation of
// the stream.
func (p *KinesisPoller) checkStreamIdentity(created time.Time) {
	if created.IsZero() {
		return
	}
	stamp := created.UTC().Format(time.RFC3339Nano)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state.StreamCreatedAt == stamp {
		return
	}
	if p.state.StreamCreatedAt != "" && (len(p.state.Shards) > 0 || len(p.state.FinishedShards) > 0) {
		p.log.Warn("stream was re-created since the checkpoints were written; discarding them",
			"checkpoint_stream_created_at", p.state.StreamCreatedAt, "stream_created_at", stamp)
		p.state.Shards = map[string]string{}
		p.state.FinishedShards = nil
	}
	p.state.StreamCreatedAt = stamp
	p.saveLocked()
}

// loadCheckpoints restores persisted checkpoints. Only TRIM_HORIZON
// mappings resume from them: a LATEST mapping restarted locally is
// expected to skip what was written while it was down.
func (p *KinesisPoller) loadCheckpoints() {
	path := p.m.CheckpointPath
	if path == "" || p.m.StartingPosition != "TRIM_HORIZON" {
		return
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err != nil {
		p.log.Warn("reading checkpoint file failed; starting fresh", "path", path, "err", err)
		return
	}
	var st checkpointState
	if err := json.Unmarshal(data, &st); err != nil {
		p.log.Warn("checkpoint file is corrupt; starting fresh", "path", path, "err", err)
		return
	}
	if st.Stream != p.m.StreamName || st.Function != p.m.Function {
		p.log.Warn("checkpoint file belongs to another mapping; ignoring it", "path", path,
			"file_stream", st.Stream, "file_function", st.Function)
		return
	}
	if st.Shards == nil {
		st.Shards = map[string]string{}
	}
	p.mu.Lock()
	p.state = st
	p.mu.Unlock()
	p.log.Info("resuming from persisted checkpoints", "path", path, "shards", len(st.Shards))
}

// saveLocked writes the checkpoint file atomically (temp file + rename) so
// a crash never leaves half a file. p.mu must be held.
func (p *KinesisPoller) saveLocked() {
	path := p.m.CheckpointPath
	if path == "" {
		return
	}
	p.state.UpdatedAt = time.Now().UTC()
	data, err := json.MarshalIndent(p.state, "", "  ")
	if err == nil {
		err = atomicfile.Write(path, append(data, '\n'))
	}
	if err != nil {
		if err.Error() != p.lastSaveE { // log each distinct problem once, not per batch
			p.log.Warn("persisting checkpoints failed", "path", path, "err", err)
			p.lastSaveE = err.Error()
		}
		return
	}
	p.lastSaveE = ""
}
