package drafting

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/recoup-dev/recoup/shared/compliance"
)

// Source says where a draft's text came from.
type Source string

// Sources.
const (
	SourceModel      Source = "model"       // the model's first draft passed
	SourceModelRetry Source = "model_retry" // the first failed; the retry, told why, passed
	SourceTemplate   Source = "template"    // both failed, or the model could not be reached
)

// Price is what a model charges, in millionths of a US dollar per 1,000
// tokens (Amazon Nova Micro: 35 in, 140 out). Integers, so the cost of a
// draft is exact.
type Price struct {
	InputMicroUSDPer1K  int64
	OutputMicroUSDPer1K int64
}

// CostNanoUSD is the exact cost of u in billionths of a dollar: tokens ×
// micro-dollars per 1,000 tokens is nano-dollars, with nothing to round.
func (p Price) CostNanoUSD(u Usage) int64 {
	return u.InputTokens*p.InputMicroUSDPer1K + u.OutputTokens*p.OutputMicroUSDPer1K
}

// Config tunes a Drafter.
type Config struct {
	Price       Price
	Timeout     time.Duration // per model call, SDK retries included; default 20s
	MaxTokens   int           // per reply; default 800
	Temperature float32       // used as given: 0 is a sensible choice for drafting
}

// Defaults for zero Config fields.
const (
	DefaultTimeout   = 20 * time.Second
	DefaultMaxTokens = 800
)

// Attempt records one model call.
type Attempt struct {
	Violations  []Violation // the guardrails the reply failed; none when it passed or never came
	Err         string      // the model error, "" when the model answered
	ErrCode     string      // the service's error code, when it gave one
	Transient   bool        // throttled, timed out or unavailable
	StopReason  StopReason
	Usage       Usage
	CostNanoUSD int64
	Duration    time.Duration // wall time of the call
}

// Draft is a message that passed the guardrails, with how it was made.
type Draft struct {
	Channel       compliance.Channel
	Subject       string // email and letters only
	Body          string
	Source        Source
	TemplateID    string // when Source is SourceTemplate
	Attempts      []Attempt
	Usage         Usage // all attempts
	CostNanoUSD   int64 // all attempts
	ModelID       string
	PromptVersion string
}

// LogValue describes the draft without its text or the violations'
// details, which may quote personal data.
func (d Draft) LogValue() slog.Value {
	var rules []string
	for _, a := range d.Attempts {
		for _, v := range a.Violations {
			rules = append(rules, string(v.Rule))
		}
		if a.ErrCode != "" {
			rules = append(rules, "error:"+a.ErrCode)
		}
	}
	return slog.GroupValue(
		slog.String("channel", string(d.Channel)),
		slog.String("source", string(d.Source)),
		slog.String("template", d.TemplateID),
		slog.Int("attempts", len(d.Attempts)),
		slog.Any("failed", rules),
		slog.Int64("input_tokens", d.Usage.InputTokens),
		slog.Int64("output_tokens", d.Usage.OutputTokens),
		slog.Int64("cost_nano_usd", d.CostNanoUSD),
		slog.String("model", d.ModelID),
		slog.String("prompt_version", d.PromptVersion),
	)
}

// LogValue keeps only the rule: the detail may quote the draft.
func (v Violation) LogValue() slog.Value { return slog.StringValue(string(v.Rule)) }

// Drafter writes drafts with a model and guardrails, falling back to
// templates. It is safe for concurrent use.
type Drafter struct {
	model Model
	cfg   Config
}

// NewDrafter returns a Drafter over m.
func NewDrafter(m Model, cfg Config) (*Drafter, error) {
	if m == nil {
		return nil, errors.New("drafting: nil model")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxTokens <= 0 {
		cfg.MaxTokens = DefaultMaxTokens
	}
	if cfg.Temperature < 0 || cfg.Temperature > 1 {
		return nil, fmt.Errorf("drafting: temperature %v outside [0, 1]", cfg.Temperature)
	}
	if cfg.Price.InputMicroUSDPer1K < 0 || cfg.Price.OutputMicroUSDPer1K < 0 {
		return nil, errors.New("drafting: negative price")
	}
	return &Drafter{model: m, cfg: cfg}, nil
}

// maxModelAttempts: the first draft and one retry told what failed. A third
// try rarely fixes what two did not, and the template is always there.
const maxModelAttempts = 2

// Draft writes a message for the facts. The result has always passed the
// guardrails: the model's draft, its one retry, or the template for the
// channel and dunning level. A model error (throttling, timeout, anything)
// ends the model's turn at once: the SDK has already retried with backoff,
// and a second call would only double the wait. Errors: ErrFacts for facts
// that cannot be drafted from, ErrNoSafeDraft when not even the template
// fits (an SMS budget too small for the required disclosures).
func (d *Drafter) Draft(ctx context.Context, f Facts) (Draft, error) {
	p, err := BuildPrompt(f, d.cfg.MaxTokens, d.cfg.Temperature)
	if err != nil {
		return Draft{}, err
	}
	out := Draft{Channel: f.Channel, PromptVersion: PromptVersion}
	for n := 1; n <= maxModelAttempts; n++ {
		reply, a := d.call(ctx, p)
		if reply.ModelID != "" {
			out.ModelID = reply.ModelID
		}
		var subject, body string
		if a.Err == "" {
			subject, body, a.Violations = vet(f, reply)
		}
		out.Attempts = append(out.Attempts, a)
		out.Usage = out.Usage.Add(a.Usage)
		out.CostNanoUSD += a.CostNanoUSD
		if a.Err != "" {
			break
		}
		if len(a.Violations) == 0 {
			out.Subject, out.Body, out.Source = subject, body, SourceModel
			if n > 1 {
				out.Source = SourceModelRetry
			}
			return out, nil
		}
		p = RetryPrompt(p, reply.Text, a.Violations)
	}
	subject, body, id, err := Template(f)
	if err != nil {
		return Draft{}, err
	}
	out.Subject, out.Body, out.Source, out.TemplateID = subject, body, SourceTemplate, id
	return out, nil
}

func (d *Drafter) call(ctx context.Context, p Prompt) (Reply, Attempt) {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	start := time.Now()
	reply, err := d.model.Converse(ctx, p)
	a := Attempt{Duration: time.Since(start)}
	if err != nil {
		a.Err = err.Error()
		a.Transient = errors.Is(err, ErrTransient) || errors.Is(err, context.DeadlineExceeded)
		var me *ModelError
		switch {
		case errors.As(err, &me):
			a.ErrCode = me.Code
		case errors.Is(err, context.DeadlineExceeded):
			a.ErrCode = "timeout"
		}
		return Reply{}, a
	}
	a.StopReason, a.Usage = reply.StopReason, reply.Usage
	a.CostNanoUSD = d.cfg.Price.CostNanoUSD(reply.Usage)
	return reply, a
}

// vet turns a reply into a subject and body and runs the guardrails.
func vet(f Facts, r Reply) (subject, body string, vs []Violation) {
	subject, body = splitReply(f.Channel, r.Text)
	if f.Channel == compliance.ChannelSMS {
		body = normalizeSMS(body)
	}
	if r.StopReason == StopMaxTokens {
		vs = append(vs, Violation{RuleTruncated, "the reply was cut off at the token limit"})
	}
	return subject, body, append(vs, CheckDraft(f, subject, body)...)
}

// Errors from AppendPaymentLink.
var (
	ErrLink        = errors.New("invalid payment link")
	ErrLinkChannel = errors.New("channel cannot carry a link")
)

// AppendPaymentLink adds the tenant's payment link to a checked draft: on
// its own line under an email or letter, after a space in an SMS, which must
// still fit its segment budget (Facts.LinkReserve is meant to make sure it
// does). Call scripts carry no links. The link must be an absolute https
// URL; the guardrails do not run again, since they forbid links by design.
func AppendPaymentLink(d Draft, f Facts, link string) (Draft, error) {
	u, err := url.Parse(link)
	if err != nil || u.Scheme != "https" || u.Host == "" || strings.ContainsAny(link, " \t\r\n") {
		return Draft{}, fmt.Errorf("%w: want an absolute https URL", ErrLink)
	}
	switch d.Channel {
	case compliance.ChannelSMS:
		body := d.Body + " " + link
		if s := MeasureSMS(body); s.Segments > f.maxSegments() {
			return Draft{}, fmt.Errorf("%w: the SMS with its link needs %d segments, more than %d", ErrNoSafeDraft, s.Segments, f.maxSegments())
		}
		d.Body = body
	case compliance.ChannelEmail, compliance.ChannelLetter:
		d.Body = d.Body + "\n\nPay online: " + link
	default:
		return Draft{}, fmt.Errorf("%w: %s", ErrLinkChannel, d.Channel)
	}
	return d, nil
}
