// Command webhooks is the channel-webhook Lambda: SES, SMS and Connect
// notifications in (API Gateway REST proxy, or EventBridge directly for
// Connect), engagement events out on Kinesis. See shared/webhooks/handler.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
	"github.com/recoup-dev/recoup/shared/stream/kinesis"
	"github.com/recoup-dev/recoup/shared/stream/sqs"
	"github.com/recoup-dev/recoup/shared/webhooks/handler"
	"github.com/recoup-dev/recoup/shared/webhooks/sms"
	"github.com/recoup-dev/recoup/shared/webhooks/snsverify"
)

// The adapters wired below satisfy the handler's interfaces.
var (
	_ handler.Publisher = (*kinesis.Publisher)(nil)
	_ handler.Verifier  = (*snsverify.Verifier)(nil)
	_ sms.Resolver      = (*dynamo.Ledger)(nil)
	_ sms.Consent       = (*dynamo.Consent)(nil)
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	h, err := build(context.Background(), log)
	if err != nil {
		log.Error("start webhooks", "err", err)
		os.Exit(1)
	}
	lambda.Start(h.Invoke)
}

func build(ctx context.Context, log *slog.Logger) (*handler.Handler, error) {
	s, err := handler.LoadSettings(os.Getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		return nil, err
	}
	pub, err := kinesis.NewPublisher(awskinesis.NewFromConfig(cfg), s.Stream)
	if err != nil {
		return nil, err
	}
	dl, err := sqs.NewDeadLetters(awssqs.NewFromConfig(cfg), s.DLQURL)
	if err != nil {
		return nil, err
	}
	db, prefix := awsconfig.DynamoDB(cfg), awsconfig.TablePrefix()
	customers, err := dynamo.NewLedger(db, prefix)
	if err != nil {
		return nil, err
	}
	// A STOP from a number no customer has is recorded here: no event can
	// carry it to the engagement consumer.
	cs, err := dynamo.NewConsent(db, prefix)
	if err != nil {
		return nil, err
	}
	normaliser, err := sms.New(s.Numbers, customers, cs)
	if err != nil {
		return nil, err
	}
	verifier, err := snsverify.NewVerifier(snsverify.NewHTTPFetcher(), snsverify.Options{})
	if err != nil {
		return nil, err
	}
	if len(s.SESTopics) == 0 || len(s.SMSTopics) == 0 {
		log.Warn("a webhook route has no allowed topics and will refuse every SNS delivery",
			"ses_topics", len(s.SESTopics), "sms_topics", len(s.SMSTopics))
	}
	return handler.New(handler.Config{Verifier: verifier, SESTopics: s.SESTopics, SMSTopics: s.SMSTopics,
		SMS: normaliser, ConnectKey: s.ConnectKey, Publisher: pub, DeadLetters: dl, Log: log})
}
