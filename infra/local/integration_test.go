package local

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/infra/local/localtest"
)

// TestIntegrationStack runs the real stack on non-default ports in a
// temporary state folder: Up, Status, Up again (no new processes), the Step
// Functions smoke test, DynamoDB and Kinesis calls through aws-sdk-go-v2, and
// Down. It needs RECOUP_INTEGRATION=1 (plus npm, Java and the network access
// npm ci needs when node_modules is missing).
func TestIntegrationStack(t *testing.T) {
	localtest.Require(t)
	root, err := FindRepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.StateDir = t.TempDir()
	cfg.DynamoDBPort, cfg.KinesisPort, cfg.LambdaPort, cfg.SQSPort = 8111, 4577, 9011, 9334
	cfg.SFNPort, cfg.OutboxPort, cfg.BedrockPort = 8113, 8115, 8117
	for _, p := range []int{cfg.DynamoDBPort, cfg.KinesisPort, cfg.LambdaPort, cfg.SQSPort, cfg.SFNPort, cfg.OutboxPort, cfg.BedrockPort} {
		if portInUse(p) {
			t.Fatalf("port %d is already in use; the integration test needs 8111, 4577, 9011, 9334, 8113, 8115 and 8117 free", p)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// Down even when the test fails half way; log what it says.
	t.Cleanup(func() {
		var out bytes.Buffer
		if err := Down(context.Background(), cfg, &out); err != nil {
			t.Errorf("cleanup Down: %v", err)
		}
		t.Logf("cleanup Down:\n%s", out.String())
		if t.Failed() {
			for _, s := range services() {
				t.Logf("--- %s:\n%s", cfg.logFile(s.name), tailFile(cfg.logFile(s.name), 0, 40))
			}
		}
	})

	var out bytes.Buffer
	start := time.Now()
	err = Up(ctx, cfg, &out)
	t.Logf("Up (%s):\n%s", time.Since(start).Round(time.Millisecond), out.String())
	if err != nil {
		t.Fatalf("Up: %v", err)
	}

	out.Reset()
	if err := Status(ctx, cfg, &out); err != nil {
		t.Fatalf("Status: %v\n%s", err, out.String())
	}
	t.Logf("Status:\n%s", out.String())

	pids := readPIDs(t, cfg)
	wantServices := []string{ServiceDynamoDB, ServiceKinesis, ServiceSQS, ServiceSFN, ServiceOutbox, ServiceBedrock}
	if lambdaHostSkip(cfg) == "" {
		wantServices = append(wantServices, ServiceLambdaHost)
	}
	for _, name := range wantServices {
		if pids[name] == 0 {
			t.Errorf("no PID file for %s after Up", name)
		}
	}

	// A second Up must leave every process alone.
	out.Reset()
	if err := Up(ctx, cfg, &out); err != nil {
		t.Fatalf("second Up: %v\n%s", err, out.String())
	}
	t.Logf("second Up:\n%s", out.String())
	if diff := cmp.Diff(pids, readPIDs(t, cfg)); diff != "" {
		t.Errorf("second Up changed the PIDs (-first +second):\n%s", diff)
	}
	if strings.Contains(out.String(), "starting") {
		t.Errorf("second Up started something:\n%s", out.String())
	}

	out.Reset()
	if err := SmokeStepFunctions(ctx, cfg, &out); err != nil {
		t.Errorf("SmokeStepFunctions: %v", err)
	}
	t.Logf("SmokeStepFunctions:\n%s", out.String())

	t.Run("dynamodb", func(t *testing.T) { exerciseDynamoDB(ctx, t, cfg) })
	t.Run("kinesis", func(t *testing.T) { exerciseKinesis(ctx, t, cfg) })
	t.Run("sqs", func(t *testing.T) { exerciseSQS(ctx, t, cfg) })

	out.Reset()
	if err := Down(ctx, cfg, &out); err != nil {
		t.Fatalf("Down: %v\n%s", err, out.String())
	}
	t.Logf("Down:\n%s", out.String())
	for name, pid := range pids {
		if processAlive(pid) {
			t.Errorf("%s (pid %d) is still running after Down", name, pid)
		}
		if _, err := os.Stat(cfg.pidFile(name)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s PID file still exists after Down: %v", name, err)
		}
	}
	if err := Status(ctx, cfg, &out); err == nil {
		t.Error("Status after Down = nil, want an error")
	}
}

// readPIDs maps service name to the PID in its PID file.
func readPIDs(t *testing.T, cfg Config) map[string]int {
	t.Helper()
	m := map[string]int{}
	entries, err := os.ReadDir(cfg.pidsDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".pid")
		pid, err := readPID(filepath.Join(cfg.pidsDir(), e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[name] = pid
	}
	return m
}

var testCreds = credentials.NewStaticCredentialsProvider(dummyAccessKey, dummySecretKey, "")

func exerciseDynamoDB(ctx context.Context, t *testing.T, cfg Config) {
	db := dynamodb.New(dynamodb.Options{
		Region:       Region,
		Credentials:  testCreds,
		BaseEndpoint: aws.String(cfg.DynamoDBEndpoint()),
	})
	const table = "recoup-integration"
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS},
		},
		KeySchema: []ddbtypes.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash},
		},
	})
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	list, err := db.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatalf("ListTables: %v", err)
	}
	if diff := cmp.Diff([]string{table}, list.TableNames); diff != "" {
		t.Errorf("ListTables (-want +got):\n%s", diff)
	}
	_, err = db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(table),
		Item: map[string]ddbtypes.AttributeValue{
			"pk":     &ddbtypes.AttributeValueMemberS{Value: "debtor#1"},
			"amount": &ddbtypes.AttributeValueMemberN{Value: "250"},
		},
	})
	if err != nil {
		t.Fatalf("PutItem: %v", err)
	}
	got, err := db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "debtor#1"}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	if n, ok := got.Item["amount"].(*ddbtypes.AttributeValueMemberN); !ok || n.Value != "250" {
		t.Errorf("GetItem amount = %#v, want N 250", got.Item["amount"])
	}
}

func exerciseKinesis(ctx context.Context, t *testing.T, cfg Config) {
	k := kinesis.New(kinesis.Options{
		Region:       Region,
		Credentials:  testCreds,
		BaseEndpoint: aws.String(cfg.KinesisEndpoint()),
	})
	const stream = "recoup-integration"
	start := time.Now()
	if _, err := k.CreateStream(ctx, &kinesis.CreateStreamInput{
		StreamName: aws.String(stream),
		ShardCount: aws.Int32(2),
	}); err != nil {
		t.Fatalf("CreateStream: %v", err)
	}
	var desc *kinesis.DescribeStreamOutput
	for {
		var err error
		desc, err = k.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(stream)})
		if err != nil {
			t.Fatalf("DescribeStream: %v", err)
		}
		if desc.StreamDescription.StreamStatus == kintypes.StreamStatusActive {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("stream still %s after 10s", desc.StreamDescription.StreamStatus)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("stream ACTIVE %s after CreateStream", time.Since(start).Round(time.Millisecond))
	if n := len(desc.StreamDescription.Shards); n != 2 {
		t.Errorf("DescribeStream: %d shards, want 2", n)
	}
	put, err := k.PutRecord(ctx, &kinesis.PutRecordInput{
		StreamName:   aws.String(stream),
		PartitionKey: aws.String("debtor#1"),
		Data:         []byte(`{"amount":250}`),
	})
	if err != nil {
		t.Fatalf("PutRecord: %v", err)
	}
	it, err := k.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
		StreamName:             aws.String(stream),
		ShardId:                put.ShardId,
		ShardIteratorType:      kintypes.ShardIteratorTypeAtSequenceNumber,
		StartingSequenceNumber: put.SequenceNumber,
	})
	if err != nil {
		t.Fatalf("GetShardIterator: %v", err)
	}
	recs, err := k.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatalf("GetRecords: %v", err)
	}
	if len(recs.Records) != 1 || string(recs.Records[0].Data) != `{"amount":250}` {
		t.Errorf("GetRecords = %d records, want the one put", len(recs.Records))
	}
}

func exerciseSQS(ctx context.Context, t *testing.T, cfg Config) {
	q := sqs.New(sqs.Options{
		Region:       Region,
		Credentials:  testCreds,
		BaseEndpoint: aws.String(cfg.SQSEndpoint()),
	})
	created, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("recoup-integration")})
	if err != nil {
		t.Fatalf("CreateQueue: %v", err)
	}
	want := cfg.SQSEndpoint() + "/000000000000/recoup-integration"
	if got := aws.ToString(created.QueueUrl); got != want {
		t.Errorf("QueueUrl = %s, want %s", got, want)
	}
	if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: created.QueueUrl, MessageBody: aws.String(`{"amount":250}`)}); err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	got, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: created.QueueUrl, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatalf("ReceiveMessage: %v", err)
	}
	if len(got.Messages) != 1 || aws.ToString(got.Messages[0].Body) != `{"amount":250}` {
		t.Errorf("ReceiveMessage = %d messages, want the one sent", len(got.Messages))
	}
}
