package lambdahost

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/recoup-dev/recoup/infra/local/sqslocal/sqslocaltest"
)

// TestOnFailureQueue gives up on a poison record and expects the record
// AWS sends to an SQS on-failure destination on a queue the poller
// created, and the JSON Lines file still written alongside.
func TestOnFailureQueue(t *testing.T) {
	client := sqslocaltest.Client(t)
	k := newFakeKinesis("recoup-test", 1)
	seqs := k.put("shardId-000000000000", "ok", "boom", "ok2")
	dir := t.TempDir()
	m := EventSourceMappingConfig{
		Function: "engagement", StreamName: "recoup-test", BatchSize: 10, StartingPosition: "TRIM_HORIZON",
		BisectBatchOnFunctionError: true, MaximumRetryAttempts: intPtr(0),
		OnFailurePath:     filepath.Join(dir, "failures.jsonl"),
		OnFailureQueue:    "engagement-failures",
		PollingIntervalMS: 1,
	}
	p := NewKinesisPoller(m, k, &fakeInvoker{}, PollerOptions{Logger: testLogger(t), ShardRefreshInterval: 20 * time.Millisecond, SQS: client})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { p.Run(ctx); close(stopped) }()
	waitFor(t, 10*time.Second, func() bool { return checkpointIs("shardId-000000000000", seqs[2])(p) })
	cancel()
	<-stopped

	url, err := client.GetQueueUrl(context.Background(), &sqs.GetQueueUrlInput{QueueName: aws.String("engagement-failures")})
	if err != nil {
		t.Fatalf("the poller did not create the queue: %v", err)
	}
	out, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: url.QueueUrl, MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 {
		t.Fatalf("%d on-failure messages, want 1", len(out.Messages))
	}
	// Decode into a generic map so the test checks the JSON names AWS uses.
	var got map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(out.Messages[0].Body)), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"requestContext": map[string]any{
			"functionArn": "arn:aws:lambda:us-east-1:000000000000:function:engagement",
			"condition":   "RetryAttemptsExhausted", "approximateInvokeCount": float64(1),
		},
		"responseContext": map[string]any{"statusCode": float64(200), "executedVersion": "$LATEST", "functionError": "Unhandled"},
		"version":         "1.0",
		"KinesisBatchInfo": map[string]any{
			"shardId": "shardId-000000000000", "startSequenceNumber": seqs[1], "endSequenceNumber": seqs[1],
			"batchSize": float64(1), "streamArn": "arn:aws:kinesis:us-east-1:000000000000:stream/recoup-test",
		},
	}
	ignore := cmpopts.IgnoreMapEntries(func(k string, _ any) bool {
		return k == "requestId" || k == "timestamp" || strings.HasPrefix(k, "approximateArrivalOf")
	})
	if diff := cmp.Diff(want, got, ignore); diff != "" {
		t.Errorf("on-failure record (-want +got):\n%s", diff)
	}
	rc := got["requestContext"].(map[string]any)
	info := got["KinesisBatchInfo"].(map[string]any)
	for _, ts := range []any{got["timestamp"], info["approximateArrivalOfFirstRecord"], info["approximateArrivalOfLastRecord"]} {
		if _, err := time.Parse(destinationTime, ts.(string)); err != nil {
			t.Errorf("timestamp %v: %v", ts, err)
		}
	}
	if id, _ := rc["requestId"].(string); len(id) != 36 {
		t.Errorf("requestId = %v, want a UUID", rc["requestId"])
	}
	if files := readFailures(t, m.OnFailurePath); len(files) != 1 || files[0].StartSequence != seqs[1] {
		t.Errorf("on-failure file = %+v, want the one record", files)
	}
}

func TestOnFailureQueueConfig(t *testing.T) {
	tests := []struct {
		queue   string
		wantErr string
	}{
		{"engagement-failures", ""},
		{"engagement.fifo", "on_failure_queue"},
		{"has space", "on_failure_queue"},
	}
	for _, tt := range tests {
		t.Run(tt.queue, func(t *testing.T) {
			cfg := `{"functions":[{"name":"engagement","bootstrap":"x"}],"event_source_mappings":[{"function":"engagement","stream_name":"s","starting_position":"LATEST","on_failure_queue":"` + tt.queue + `"}]}`
			_, err := ParseConfig([]byte(cfg), t.TempDir())
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("ParseConfig() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("ParseConfig() = %v, want an error naming %s", err, tt.wantErr)
			}
		})
	}
}
