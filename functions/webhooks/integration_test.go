package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/recoup-dev/recoup/events"
	"github.com/recoup-dev/recoup/infra/local/localtest"
	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/deadletter"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
	"github.com/recoup-dev/recoup/shared/stream/kinesis"
	sqsq "github.com/recoup-dev/recoup/shared/stream/sqs"
	"github.com/recoup-dev/recoup/shared/webhooks/handler"
	"github.com/recoup-dev/recoup/shared/webhooks/sms"
	"github.com/recoup-dev/recoup/shared/webhooks/snsverify"
	"github.com/recoup-dev/recoup/shared/webhooks/snsverify/snstest"
)

func post(path string, body []byte) lambdaevents.APIGatewayProxyRequest {
	return lambdaevents.APIGatewayProxyRequest{Path: path, Resource: path, HTTPMethod: http.MethodPost, Body: string(body)}
}

type noCustomers struct{}

func (noCustomers) CustomersByAddress(context.Context, ledger.TenantID, string) ([]string, error) {
	return nil, nil
}

// TestIntegrationWebhooksPublishToKinesis posts a signed SES delivery and a
// Connect contact event through the handler, publishing with the real
// Kinesis publisher to kinesalite, and reads the records back: valid
// events, keyed by tenant#customer. Then a STOP from a number no customer
// has: recorded in the real consent table, dead-lettered on the real SQS
// emulator. Only SNS (signed by snstest) is faked: it cannot run here.
func TestIntegrationWebhooksPublishToKinesis(t *testing.T) {
	localtest.Require(t, "RECOUP_KINESIS_ENDPOINT")
	ctx := context.Background()
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client := awskinesis.NewFromConfig(cfg, func(o *awskinesis.Options) {
		o.BaseEndpoint = aws.String(os.Getenv("RECOUP_KINESIS_ENDPOINT"))
	})
	stream := fmt.Sprintf("webhooks-%d", time.Now().UnixNano())
	pub, err := kinesis.NewPublisher(client, stream)
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.EnsureStream(ctx, 1); err != nil {
		t.Fatal(err)
	}
	signer := snstest.NewSigner(t)
	verifier, err := snsverify.NewVerifier(signer.Fetcher, snsverify.Options{Roots: signer.Roots})
	if err != nil {
		t.Fatal(err)
	}
	sqsClient, queue := localtest.SQS(t)
	url, err := sqsq.EnsureQueue(ctx, sqsClient, queue, nil)
	if err != nil {
		t.Fatal(err)
	}
	dl, err := sqsq.NewDeadLetters(sqsClient, url)
	if err != nil {
		t.Fatal(err)
	}
	// letters reads what is on the dead-letter queue.
	letters := func() []deadletter.Letter {
		t.Helper()
		rs, err := sqsq.Receive(ctx, sqsClient, url, 10, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var ls []deadletter.Letter
		for _, r := range rs {
			if r.DecodeErr != nil {
				t.Fatalf("message %s: %v", r.MessageID, r.DecodeErr)
			}
			ls = append(ls, r.Letter)
		}
		return ls
	}
	db, prefix := localtest.DynamoDB(t)
	if _, err := dynamo.EnsureTables(ctx, db, prefix); err != nil {
		t.Fatal(err)
	}
	cs, err := dynamo.NewConsent(db, prefix)
	if err != nil {
		t.Fatal(err)
	}
	normaliser, err := sms.New(sms.MapNumbers{"+12125550101": "acme-supply"}, noCustomers{}, cs)
	if err != nil {
		t.Fatal(err)
	}
	const (
		topic    = "arn:aws:sns:us-east-1:123456789012:recoup-ses-events"
		smsTopic = "arn:aws:sns:us-east-1:123456789012:recoup-sms-events"
	)
	var logs bytes.Buffer
	h, err := handler.New(handler.Config{Verifier: verifier, SESTopics: []string{topic}, SMSTopics: []string{smsTopic}, SMS: normaliser, ConnectKey: "k",
		Publisher: pub, DeadLetters: dl, Log: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}

	record, err := os.ReadFile("../../shared/webhooks/ses/testdata/delivery.json")
	if err != nil {
		t.Fatal(err)
	}
	m := snsverify.Message{Type: snsverify.TypeNotification, MessageID: "95df01b4-ee98-5cb9-9903-4c221d41eb5e", TopicArn: topic,
		Message: string(record), Timestamp: "2026-04-14T17:03:22.512Z"}
	signer.Sign(t, &m)
	resp, err := h.HandleRequest(ctx, post("/webhooks/ses", snstest.Body(t, m)))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("SES delivery: %d %s %v\n%s", resp.StatusCode, resp.Body, err, &logs)
	}
	contact, err := os.ReadFile("../../shared/webhooks/connect/testdata/disconnected.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.HandleEventBridge(ctx, contact); err != nil {
		t.Fatal(err)
	}
	if ls := letters(); len(ls) != 0 {
		t.Fatalf("dead letters: %+v", ls)
	}

	shards, err := client.ListShards(ctx, &awskinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatal(err)
	}
	it, err := client.GetShardIterator(ctx, &awskinesis.GetShardIteratorInput{StreamName: aws.String(stream),
		ShardId: shards.Shards[0].ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := client.GetRecords(ctx, &awskinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		typ events.Type
		key string
	}{{events.TypeEmailDelivered, "acme-supply#C-10042"}, {events.TypeCallOutcome, "acme-supply#C-10077"}}
	if len(recs.Records) != len(want) {
		t.Fatalf("%d records on the stream, want %d", len(recs.Records), len(want))
	}
	for i, r := range recs.Records {
		e, err := events.Decode(r.Data)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if e.Type() != want[i].typ || aws.ToString(r.PartitionKey) != want[i].key {
			t.Errorf("record %d: %s keyed %s, want %s keyed %s", i, e.Type(), aws.ToString(r.PartitionKey), want[i].typ, want[i].key)
		}
	}

	stop := snsverify.Message{Type: snsverify.TypeNotification, MessageID: "b1e7c0de-0000-4000-8000-000000000001", TopicArn: smsTopic,
		Message:   `{"originationNumber":"+13125550188","destinationNumber":"+12125550101","messageBody":"STOP","inboundMessageId":"in-stop-1"}`,
		Timestamp: "2026-04-14T17:05:00.000Z"}
	signer.Sign(t, &stop)
	resp, err = h.HandleRequest(ctx, post("/webhooks/sms", snstest.Body(t, stop)))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("SMS STOP: %d %s %v\n%s", resp.StatusCode, resp.Body, err, &logs)
	}
	if ls := letters(); len(ls) != 1 || ls[0].Kind != deadletter.KindUnknownCustomer || ls[0].Source != handler.SourceSMS {
		t.Errorf("dead letters after a STOP from an unknown number: %+v, want one webhooks/sms unknown_customer", ls)
	}
	st, err := cs.Current(ctx, "acme-supply", "tel:+13125550188", consent.SMS)
	if err != nil {
		t.Fatal(err)
	}
	if st.Consent != consent.Revoked {
		t.Errorf("consent of the number after its STOP: %+v, want revoked", st)
	}
}
