package events

import (
	"fmt"

	lambdaevents "github.com/aws/aws-lambda-go/events"
)

// DecodeKinesisRecord decodes the event a Kinesis record carries. The Lambda
// runtime has already base64-decoded the record's data. The error names the
// record (shard and sequence number) so a dead-letter message can point back
// at it, and wraps Decode's error.
func DecodeKinesisRecord(rec lambdaevents.KinesisEventRecord) (Event, error) {
	e, err := Decode(rec.Kinesis.Data)
	if err != nil {
		return Event{}, fmt.Errorf("kinesis record %s (partition key %q): %w", rec.EventID, rec.Kinesis.PartitionKey, err)
	}
	return e, nil
}
