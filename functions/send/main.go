// Command send is the collection cycle's Send step: the dispatch gate
// decides and records the attempt atomically, then the channel's sender
// sends, once per attempt id. Channels are configured by environment:
// RECOUP_EMAIL_FROM (SES v2), RECOUP_SMS_ORIGINATION (End User Messaging
// SMS), RECOUP_CONNECT_INSTANCE_ID with RECOUP_CONNECT_CALL_FLOW and
// RECOUP_CONNECT_SOURCE_NUMBER (Amazon Connect), RECOUP_LETTER_QUEUE_URL
// (letters, queued for the ERP). RECOUP_WRITEBACK_QUEUE_URL queues the
// decisions' credit holds and hand-offs and a note of each message sent
// for the tenant's ERP (functions/writeback). See shared/cycle (Sender).
package main

import (
	"context"
	"errors"
	"io/fs"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/recoup-dev/recoup/functions/internal/wire"
	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/cycle"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/sender"
	"github.com/recoup-dev/recoup/shared/sender/connect"
	"github.com/recoup-dev/recoup/shared/sender/letters"
	"github.com/recoup-dev/recoup/shared/sender/ses"
	"github.com/recoup-dev/recoup/shared/sender/sms"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
	"github.com/recoup-dev/recoup/shared/writeback"
	"github.com/recoup-dev/recoup/shared/writeback/sqsqueue"
)

func main() {
	ctx := context.Background()
	env := wire.Must(wire.Load(ctx))
	var overrides fs.FS
	if dir := os.Getenv("RECOUP_POLICY_DIR"); dir != "" {
		overrides = os.DirFS(dir)
	}
	engines := wire.Must(compliance.LoadEngines(overrides, "."))
	gate := wire.Must(dynamo.NewGate(env.DB, env.Prefix, engines))
	gate.Now = env.Now // the attempt's time is checked against the clock it was made by
	sends := wire.Must(dynamo.NewSends(env.DB, env.Prefix))
	d := wire.Must(sender.NewDeliverer(gate, sends, wire.Must(senders(env))))
	d.Now = env.Now
	profiles := wire.Must(env.Profiles())
	s := &cycle.Sender{
		Accounts:  wire.Must(env.Ledger()),
		Deliverer: d,
		Collector: func(t ledger.TenantID) ledger.CollectorType {
			p, err := profiles.Profile(ctx, t)
			if err != nil {
				// The stricter rules when the profile cannot be read.
				env.Log.Warn("tenant profile unreadable; applying the debt collector's rules", "tenant", string(t), "err", err)
				return ledger.ThirdParty
			}
			return p.Collector
		},
		Now: env.Now,
	}
	if q := env.Getenv("RECOUP_WRITEBACK_QUEUE_URL"); q != "" {
		audit := wire.Must(dynamo.NewAudit(env.DB, env.Prefix))
		queue := wire.Must(sqsqueue.NewQueue(sqs.NewFromConfig(env.AWS), q))
		s.ERP = &writeback.Submitter{Store: wire.Must(dynamo.NewWritebacks(env.DB, audit, env.Prefix)), Queue: queue, Now: env.Now}
	}
	lambda.Start(s.Send)
}

// senders builds a sender for each configured channel; a channel left
// unconfigured fails its sends as input errors, never silently.
func senders(env *wire.Env) (map[compliance.Channel]sender.Sender, error) {
	out := map[compliance.Channel]sender.Sender{}
	if from := env.Getenv("RECOUP_EMAIL_FROM"); from != "" {
		s, err := ses.New(ses.NewClient(env.AWS), ses.Options{From: from, ConfigurationSet: env.Getenv("RECOUP_SES_CONFIGURATION_SET")})
		if err != nil {
			return nil, err
		}
		out[compliance.ChannelEmail] = s
	}
	if orig := env.Getenv("RECOUP_SMS_ORIGINATION"); orig != "" {
		s, err := sms.New(sms.NewClient(env.AWS), sms.Options{OriginationIdentity: orig, ConfigurationSet: env.Getenv("RECOUP_SMS_CONFIGURATION_SET")})
		if err != nil {
			return nil, err
		}
		out[compliance.ChannelSMS] = s
	}
	if inst := env.Getenv("RECOUP_CONNECT_INSTANCE_ID"); inst != "" {
		flows := map[compliance.Channel]string{}
		if f := env.Getenv("RECOUP_CONNECT_CALL_FLOW"); f != "" {
			flows[compliance.ChannelCall] = f
		}
		if f := env.Getenv("RECOUP_CONNECT_AI_FLOW"); f != "" {
			flows[compliance.ChannelAIVoice] = f
		}
		s, err := connect.New(connect.NewClient(env.AWS), connect.Options{InstanceID: inst, Flows: flows,
			SourcePhoneNumber: env.Getenv("RECOUP_CONNECT_SOURCE_NUMBER"), QueueID: env.Getenv("RECOUP_CONNECT_QUEUE_ID")})
		if err != nil {
			return nil, err
		}
		for ch := range flows {
			out[ch] = s
		}
	}
	if q := env.Getenv("RECOUP_LETTER_QUEUE_URL"); q != "" {
		s, err := letters.New(letters.NewClient(env.AWS), letters.Options{QueueURL: q})
		if err != nil {
			return nil, err
		}
		out[compliance.ChannelLetter] = s
	}
	if len(out) == 0 {
		return nil, errors.New("no channel is configured: set RECOUP_EMAIL_FROM, RECOUP_SMS_ORIGINATION, RECOUP_CONNECT_INSTANCE_ID or RECOUP_LETTER_QUEUE_URL")
	}
	return out, nil
}
