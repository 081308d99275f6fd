package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/recoup-dev/recoup/events"
	"github.com/recoup-dev/recoup/infra/local/localtest"
	"github.com/recoup-dev/recoup/shared/awsconfig"
)

// sampleLines writes every sample event as one JSON line, in file order.
func sampleLines(t *testing.T) (string, []string) {
	t.Helper()
	files, err := filepath.Glob("../../events/samples/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	var buf bytes.Buffer
	var ids []string
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, raw); err != nil {
			t.Fatal(err)
		}
		ev, err := events.Decode(compact.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		ids = append(ids, ev.ID)
		buf.Write(compact.Bytes())
		buf.WriteByte('\n')
	}
	p := filepath.Join(t.TempDir(), "day.jsonl")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p, ids
}

func TestEventsReplayRefusesABadLineBeforePuttingAnything(t *testing.T) {
	good, _ := sampleLines(t)
	raw, _ := os.ReadFile(good)
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	lines := strings.SplitN(string(raw), "\n", 3)
	content := lines[0] + "\n" + `{"schema_version":"1","id":"x"}` + "\n" + lines[1] + "\n"
	if err := os.WriteFile(bad, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	// No Kinesis endpoint is reachable here: the file must be refused first.
	t.Setenv("AWS_ENDPOINT_URL_KINESIS", "http://127.0.0.1:9")
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"events", "replay", "--stream", "s", bad}, &out, &errOut)
	if code != 2 || !strings.Contains(errOut.String(), "bad.jsonl line 2") {
		t.Errorf("exit %d, stderr %q; want 2 naming bad.jsonl line 2", code, errOut.String())
	}
}

// TestIntegrationEventsReplay puts every sample on a fresh kinesalite stream
// and reads them back: all there, decodable, each keyed by its customer.
func TestIntegrationEventsReplay(t *testing.T) {
	localtest.Require(t, "AWS_ENDPOINT_URL_KINESIS")
	ctx := context.Background()
	file, ids := sampleLines(t)
	stream := fmt.Sprintf("replay-%d", time.Now().UnixNano())
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"events", "replay", "--stream", stream, "--shards", "2", file}, &out, &errOut); code != 0 {
		t.Fatalf("replay exited %d: %s", code, errOut.String())
	}
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kc := awskinesis.NewFromConfig(cfg)
	shards, err := kc.ListShards(ctx, &awskinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, sh := range shards.Shards {
		it, err := kc.GetShardIterator(ctx, &awskinesis.GetShardIteratorInput{StreamName: aws.String(stream),
			ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		recs, err := kc.GetRecords(ctx, &awskinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs.Records {
			ev, err := events.Decode(r.Data)
			if err != nil {
				t.Fatalf("record %s: %v", aws.ToString(r.SequenceNumber), err)
			}
			if aws.ToString(r.PartitionKey) != ev.PartitionKey() {
				t.Errorf("event %s keyed %q, want %q", ev.ID, aws.ToString(r.PartitionKey), ev.PartitionKey())
			}
			seen[ev.ID] = true
		}
	}
	for _, id := range ids {
		if !seen[id] {
			t.Errorf("event %s was not on the stream", id)
		}
	}
	if len(seen) != len(ids) {
		t.Errorf("%d distinct events on the stream, want %d", len(seen), len(ids))
	}
}
