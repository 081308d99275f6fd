// Package ses sends e-mail through Amazon SES v2 (SendEmail with simple
// content), one recipient per message, tagged with the correlation keys the
// SES webhook reads (shared/webhooks/README.md). The endpoint comes from
// AWS_ENDPOINT_URL_SESV2 or AWS_ENDPOINT_URL, as for every SDK client.
package ses

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/sender"
	"github.com/recoup-dev/recoup/shared/sender/internal/awsfault"
	"github.com/recoup-dev/recoup/shared/webhooks"
)

// API is the part of the SES v2 client the sender uses.
type API interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, optFns ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

var (
	_ API           = (*sesv2.Client)(nil)
	_ sender.Sender = (*Sender)(nil)
)

// Options configure a Sender.
type Options struct {
	// From is the FromEmailAddress, a verified identity; required.
	From string
	// ConfigurationSet names the configuration set whose event destination
	// feeds the SES webhook; without it no delivery event comes back.
	ConfigurationSet string
	// ReplyTo are optional reply-to addresses.
	ReplyTo []string
}

// Sender sends e-mail through SES.
type Sender struct {
	api  API
	opts Options
	now  func() time.Time
}

// New returns a sender over api (build it with NewClient).
func New(api API, opts Options) (*Sender, error) {
	if api == nil {
		return nil, errors.New("ses: nil SES client")
	}
	if opts.From == "" {
		return nil, errors.New("ses: Options.From (the FromEmailAddress) is required")
	}
	return &Sender{api: api, opts: opts, now: time.Now}, nil
}

// codes classifies SES's own errors; throttling and 5xx are transient
// whatever their code.
var codes = map[string]sender.Class{
	"MessageRejected":                    sender.ClassPermanent,
	"MailFromDomainNotVerifiedException": sender.ClassPermanent,
	"AccountSuspendedException":          sender.ClassPermanent,
	"SendingPausedException":             sender.ClassPermanent,
	"BadRequestException":                sender.ClassPermanent,
	"NotFoundException":                  sender.ClassPermanent,
	"TooManyRequestsException":           sender.ClassTransient,
	"LimitExceededException":             sender.ClassTransient,
}

// NewClient builds the SES v2 client from cfg with a retryer that never
// repeats a request that may have been delivered: SES does not deduplicate,
// so a retried SendEmail after a lost answer sends the e-mail twice.
func NewClient(cfg aws.Config, optFns ...func(*sesv2.Options)) *sesv2.Client {
	return sesv2.NewFromConfig(cfg, append([]func(*sesv2.Options){func(o *sesv2.Options) {
		o.Retryer = awsfault.Retryer(codes)
	}}, optFns...)...)
}

// DedupWindow is 0: SES sends every request it accepts.
func (s *Sender) DedupWindow() time.Duration { return 0 }

// Send sends m as one e-mail to m.To.
func (s *Sender) Send(ctx context.Context, m sender.Message) (sender.Receipt, error) {
	in, err := s.input(m)
	if err != nil {
		return sender.Receipt{}, err
	}
	out, err := s.api.SendEmail(ctx, in)
	if err != nil {
		return sender.Receipt{}, awsfault.Classify(err, codes)
	}
	return awsfault.Receipt(sender.ProviderSES, out.MessageId, s.now())
}

func (s *Sender) input(m sender.Message) (*sesv2.SendEmailInput, error) {
	c := m.Content
	switch {
	case m.Channel != compliance.ChannelEmail:
		return nil, sender.Invalid("ses sends e-mail, not %s", m.Channel)
	case c.Subject == "":
		return nil, sender.Invalid("attempt %s: e-mail without a subject", m.AttemptID)
	case c.Text == "" && c.HTML == "":
		return nil, sender.Invalid("attempt %s: e-mail without a body", m.AttemptID)
	}
	body := &types.Body{}
	if c.Text != "" {
		body.Text = &types.Content{Data: aws.String(c.Text), Charset: aws.String("UTF-8")}
	}
	if c.HTML != "" {
		body.Html = &types.Content{Data: aws.String(c.HTML), Charset: aws.String("UTF-8")}
	}
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(s.opts.From),
		// One recipient per message: opens and clicks name no recipient,
		// so only a one-recipient message can be attributed.
		Destination: &types.Destination{ToAddresses: []string{m.To}},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(c.Subject), Charset: aws.String("UTF-8")},
			Body:    body,
		}},
		EmailTags:        Tags(m),
		ReplyToAddresses: s.opts.ReplyTo,
	}
	if s.opts.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(s.opts.ConfigurationSet)
	}
	return in, nil
}

// Tags are the message tags the SES webhook reads back from every event:
// tenant, customer, attempt and, when set, debt, each value encoded with
// webhooks.EncodeValue (SES accepts only A-Z a-z 0-9 _ . @ - in values).
func Tags(m sender.Message) []types.MessageTag {
	tags := []types.MessageTag{
		{Name: aws.String(webhooks.KeyTenant), Value: aws.String(webhooks.EncodeValue(string(m.Tenant)))},
		{Name: aws.String(webhooks.KeyCustomer), Value: aws.String(webhooks.EncodeValue(m.Customer))},
		{Name: aws.String(webhooks.KeyAttempt), Value: aws.String(webhooks.EncodeValue(m.AttemptID))},
	}
	if m.Debt != "" {
		tags = append(tags, types.MessageTag{Name: aws.String(webhooks.KeyDebt), Value: aws.String(webhooks.EncodeValue(m.Debt))})
	}
	return tags
}
