// Package letters sends printed letters (compliance.ChannelLetter). Recoup
// has no print provider: a letter becomes a dunning-letter request on an
// SQS queue, which the ERP write-back drains into the ERP's dunning-letter
// API. The request carries no postal address, because the ERP holds it and
// prints from its own master data. The endpoint comes from
// AWS_ENDPOINT_URL_SQS or AWS_ENDPOINT_URL, as for every SDK client.
//
// Idempotency: on a FIFO queue (its URL ends in .fifo) every request
// carries a deduplication id derived from tenant and attempt id, so SQS
// accepts a repeat within its 5-minute deduplication interval without
// queueing it again, and a message group per tenant and customer, so one
// customer's letters reach the ERP in the order they were queued. A
// standard queue deduplicates nothing: a repeated send is a second letter.
package letters

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/sender"
	"github.com/recoup-dev/recoup/shared/sender/internal/awsfault"
)

// API is the part of the SQS client the sender uses.
type API interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

var (
	_ API           = (*sqs.Client)(nil)
	_ sender.Sender = (*Sender)(nil)
)

// KindDunningLetter is the kind of every request this package queues, in
// the body and in the kind attribute, so the write-back can tell letters
// from anything else put on the queue.
const KindDunningLetter = "dunning_letter"

// Message attributes set on every request, so the write-back and alarms can
// route and filter without parsing the body.
const (
	AttrTenant   = "tenant"
	AttrCustomer = "customer"
	AttrAttempt  = "attempt_id"
	AttrKind     = "kind"
)

// FIFODedupWindow is SQS's deduplication interval on FIFO queues.
const FIFODedupWindow = 5 * time.Minute

// maxBytes bounds body and attributes together: the classic SQS message
// size, which every queue and emulator accepts whatever its
// MaximumMessageSize. A bigger letter is refused before the call, as SQS
// would refuse it.
const maxBytes = 256 << 10

// Request is the body of a queued letter, as JSON.
type Request struct {
	Kind      string          `json:"kind"` // KindDunningLetter
	Tenant    ledger.TenantID `json:"tenant"`
	Customer  string          `json:"customer"`
	AttemptID string          `json:"attempt_id"`
	// Debt is "" when the letter is about no single invoice.
	Debt     string    `json:"debt"`
	Subject  string    `json:"subject"`
	Text     string    `json:"text"`
	QueuedAt time.Time `json:"queued_at"`
}

// Decode reads a request body, for the write-back. Unknown fields are
// ignored so a newer writer does not stop an older reader; another kind is
// an error.
func Decode(body []byte) (Request, error) {
	var r Request
	if err := json.Unmarshal(body, &r); err != nil {
		return Request{}, fmt.Errorf("letters: decode request: %w", err)
	}
	if r.Kind != KindDunningLetter {
		return Request{}, fmt.Errorf("letters: request of kind %q, want %q", r.Kind, KindDunningLetter)
	}
	return r, nil
}

// Options configure a Sender.
type Options struct {
	// QueueURL is the queue the write-back drains; required. A URL ending
	// in .fifo is a FIFO queue and gets deduplication and ordering.
	QueueURL string
}

// Sender queues letters.
type Sender struct {
	api  API
	opts Options
	fifo bool
	now  func() time.Time
}

// New returns a sender over api (build it with NewClient).
func New(api API, opts Options) (*Sender, error) {
	if api == nil {
		return nil, errors.New("letters: nil SQS client")
	}
	if opts.QueueURL == "" {
		return nil, errors.New("letters: Options.QueueURL is required")
	}
	return &Sender{api: api, opts: opts, fifo: strings.HasSuffix(opts.QueueURL, ".fifo"), now: time.Now}, nil
}

// codes classifies SQS's own errors where the status alone would mislead:
// SQS throttles with a 403 (RequestThrottled), and a throttled KMS key of
// an encrypted queue comes back as a 400. With X-Amzn-Query-Mode the SDK
// reports the query protocol's code, so KMS errors are listed under both
// names. Every other 4xx (NonExistentQueue, InvalidMessageContents, a
// disabled or missing KMS key, AccessDenied) is permanent: it fails the
// same way until someone changes the configuration.
var codes = map[string]sender.Class{
	"RequestThrottled":        sender.ClassTransient,
	"KmsThrottled":            sender.ClassTransient,
	"KMS.ThrottlingException": sender.ClassTransient,
}

// NewClient builds the SQS client from cfg with a retryer that never
// repeats a request that may have been queued: on a standard queue a
// repeated SendMessage after a lost answer queues the letter twice, and the
// ERP prints both.
func NewClient(cfg aws.Config, optFns ...func(*sqs.Options)) *sqs.Client {
	return sqs.NewFromConfig(cfg, append([]func(*sqs.Options){func(o *sqs.Options) {
		o.Retryer = awsfault.Retryer(codes)
	}}, optFns...)...)
}

// DedupWindow is SQS's deduplication interval on a FIFO queue and 0 on a
// standard queue, which queues every accepted request.
func (s *Sender) DedupWindow() time.Duration {
	if s.fifo {
		return FIFODedupWindow
	}
	return 0
}

// Send queues m as a dunning-letter request. The receipt's ProviderID is
// the SQS MessageId.
func (s *Sender) Send(ctx context.Context, m sender.Message) (sender.Receipt, error) {
	now := s.now().UTC()
	in, err := s.input(m, now)
	if err != nil {
		return sender.Receipt{}, err
	}
	// The SDK checks MD5OfMessageBody after SQS has queued the message and
	// fails with an error Classify would read as "never sent" (transient),
	// inviting a second letter. The check is made here instead, where a
	// mismatch is in doubt.
	out, err := s.api.SendMessage(ctx, in, func(o *sqs.Options) { o.DisableMessageChecksumValidation = true })
	if err != nil {
		return sender.Receipt{}, awsfault.Classify(err, codes)
	}
	if got, want := aws.ToString(out.MD5OfMessageBody), md5Hex(aws.ToString(in.MessageBody)); got != "" && got != want {
		return sender.Receipt{}, &sender.ProviderError{Class: sender.ClassInDoubt, Code: "ChecksumMismatch",
			Detail: "SQS answered with the MD5 of another body; what it queued is unknown"}
	}
	return awsfault.Receipt(sender.ProviderLetters, out.MessageId, now)
}

func (s *Sender) input(m sender.Message, now time.Time) (*sqs.SendMessageInput, error) {
	if m.Channel != compliance.ChannelLetter {
		return nil, sender.Invalid("letters queues printed letters, not %s", m.Channel)
	}
	// The ids become attribute values (which SQS refuses empty) and, on a
	// FIFO queue, parts of the group and deduplication ids, which must not
	// collide: the ledger's rules (no '#') keep them apart. The ids are not
	// quoted, as Detail must stay free of personal data.
	for _, id := range []struct{ what, v string }{{"tenant id", string(m.Tenant)}, {"customer id", m.Customer}, {"attempt id", m.AttemptID}} {
		if ledger.ValidateID(id.what, id.v) != nil {
			return nil, sender.Invalid("letter with an invalid %s (empty, over 128 bytes, or holding '#' or a control character)", id.what)
		}
	}
	switch {
	case strings.TrimSpace(m.Content.Subject) == "":
		return nil, sender.Invalid("attempt %s: letter without a subject", m.AttemptID)
	case strings.TrimSpace(m.Content.Text) == "":
		return nil, sender.Invalid("attempt %s: letter without a text", m.AttemptID)
	}
	body, err := json.Marshal(Request{Kind: KindDunningLetter, Tenant: m.Tenant, Customer: m.Customer, AttemptID: m.AttemptID,
		Debt: m.Debt, Subject: m.Content.Subject, Text: m.Content.Text, QueuedAt: now})
	if err != nil {
		return nil, sender.Invalid("attempt %s: encode the letter: %v", m.AttemptID, err)
	}
	attrs := map[string]types.MessageAttributeValue{}
	size := len(body)
	for k, v := range map[string]string{AttrTenant: string(m.Tenant), AttrCustomer: m.Customer, AttrAttempt: m.AttemptID, AttrKind: KindDunningLetter} {
		attrs[k] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
		size += len(k) + len("String") + len(v)
	}
	if size > maxBytes {
		return nil, sender.Invalid("attempt %s: letter of %d bytes queued, more than SQS's %d", m.AttemptID, size, maxBytes)
	}
	in := &sqs.SendMessageInput{QueueUrl: aws.String(s.opts.QueueURL), MessageBody: aws.String(string(body)), MessageAttributes: attrs}
	if s.fifo {
		in.MessageGroupId = aws.String(GroupID(m.Tenant, m.Customer))
		in.MessageDeduplicationId = aws.String(fifoID("dedup", string(m.Tenant), m.AttemptID))
	}
	return in, nil
}

// GroupID is the FIFO message group of a customer's requests to the ERP:
// the write-back queue uses it too, so a customer's letters and other
// actions keep one order if they share a queue.
func GroupID(tenant ledger.TenantID, customer string) string {
	return fifoID("group", string(tenant), customer)
}

// fifoID is tenant#id as a FIFO message group or deduplication id. The
// tenant is part of it because ids are unique per tenant only, and SQS
// deduplicates across the whole queue: two tenants' attempts of one id
// would otherwise lose the second letter without an error. SQS takes 1 to
// 128 printable ASCII characters other than space; other ids become a
// digest, which holds no '#' and so never equals a tenant#id.
func fifoID(use string, tenant, id string) string {
	s := tenant + "#" + id
	if len(s) <= 128 && strings.IndexFunc(s, func(r rune) bool { return r < 0x21 || r > 0x7e }) < 0 {
		return s
	}
	h := sha256.Sum256([]byte("recoup/letters/v1\x00" + use + "\x00" + tenant + "\x00" + id))
	return "sha256-" + hex.EncodeToString(h[:])
}

// md5Hex is MD5OfMessageBody as SQS computes it.
func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
