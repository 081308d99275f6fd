package lambdahost

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/infra/local/localtest"
)

// TestKinesaliteIntegration runs a mapping against a real Kinesis
// emulator. It needs RECOUP_KINESIS_ENDPOINT, e.g. http://127.0.0.1:4567
// for a running kinesalite (infra/local/kinesalite-server.cjs).
func TestKinesaliteIntegration(t *testing.T) {
	localtest.Require(t, "RECOUP_KINESIS_ENDPOINT")
	endpoint := os.Getenv("RECOUP_KINESIS_ENDPOINT")
	// The host builds its own client the normal SDK way; point it at the
	// emulator like the local stack does.
	t.Setenv("AWS_ENDPOINT_URL_KINESIS", endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", "local")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	t.Setenv("AWS_REGION", "us-east-1")

	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	kc := kinesis.New(kinesis.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
	stream := fmt.Sprintf("lambdahost-it-%d", time.Now().UnixNano())
	if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(stream), ShardCount: aws.Int32(2)}); err != nil {
		t.Fatalf("CreateStream: %v", err)
	}
	t.Cleanup(func() {
		_, _ = kc.DeleteStream(context.Background(), &kinesis.DeleteStreamInput{StreamName: aws.String(stream)})
	})
	waitFor(t, 15*time.Second, func() bool {
		out, err := kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
		return err == nil && out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive
	})

	keys := []string{"debtor-1", "debtor-2", "debtor-3", "debtor-4"}
	lastSeq := map[string]string{} // shard -> last sequence number written
	put := func(from, to int) {
		for i := from; i < to; i++ {
			for _, k := range keys {
				out, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{
					StreamName: aws.String(stream), PartitionKey: aws.String(k),
					Data: []byte(fmt.Sprintf("%s/%02d", k, i)),
				})
				if err != nil {
					t.Fatalf("PutRecord: %v", err)
				}
				lastSeq[aws.ToString(out.ShardId)] = aws.ToString(out.SequenceNumber)
			}
		}
	}
	put(0, 10)

	dir := t.TempDir()
	recordLog := filepath.Join(dir, "records.jsonl")
	cfg := &Config{
		Functions: []FunctionConfig{{Name: "engagement", Bootstrap: installEchofn(t), MaxConcurrency: 2,
			Environment: map[string]string{"ECHOFN_RECORD_LOG": recordLog}}},
		EventSourceMappings: []EventSourceMappingConfig{{
			Function: "engagement", StreamName: stream, StartingPosition: "TRIM_HORIZON", BatchSize: 7,
			FunctionResponseTypes: []string{ReportBatchItemFailures}, MaximumRetryAttempts: intPtr(2),
			OnFailurePath: "esm/engagement.jsonl", PollingIntervalMS: 50,
		}},
	}
	if err := cfg.Resolve(dir); err != nil {
		t.Fatal(err)
	}

	readLog := func() map[string][]string {
		perKey := map[string][]string{}
		f, err := os.Open(recordLog)
		if err != nil {
			return perKey
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var l struct {
				PartitionKey string `json:"partition_key"`
				Data         string `json:"data"`
			}
			if json.Unmarshal(sc.Bytes(), &l) == nil {
				perKey[l.PartitionKey] = append(perKey[l.PartitionKey], l.Data)
			}
		}
		return perKey
	}
	want := func(n int) map[string][]string {
		m := map[string][]string{}
		for _, k := range keys {
			for i := range n {
				m[k] = append(m[k], fmt.Sprintf("%s/%02d", k, i))
			}
		}
		return m
	}

	t.Log("first host reads the stream from TRIM_HORIZON, in order per partition key")
	h1, err := New(cfg, Options{Addr: "127.0.0.1:0", Logger: testLogger(t), ShardRefreshInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := h1.Start(ctx); err != nil {
		t.Fatal(err)
	}
	// Done when every shard is checkpointed at its last record.
	waitFor(t, 15*time.Second, func() bool { return cmp.Equal(lastSeq, h1.Pollers()[0].Checkpoints()) })
	if err := h1.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want(10), readLog()); diff != "" {
		t.Fatalf("records seen by the function (-want +got):\n%s", diff)
	}

	t.Log("a restarted host resumes after the persisted checkpoints")
	put(10, 15)
	h2, err := New(cfg, Options{Addr: "127.0.0.1:0", Logger: testLogger(t), ShardRefreshInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := h2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer h2.Shutdown(context.Background())
	waitFor(t, 15*time.Second, func() bool { return cmp.Equal(lastSeq, h2.Pollers()[0].Checkpoints()) })
	if diff := cmp.Diff(want(15), readLog()); diff != "" {
		t.Errorf("records seen by the function after restart (-want +got):\n%s", diff)
	}
}
