// Package sms sends texts through AWS End User Messaging SMS
// (pinpointsmsvoicev2 SendTextMessage), with the correlation keys the SMS
// webhook reads in the message Context (shared/webhooks/README.md). The
// endpoint comes from AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2 or
// AWS_ENDPOINT_URL, as for every SDK client.
package sms

import (
	"context"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pinpointsmsvoicev2"
	"github.com/aws/aws-sdk-go-v2/service/pinpointsmsvoicev2/types"

	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/sender"
	"github.com/recoup-dev/recoup/shared/sender/internal/awsfault"
	"github.com/recoup-dev/recoup/shared/webhooks"
)

// API is the part of the End User Messaging SMS client the sender uses.
type API interface {
	SendTextMessage(ctx context.Context, in *pinpointsmsvoicev2.SendTextMessageInput, optFns ...func(*pinpointsmsvoicev2.Options)) (*pinpointsmsvoicev2.SendTextMessageOutput, error)
}

var (
	_ API           = (*pinpointsmsvoicev2.Client)(nil)
	_ sender.Sender = (*Sender)(nil)
)

// MaxBody is the longest MessageBody the service accepts, in characters.
const MaxBody = 1600

// Options configure a Sender.
type Options struct {
	// OriginationIdentity is the phone number, pool or sender id (or its
	// ARN) texts come from; required, because replies to it are mapped to
	// the tenant (RECOUP_SMS_NUMBERS).
	OriginationIdentity string
	// ConfigurationSet names the configuration set whose event destination
	// feeds the SMS webhook.
	ConfigurationSet string
	// MaxPrice, when set, caps the price per message in US dollars.
	MaxPrice string
}

// Sender sends texts.
type Sender struct {
	api  API
	opts Options
	now  func() time.Time
}

// New returns a sender over api (build it with NewClient).
func New(api API, opts Options) (*Sender, error) {
	if api == nil {
		return nil, errors.New("sms: nil End User Messaging SMS client")
	}
	if opts.OriginationIdentity == "" {
		return nil, errors.New("sms: Options.OriginationIdentity is required")
	}
	return &Sender{api: api, opts: opts, now: time.Now}, nil
}

// codes classifies the service's own errors. A ConflictException on a send
// is a destination state (DESTINATION_PHONE_NUMBER_OPTED_OUT, not verified)
// or a configuration mismatch: permanent. A quota (spend limit, MPS) clears
// with time.
var codes = map[string]sender.Class{
	"ValidationException":           sender.ClassPermanent,
	"ConflictException":             sender.ClassPermanent,
	"AccessDeniedException":         sender.ClassPermanent,
	"ResourceNotFoundException":     sender.ClassPermanent,
	"ServiceQuotaExceededException": sender.ClassTransient,
	"ThrottlingException":           sender.ClassTransient,
	"InternalServerException":       sender.ClassTransient,
}

// NewClient builds the client from cfg with a retryer that never repeats a
// request that may have been delivered: the service does not deduplicate,
// so a retried SendTextMessage after a lost answer texts twice.
func NewClient(cfg aws.Config, optFns ...func(*pinpointsmsvoicev2.Options)) *pinpointsmsvoicev2.Client {
	return pinpointsmsvoicev2.NewFromConfig(cfg, append([]func(*pinpointsmsvoicev2.Options){func(o *pinpointsmsvoicev2.Options) {
		o.Retryer = awsfault.Retryer(codes)
	}}, optFns...)...)
}

// DedupWindow is 0: every accepted request is a text.
func (s *Sender) DedupWindow() time.Duration { return 0 }

// Send texts m.Content.Text to m.To.
func (s *Sender) Send(ctx context.Context, m sender.Message) (sender.Receipt, error) {
	in, err := s.input(m)
	if err != nil {
		return sender.Receipt{}, err
	}
	out, err := s.api.SendTextMessage(ctx, in)
	if err != nil {
		return sender.Receipt{}, awsfault.Classify(err, codes)
	}
	return awsfault.Receipt(sender.ProviderSMS, out.MessageId, s.now())
}

func (s *Sender) input(m sender.Message) (*pinpointsmsvoicev2.SendTextMessageInput, error) {
	body := m.Content.Text
	switch {
	case m.Channel != compliance.ChannelSMS:
		return nil, sender.Invalid("sms sends texts, not %s", m.Channel)
	case body == "":
		return nil, sender.Invalid("attempt %s: text without a body", m.AttemptID)
	case utf8.RuneCountInString(body) > MaxBody:
		return nil, sender.Invalid("attempt %s: text of %d characters, more than %d", m.AttemptID, utf8.RuneCountInString(body), MaxBody)
	}
	in := &pinpointsmsvoicev2.SendTextMessageInput{
		DestinationPhoneNumber: aws.String(m.To),
		OriginationIdentity:    aws.String(s.opts.OriginationIdentity),
		MessageBody:            aws.String(body),
		// Collection notices are account messages, not marketing.
		MessageType: types.MessageTypeTransactional,
		Context:     Context(m),
	}
	if s.opts.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(s.opts.ConfigurationSet)
	}
	if s.opts.MaxPrice != "" {
		in.MaxPrice = aws.String(s.opts.MaxPrice)
	}
	return in, nil
}

// Context is the message context the SMS webhook reads back from delivery
// events: tenant, customer, attempt and, when set, debt, encoded as SES tag
// values are (webhooks.EncodeValue).
func Context(m sender.Message) map[string]string {
	c := map[string]string{
		webhooks.KeyTenant:   webhooks.EncodeValue(string(m.Tenant)),
		webhooks.KeyCustomer: webhooks.EncodeValue(m.Customer),
		webhooks.KeyAttempt:  webhooks.EncodeValue(m.AttemptID),
	}
	if m.Debt != "" {
		c[webhooks.KeyDebt] = webhooks.EncodeValue(m.Debt)
	}
	return c
}
