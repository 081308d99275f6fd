// Package connect places outbound calls (agent calls, AI voice, prerecorded)
// through Amazon Connect's StartOutboundVoiceContact. The endpoint comes
// from AWS_ENDPOINT_URL_CONNECT or AWS_ENDPOINT_URL, as for every SDK client.
//
// Correlation: the Connect webhook reads recoup_* keys from the contact's
// tags (shared/webhooks/README.md), but StartOutboundVoiceContact takes no
// tags. The sender therefore puts the keys in the contact attributes (so a
// flow can read them, or copy them with a "Set contact tags" block) and
// tags the contact with TagContact as soon as Connect returns its id.
//
// Idempotency: every call carries a ClientToken derived from the tenant and
// attempt id, so Connect answers a repeat within 7 days with the contact it
// already started instead of dialling again. That makes repeating a call
// whose answer was lost safe, which is why DedupWindow is not 0.
package connect

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconnect "github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/dispatch"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/sender"
	"github.com/recoup-dev/recoup/shared/sender/internal/awsfault"
	"github.com/recoup-dev/recoup/shared/webhooks"
)

// API is the part of the Connect client the sender uses.
type API interface {
	StartOutboundVoiceContact(ctx context.Context, in *awsconnect.StartOutboundVoiceContactInput, optFns ...func(*awsconnect.Options)) (*awsconnect.StartOutboundVoiceContactOutput, error)
	TagContact(ctx context.Context, in *awsconnect.TagContactInput, optFns ...func(*awsconnect.Options)) (*awsconnect.TagContactOutput, error)
}

var (
	_ API           = (*awsconnect.Client)(nil)
	_ sender.Sender = (*Sender)(nil)
)

// DedupWindow is how long Connect honours a ClientToken.
const DedupWindow = 7 * 24 * time.Hour

// KeyScript is the contact attribute holding Content.Script.
const KeyScript = "recoup_script"

// maxAttributeBytes is Connect's limit across all attribute keys and values.
const maxAttributeBytes = 32768

// Options configure a Sender.
type Options struct {
	// InstanceID is the Connect instance; required.
	InstanceID string
	// Flows maps each channel the sender serves to its contact flow: call
	// and voicemail (an agent flow), ai_voice (a flow with the AI agent),
	// prerecorded. At least one is required; a message on a channel with
	// no flow is refused.
	Flows map[compliance.Channel]string
	// SourcePhoneNumber (E.164) is the caller id; QueueID may replace it
	// (the queue's number is then shown). One of them is required.
	SourcePhoneNumber string
	QueueID           string
	// RingTimeout, when set, bounds how long the call rings.
	RingTimeout time.Duration
	// Log gets a warning when a placed call could not be tagged.
	Log *slog.Logger
}

// Sender places calls through Connect.
type Sender struct {
	api  API
	opts Options
	now  func() time.Time
	log  *slog.Logger
}

// New returns a sender over api (build it with NewClient).
func New(api API, opts Options) (*Sender, error) {
	switch {
	case api == nil:
		return nil, errors.New("connect: nil Connect client")
	case opts.InstanceID == "":
		return nil, errors.New("connect: Options.InstanceID is required")
	case len(opts.Flows) == 0:
		return nil, errors.New("connect: Options.Flows needs a contact flow for at least one channel")
	case opts.SourcePhoneNumber == "" && opts.QueueID == "":
		return nil, errors.New("connect: Options.SourcePhoneNumber or Options.QueueID is required")
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sender{api: api, opts: opts, now: time.Now, log: log}, nil
}

// codes classifies Connect's own errors. LimitExceededException is
// Connect's answer to too many calls at once: wait and retry.
var codes = map[string]sender.Class{
	"DestinationNotAllowedException":       sender.ClassPermanent,
	"OutboundContactNotPermittedException": sender.ClassPermanent,
	"InvalidParameterException":            sender.ClassPermanent,
	"InvalidRequestException":              sender.ClassPermanent,
	"ResourceNotFoundException":            sender.ClassPermanent,
	"LimitExceededException":               sender.ClassTransient,
	"ThrottlingException":                  sender.ClassTransient,
	"InternalServiceException":             sender.ClassTransient,
}

// NewClient builds the Connect client from cfg. The SDK's own retries are
// kept: the ClientToken makes a repeated StartOutboundVoiceContact safe, and
// TagContact is idempotent.
func NewClient(cfg aws.Config, optFns ...func(*awsconnect.Options)) *awsconnect.Client {
	return awsconnect.NewFromConfig(cfg, optFns...)
}

// DedupWindow is Connect's ClientToken lifetime.
func (s *Sender) DedupWindow() time.Duration { return DedupWindow }

// ClientToken is the idempotency token of an attempt's call: a digest of
// tenant and attempt id (64 hex digits, within Connect's 500), since attempt
// ids are unique per tenant only and one instance may serve several tenants.
func ClientToken(tenant ledger.TenantID, attemptID string) string {
	h := sha256.Sum256([]byte("recoup/connect/v1\x00" + string(tenant) + "\x00" + attemptID))
	return hex.EncodeToString(h[:])
}

// Correlation is the recoup_* keys of the call, values encoded with
// webhooks.EncodeValue: the contact's tags, and its attributes with
// KeyScript added.
func Correlation(m sender.Message) map[string]string {
	c := map[string]string{
		webhooks.KeyTenant:   webhooks.EncodeValue(string(m.Tenant)),
		webhooks.KeyCustomer: webhooks.EncodeValue(m.Customer),
		webhooks.KeyAttempt:  webhooks.EncodeValue(m.AttemptID),
		webhooks.KeyTo:       webhooks.EncodeValue(m.To),
		webhooks.KeyChannel:  webhooks.EncodeValue(string(dispatch.ConsentChannel(m.Channel))),
	}
	if m.Debt != "" {
		c[webhooks.KeyDebt] = webhooks.EncodeValue(m.Debt)
	}
	return c
}

// Send places the call and tags the contact. A tagging failure after the
// call was placed is transient when a retry can fix it (the retry gets the
// same contact back from the ClientToken and tags it again); otherwise the
// call stands untagged, is logged, and its contact event will be
// dead-lettered by the webhook for a person to match.
func (s *Sender) Send(ctx context.Context, m sender.Message) (sender.Receipt, error) {
	in, err := s.input(m)
	if err != nil {
		return sender.Receipt{}, err
	}
	out, err := s.api.StartOutboundVoiceContact(ctx, in)
	if err != nil {
		return sender.Receipt{}, awsfault.Classify(err, codes)
	}
	id := aws.ToString(out.ContactId)
	if id == "" {
		return sender.Receipt{}, &sender.ProviderError{Class: sender.ClassInDoubt, Code: "NoContactId", Detail: "Connect answered without a ContactId"}
	}
	_, err = s.api.TagContact(ctx, &awsconnect.TagContactInput{
		InstanceId: aws.String(s.opts.InstanceID), ContactId: aws.String(id), Tags: Correlation(m),
	})
	if err != nil {
		pe := awsfault.Classify(err, codes)
		if pe.Class != sender.ClassPermanent {
			return sender.Receipt{}, &sender.ProviderError{Class: sender.ClassTransient, Code: "TagContact:" + pe.Code,
				Detail: "call placed, contact not tagged; a retry gets the same contact", Err: err}
		}
		s.log.Warn("call placed but not tagged: its contact event will be dead-lettered", "tenant", string(m.Tenant),
			"attempt", m.AttemptID, "contact_id", id, "code", pe.Code)
	}
	return sender.Receipt{Provider: sender.ProviderConnect, ProviderID: id, At: s.now().UTC()}, nil
}

func (s *Sender) input(m sender.Message) (*awsconnect.StartOutboundVoiceContactInput, error) {
	flow, ok := s.opts.Flows[m.Channel]
	if !ok || flow == "" {
		return nil, sender.Invalid("no contact flow configured for channel %s", m.Channel)
	}
	attrs := Correlation(m)
	if m.Content.Script != "" {
		attrs[KeyScript] = m.Content.Script
	}
	n := 0
	for k, v := range attrs {
		n += len(k) + len(v)
	}
	if n > maxAttributeBytes {
		return nil, sender.Invalid("attempt %s: contact attributes of %d bytes, more than Connect's %d", m.AttemptID, n, maxAttributeBytes)
	}
	in := &awsconnect.StartOutboundVoiceContactInput{
		InstanceId:             aws.String(s.opts.InstanceID),
		ContactFlowId:          aws.String(flow),
		DestinationPhoneNumber: aws.String(m.To),
		Attributes:             attrs,
		ClientToken:            aws.String(ClientToken(m.Tenant, m.AttemptID)),
		TrafficType:            types.TrafficTypeGeneral,
	}
	if s.opts.SourcePhoneNumber != "" {
		in.SourcePhoneNumber = aws.String(s.opts.SourcePhoneNumber)
	}
	if s.opts.QueueID != "" {
		in.QueueId = aws.String(s.opts.QueueID)
	}
	if s.opts.RingTimeout > 0 {
		in.RingTimeoutInSeconds = aws.Int32(int32(s.opts.RingTimeout / time.Second))
	}
	return in, nil
}
