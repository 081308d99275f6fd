package lambdahost

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/google/go-cmp/cmp"
)

// fakeInvoker plays a Kinesis handler in-process. Per record data:
// "boom" fails the whole invocation, "crashonce" fails it on the record's
// first delivery only, "bogus" reports an itemIdentifier outside the
// batch, "fail" is always reported in batchItemFailures and "flaky" only
// on its first delivery.
type fakeInvoker struct {
	mu      sync.Mutex
	batches [][]string
	shards  []string
	seen    map[string]int
}

func (f *fakeInvoker) Invoke(ctx context.Context, fn string, payload []byte) (*InvokeResult, error) {
	var ev events.KinesisEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen == nil {
		f.seen = map[string]int{}
	}
	var batch []string
	for _, r := range ev.Records {
		batch = append(batch, string(r.Kinesis.Data))
	}
	f.batches = append(f.batches, batch)
	shard, _, _ := strings.Cut(ev.Records[0].EventID, ":")
	f.shards = append(f.shards, shard)

	var resp events.KinesisEventResponse
	fnErr := ""
	for _, r := range ev.Records {
		d := string(r.Kinesis.Data)
		f.seen[d]++
		first := f.seen[d] == 1
		switch {
		case strings.Contains(d, "boom"), strings.Contains(d, "crashonce") && first:
			fnErr = "record " + d
		case strings.Contains(d, "bogus"):
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.KinesisBatchItemFailure{ItemIdentifier: "nope"})
		case strings.Contains(d, "fail"), strings.Contains(d, "flaky") && first:
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.KinesisBatchItemFailure{ItemIdentifier: r.Kinesis.SequenceNumber})
		}
	}
	if fnErr != "" {
		return &InvokeResult{FunctionError: "Unhandled", ErrorType: "errorString",
			Payload: []byte(`{"errorMessage":"` + fnErr + `","errorType":"errorString"}`)}, nil
	}
	b, _ := json.Marshal(resp)
	return &InvokeResult{Payload: b}, nil
}

func (f *fakeInvoker) delivered() ([][]string, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]string(nil), f.batches...), append([]string(nil), f.shards...)
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// runPoller runs a poller until done reports true, then stops it and
// checks that it stops promptly.
func runPoller(t *testing.T, m EventSourceMappingConfig, k KinesisAPI, inv Invoker, done func(*KinesisPoller) bool) *KinesisPoller {
	t.Helper()
	p := NewKinesisPoller(m, k, inv, PollerOptions{Logger: testLogger(t), ShardRefreshInterval: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		p.Run(ctx)
		close(stopped)
	}()
	waitFor(t, 10*time.Second, func() bool { return done(p) })
	cancel()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("poller did not stop after cancel")
	}
	return p
}

func checkpointIs(shard, seq string) func(*KinesisPoller) bool {
	return func(p *KinesisPoller) bool { return p.Checkpoints()[shard] == seq }
}

func intPtr(n int) *int { return &n }

// failureSummary is a FailureRecord with sequence numbers mapped back to
// record data, for readable expectations.
type failureSummary struct {
	Start, End string
	Count      int
}

func readFailures(t *testing.T, path string) []FailureRecord {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []FailureRecord
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r FailureRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("on-failure line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

func TestKinesisBatchErrorHandling(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		records      []string
		batchSize    int
		bisect       bool
		retries      int
		report       bool
		wantBatches  [][]string
		wantFailures []failureSummary
	}{
		{
			name:        "all succeed, in order, batch_size at a time",
			records:     []string{"a", "b", "c", "d", "e", "f", "g"},
			batchSize:   3,
			report:      true,
			retries:     3,
			wantBatches: [][]string{{"a", "b", "c"}, {"d", "e", "f"}, {"g"}},
		},
		{
			name:        "partial failure retries from the lowest failed record",
			records:     []string{"a", "b", "flaky-c", "d", "e"},
			batchSize:   5,
			report:      true,
			retries:     3,
			wantBatches: [][]string{{"a", "b", "flaky-c", "d", "e"}, {"flaky-c", "d", "e"}},
		},
		{
			name:      "several failures: the retry starts at the lowest, then gives up on the rest",
			records:   []string{"a", "fail-b", "c", "flaky-d", "e"},
			batchSize: 5,
			report:    true,
			retries:   1,
			wantBatches: [][]string{
				{"a", "fail-b", "c", "flaky-d", "e"},
				{"fail-b", "c", "flaky-d", "e"},
			},
			wantFailures: []failureSummary{{"fail-b", "e", 4}},
		},
		{
			name:        "exhausted partial failure is skipped and the shard moves on",
			records:     []string{"a", "fail-b", "c", "d"},
			batchSize:   3,
			report:      true,
			retries:     1,
			wantBatches: [][]string{{"a", "fail-b", "c"}, {"fail-b", "c"}, {"d"}},
			wantFailures: []failureSummary{
				{"fail-b", "c", 2},
			},
		},
		{
			name:         "itemIdentifier not in the batch fails the whole batch",
			records:      []string{"a", "bogus", "b"},
			batchSize:    10,
			report:       true,
			retries:      1,
			wantBatches:  [][]string{{"a", "bogus", "b"}, {"a", "bogus", "b"}},
			wantFailures: []failureSummary{{"a", "b", 3}},
		},
		{
			name:      "bisect on function error isolates the poison record",
			records:   []string{"a", "b", "c", "boom-d", "e", "f", "g", "h"},
			batchSize: 8,
			bisect:    true,
			report:    true,
			retries:   1,
			wantBatches: [][]string{
				{"a", "b", "c", "boom-d", "e", "f", "g", "h"},
				{"a", "b", "c", "boom-d"},
				{"a", "b"},
				{"c", "boom-d"},
				{"c"},
				{"boom-d"},
				{"boom-d"},
				{"e", "f", "g", "h"},
			},
			wantFailures: []failureSummary{{"boom-d", "boom-d", 1}},
		},
		{
			name:      "function error without bisect retries the batch, then skips it",
			records:   []string{"a", "boom-b", "c", "d"},
			batchSize: 3,
			retries:   2,
			wantBatches: [][]string{
				{"a", "boom-b", "c"}, {"a", "boom-b", "c"}, {"a", "boom-b", "c"}, {"d"},
			},
			wantFailures: []failureSummary{{"a", "c", 3}},
		},
		{
			name:         "maximum_retry_attempts 0 gives up after the first failure",
			records:      []string{"boom"},
			batchSize:    10,
			retries:      0,
			wantBatches:  [][]string{{"boom"}},
			wantFailures: []failureSummary{{"boom", "boom", 1}},
		},
		{
			name:        "transient function error succeeds on retry",
			records:     []string{"a", "crashonce-b"},
			batchSize:   10,
			retries:     3,
			wantBatches: [][]string{{"a", "crashonce-b"}, {"a", "crashonce-b"}},
		},
		{
			name:        "batchItemFailures are ignored without ReportBatchItemFailures",
			records:     []string{"a", "fail-b", "c"},
			batchSize:   10,
			retries:     3,
			wantBatches: [][]string{{"a", "fail-b", "c"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k := newFakeKinesis("recoup-test", 1)
			seqs := k.put("shardId-000000000000", tc.records...)
			label := map[string]string{}
			for i, s := range seqs {
				label[s] = tc.records[i]
			}
			dir := t.TempDir()
			m := EventSourceMappingConfig{
				Function:                   "engagement",
				StreamName:                 "recoup-test",
				BatchSize:                  tc.batchSize,
				StartingPosition:           "TRIM_HORIZON",
				BisectBatchOnFunctionError: tc.bisect,
				MaximumRetryAttempts:       intPtr(tc.retries),
				OnFailurePath:              filepath.Join(dir, "failures.jsonl"),
				CheckpointPath:             filepath.Join(dir, "failures.checkpoint.json"),
				PollingIntervalMS:          1,
			}
			if tc.report {
				m.FunctionResponseTypes = []string{ReportBatchItemFailures}
			}
			inv := &fakeInvoker{}
			runPoller(t, m, k, inv, checkpointIs("shardId-000000000000", seqs[len(seqs)-1]))

			gotBatches, _ := inv.delivered()
			if diff := cmp.Diff(tc.wantBatches, gotBatches); diff != "" {
				t.Errorf("batches delivered (-want +got):\n%s", diff)
			}
			var gotFailures []failureSummary
			for _, r := range readFailures(t, m.OnFailurePath) {
				gotFailures = append(gotFailures, failureSummary{label[r.StartSequence], label[r.EndSequence], r.RecordCount})
				if r.Function != "engagement" || r.Stream != "recoup-test" || r.Shard != "shardId-000000000000" ||
					!strings.HasPrefix(r.Reason, "RetryAttemptsExhausted") || time.Since(r.At) > time.Minute {
					t.Errorf("failure record %+v", r)
				}
			}
			if diff := cmp.Diff(tc.wantFailures, gotFailures); diff != "" {
				t.Errorf("on-failure records (-want +got):\n%s", diff)
			}
		})
	}
}

func TestKinesisEventShape(t *testing.T) {
	t.Parallel()
	arrival := time.Unix(1700000000, 500_000_000)
	p := NewKinesisPoller(EventSourceMappingConfig{Function: "engagement", StreamName: "recoup-engagement"},
		nil, nil, PollerOptions{Region: "eu-west-2"})
	ev := p.event("shardId-000000000003", []types.Record{{
		Data:                        []byte(`{"debtor":"d-1"}`),
		SequenceNumber:              aws.String("49590338271490256608559692538361571095921575989136588898"),
		PartitionKey:                aws.String("d-1"),
		ApproximateArrivalTimestamp: &arrival,
		EncryptionType:              types.EncryptionTypeNone,
	}})
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"Records": []any{map[string]any{
		"awsRegion":         "eu-west-2",
		"eventID":           "shardId-000000000003:49590338271490256608559692538361571095921575989136588898",
		"eventName":         "aws:kinesis:record",
		"eventSource":       "aws:kinesis",
		"eventSourceARN":    "arn:aws:kinesis:eu-west-2:000000000000:stream/recoup-engagement",
		"eventVersion":      "1.0",
		"invokeIdentityArn": "arn:aws:iam::000000000000:role/engagement-role",
		"kinesis": map[string]any{
			"approximateArrivalTimestamp": 1700000000.5,
			"data":                        "eyJkZWJ0b3IiOiJkLTEifQ==", // base64 of {"debtor":"d-1"}
			"partitionKey":                "d-1",
			"sequenceNumber":              "49590338271490256608559692538361571095921575989136588898",
			"kinesisSchemaVersion":        "1.0",
		},
	}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("event JSON (-want +got):\n%s", diff)
	}
}

func TestKinesisShardOrderReshardingAndNewShards(t *testing.T) {
	t.Parallel()
	k := newFakeKinesis("recoup-test", 2)
	parent := "shardId-000000000000"
	other := "shardId-000000000001"
	k.put(parent, "p1", "p2", "p3", "p4", "p5")
	k.closeShard(parent)
	k.put(other, "o1", "o2", "o3")
	child := k.addShard(parent)
	childSeqs := k.put(child, "c1", "c2", "c3")
	otherSeqs := k.put(other, "o4")

	m := EventSourceMappingConfig{Function: "engagement", StreamName: "recoup-test", BatchSize: 2,
		StartingPosition: "TRIM_HORIZON", PollingIntervalMS: 1}
	inv := &fakeInvoker{}
	p := NewKinesisPoller(m, k, inv, PollerOptions{Logger: testLogger(t), ShardRefreshInterval: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { p.Run(ctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()

	waitFor(t, 10*time.Second, func() bool {
		cp := p.Checkpoints()
		return cp[child] == childSeqs[2] && cp[other] == otherSeqs[0]
	})
	// A shard that appears later (not a child) is picked up by the
	// periodic re-list and read from TRIM_HORIZON.
	late := k.addShard("")
	lateSeqs := k.put(late, "l1", "l2", "l3")
	waitFor(t, 10*time.Second, func() bool { return checkpointIs(late, lateSeqs[2])(p) })

	batches, shards := inv.delivered()
	perShard := map[string][]string{}
	parentDone := -1
	childStart := -1
	for i, b := range batches {
		perShard[shards[i]] = append(perShard[shards[i]], b...)
		if shards[i] == parent {
			parentDone = i
		}
		if shards[i] == child && childStart < 0 {
			childStart = i
		}
	}
	want := map[string][]string{
		parent: {"p1", "p2", "p3", "p4", "p5"},
		other:  {"o1", "o2", "o3", "o4"},
		child:  {"c1", "c2", "c3"},
		late:   {"l1", "l2", "l3"},
	}
	if diff := cmp.Diff(want, perShard); diff != "" {
		t.Errorf("records per shard (-want +got):\n%s", diff)
	}
	if childStart < parentDone {
		t.Errorf("child shard batch %d delivered before the parent finished (last parent batch %d)", childStart, parentDone)
	}
	for i, b := range batches {
		if len(b) > 2 {
			t.Errorf("batch %d has %d records, batch_size is 2", i, len(b))
		}
	}
}

func TestKinesisCheckpointsAndStartingPosition(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	shard := "shardId-000000000000"
	k := newFakeKinesis("recoup-test", 1)
	seqs := k.put(shard, "a", "b", "c")
	cfg := &Config{
		Functions: []FunctionConfig{{Name: "engagement", Bootstrap: "bootstrap"}},
		EventSourceMappings: []EventSourceMappingConfig{{
			Function: "engagement", StreamName: "recoup-test", StartingPosition: "TRIM_HORIZON",
			OnFailurePath: "esm-failures/engagement.jsonl", PollingIntervalMS: 1,
		}},
	}
	if err := cfg.Resolve(dir); err != nil {
		t.Fatal(err)
	}
	m := cfg.EventSourceMappings[0]
	if want := filepath.Join(dir, "esm-failures", "engagement.checkpoint.json"); m.CheckpointPath != want {
		t.Fatalf("checkpoint path = %q, want %q", m.CheckpointPath, want)
	}

	t.Log("first run processes everything and persists the checkpoint")
	inv := &fakeInvoker{}
	runPoller(t, m, k, inv, checkpointIs(shard, seqs[2]))
	data, err := os.ReadFile(m.CheckpointPath)
	if err != nil {
		t.Fatal(err)
	}
	var st checkpointState
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{shard: seqs[2]}, st.Shards); diff != "" || st.Stream != "recoup-test" || st.Function != "engagement" {
		t.Errorf("persisted checkpoint %s (-want +got shards):\n%s", data, diff)
	}

	t.Log("a restarted host continues after the checkpoint")
	more := k.put(shard, "d", "e")
	inv = &fakeInvoker{}
	runPoller(t, m, k, inv, checkpointIs(shard, more[1]))
	if got, _ := inv.delivered(); !cmp.Equal([][]string{{"d", "e"}}, got) {
		t.Errorf("after restart delivered %v, want only d, e", got)
	}

	t.Log("a re-created stream invalidates the checkpoints")
	k.recreate()
	fresh := k.put(shard, "x")
	inv = &fakeInvoker{}
	runPoller(t, m, k, inv, checkpointIs(shard, fresh[0]))
	if got, _ := inv.delivered(); !cmp.Equal([][]string{{"x"}}, got) {
		t.Errorf("after re-create delivered %v, want x", got)
	}

	t.Log("LATEST skips existing records and does not resume from the file")
	latest := m
	latest.StartingPosition = "LATEST"
	inv = &fakeInvoker{}
	polls := k.polls()
	p := NewKinesisPoller(latest, k, inv, PollerOptions{Logger: testLogger(t), ShardRefreshInterval: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { p.Run(ctx); close(stopped) }()
	// Write only once the reader holds its LATEST iterator.
	waitFor(t, 10*time.Second, func() bool { return k.polls() > polls })
	newer := k.put(shard, "y")
	waitFor(t, 10*time.Second, func() bool { return checkpointIs(shard, newer[0])(p) })
	cancel()
	<-stopped
	if got, _ := inv.delivered(); !cmp.Equal([][]string{{"y"}}, got) {
		t.Errorf("LATEST delivered %v, want y", got)
	}
}

func TestKinesisStreamCreatedAfterStartIsReadFromTrimHorizon(t *testing.T) {
	t.Parallel()
	shard := "shardId-000000000000"
	k := newFakeKinesis("recoup-test", 1)
	k.exists = false
	m := EventSourceMappingConfig{Function: "engagement", StreamName: "recoup-test", StartingPosition: "LATEST", PollingIntervalMS: 1}
	inv := &fakeInvoker{}
	p := NewKinesisPoller(m, k, inv, PollerOptions{Logger: testLogger(t), ShardRefreshInterval: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { p.Run(ctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()

	time.Sleep(50 * time.Millisecond)
	seqs := k.put(shard, "first", "second")
	k.mu.Lock()
	k.exists = true
	k.mu.Unlock()
	waitFor(t, 10*time.Second, func() bool { return checkpointIs(shard, seqs[1])(p) })
	if got, _ := inv.delivered(); !cmp.Equal([][]string{{"first", "second"}}, got) {
		t.Errorf("delivered %v, want both records", got)
	}
}

// TestKinesisMappingThroughHost runs the whole path: host, real Go Lambda
// (testdata/echofn) and the poller over the in-memory Kinesis.
func TestKinesisMappingThroughHost(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	recordLog := filepath.Join(dir, "records.jsonl")
	cfg := &Config{
		Functions: []FunctionConfig{{Name: "engagement", Bootstrap: installEchofn(t), MaxConcurrency: 1,
			Environment: map[string]string{"ECHOFN_RECORD_LOG": recordLog}}},
		EventSourceMappings: []EventSourceMappingConfig{{
			Function: "engagement", StreamName: "recoup-engagement", StartingPosition: "TRIM_HORIZON",
			BatchSize: 10, BisectBatchOnFunctionError: true, MaximumRetryAttempts: intPtr(1),
			FunctionResponseTypes: []string{ReportBatchItemFailures},
			OnFailurePath:         "failures.jsonl", PollingIntervalMS: 5,
		}},
	}
	if err := cfg.Resolve(dir); err != nil {
		t.Fatal(err)
	}
	shard := "shardId-000000000000"
	k := newFakeKinesis("recoup-engagement", 1)
	first := k.put(shard, "a", "b", "fail-c", "d")
	h, _ := startHost(t, cfg, Options{Kinesis: k, ShardRefreshInterval: 20 * time.Millisecond})
	p := h.Pollers()[0]
	waitFor(t, 10*time.Second, func() bool { return checkpointIs(shard, first[3])(p) })
	second := k.put(shard, "boom-e", "f")
	waitFor(t, 10*time.Second, func() bool { return checkpointIs(shard, second[1])(p) })

	type line struct {
		Data      string `json:"data"`
		BatchSize int    `json:"batch_size"`
		ARN       string `json:"event_source_arn"`
		EventName string `json:"event_name"`
		Shard     string `json:"shard"`
	}
	f, err := os.Open(recordLog)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type delivery struct {
		Data  string
		Batch int
	}
	var got []delivery
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		if l.ARN != "arn:aws:kinesis:us-east-1:000000000000:stream/recoup-engagement" || l.EventName != "aws:kinesis:record" || l.Shard != shard {
			t.Errorf("unexpected event fields %+v", l)
		}
		got = append(got, delivery{l.Data, l.BatchSize})
	}
	want := []delivery{
		{"a", 4}, {"b", 4}, {"fail-c", 4}, {"d", 4}, // partial failure at fail-c
		{"fail-c", 2}, {"d", 2}, // retry from the lowest failure, then give up
		{"boom-e", 2}, {"f", 2}, // function error: bisect
		{"boom-e", 1}, {"boom-e", 1}, // poison record alone, retried once, given up
		{"f", 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("deliveries seen by the function (-want +got):\n%s", diff)
	}
	var summaries []failureSummary
	label := map[string]string{first[2]: "fail-c", first[3]: "d", second[0]: "boom-e"}
	for _, r := range readFailures(t, cfg.EventSourceMappings[0].OnFailurePath) {
		summaries = append(summaries, failureSummary{label[r.StartSequence], label[r.EndSequence], r.RecordCount})
	}
	if diff := cmp.Diff([]failureSummary{{"fail-c", "d", 2}, {"boom-e", "boom-e", 1}}, summaries); diff != "" {
		t.Errorf("on-failure records (-want +got):\n%s", diff)
	}
}
