package engagement_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/recoup-dev/recoup/shared/deadletter"
	"github.com/recoup-dev/recoup/shared/engagement"
)

// TestAWSSamplesThroughTheConsumer hands every sample event shipped with
// aws-lambda-go to the consumer as its Lambda input: only the Kinesis
// samples carry records, each record (not one of our events) becomes a dead
// letter naming its shard and sequence number, no batch fails, nothing
// panics. The stores are nil: a record that does not decode must never
// reach them.
func TestAWSSamplesThroughTheConsumer(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-lambda-go").Output()
	if err != nil {
		t.Fatalf("locate aws-lambda-go: %v", err)
	}
	files, err := filepath.Glob(filepath.Join(strings.TrimSpace(string(out)), "events", "testdata", "*.json"))
	if err != nil || len(files) < 50 {
		t.Fatalf("found %d aws-lambda-go sample events (%v), expected about 100", len(files), err)
	}
	withRecords := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var in lambdaevents.KinesisEvent
		if json.Unmarshal(data, &in) != nil || len(in.Records) == 0 {
			continue
		}
		name := filepath.Base(f)
		if !strings.HasPrefix(name, "kinesis-") {
			// Another service's event with a "Records" array that happens
			// to unmarshal: its records must still not decode as ours.
			t.Logf("%s unmarshals into a Kinesis event with %d records", name, len(in.Records))
		}
		withRecords++
		dlq := &letters{}
		c := &engagement.Consumer{DLQ: dlq}
		resp, res := c.HandleBatch(context.Background(), in)
		if len(resp.BatchItemFailures) != 0 || res.DeadLettered != len(in.Records) || res.Applied != 0 {
			t.Errorf("%s: %+v, %+v; want every record dead-lettered and none failed", name, resp, res)
		}
		for _, l := range dlq.ls {
			if l.Kind != deadletter.KindInvalid || l.Reason == "" {
				t.Errorf("%s: letter %+v, want an invalid record with its reason", name, l)
			}
		}
	}
	if withRecords == 0 {
		t.Error("no sample carried Kinesis records; the Kinesis samples were expected to")
	}
}
