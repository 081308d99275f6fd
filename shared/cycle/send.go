package cycle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/dispatch"
	"github.com/recoup-dev/recoup/shared/erp"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/sender"
)

// Message is the Draft step's result ($.draft): the words that passed the
// guardrails and how they were made.
type Message struct {
	Channel    consent.Channel `json:"channel"`
	Subject    string          `json:"subject,omitempty"`
	Body       string          `json:"body"`
	Source     string          `json:"source"` // model, model_retry, template
	TemplateID string          `json:"template_id,omitempty"`
	Model      string          `json:"model,omitempty"`
	// Rejected names the guardrail failures of the drafts replaced.
	Rejected     []string `json:"rejected,omitempty"`
	InputTokens  int64    `json:"input_tokens,omitempty"`
	OutputTokens int64    `json:"output_tokens,omitempty"`
	CostNanoUSD  int64    `json:"cost_nano_usd,omitempty"`
}

// Approval is what a collector decided ($.approval), as the approve API
// resumes the execution with it.
type Approval struct {
	Verdict string    `json:"verdict"` // approved, edited, rejected, handed_off
	By      string    `json:"by"`
	At      time.Time `json:"at"`
	Note    string    `json:"note,omitempty"`
	// Draft is the collector's text when edited; the API has checked it
	// against the guardrails.
	Draft *struct {
		Subject string `json:"subject,omitempty"`
		Body    string `json:"body"`
	} `json:"draft,omitempty"`
}

// SendInput is the Send step's input.
type SendInput struct {
	Ref
	// Entered is when the execution entered the Send state
	// ($$.State.EnteredTime): the same across the state's retries, new on
	// the next pass round the loop, so it makes the attempt id.
	Entered  time.Time `json:"entered"`
	Decision Plan      `json:"decision"`
	Draft    Message   `json:"draft"`
	Approval *Approval `json:"approval,omitempty"`
}

// Sent is the Send step's result ($.dispatch).
type Sent struct {
	AttemptID string `json:"attempt_id"`
	// Entered is the Send state's entry time the attempt id was made
	// from: which pass round the loop sent, and what a redelivery of
	// this task carries.
	Entered   time.Time           `json:"entered"`
	Status    sender.Status       `json:"status"`
	Decision  compliance.Decision `json:"decision"`
	Rules     []string            `json:"rules,omitempty"`
	Reason    string              `json:"reason,omitempty"`
	Provider  string              `json:"provider,omitempty"`
	MessageID string              `json:"message_id,omitempty"`
	// Repeat: an earlier try of this attempt had already answered.
	Repeat bool `json:"repeat,omitempty"`
	// ERP lists the actions queued for the tenant's ERP: the decision's
	// hold or hand-off task, and the note of a message sent.
	ERP []ERPRef `json:"erp,omitempty"`
	// ERPSkipped says why the note of a message sent was not queued.
	ERPSkipped string `json:"erp_skipped,omitempty"`
}

// Deliverer is the gate-then-send path (sender.Deliverer).
type Deliverer interface {
	Deliver(ctx context.Context, req dispatch.Request, content sender.Content) (sender.Result, error)
}

// Sender is the Send step: the dispatch gate decides, then the channel's
// sender sends, once per attempt id.
type Sender struct {
	Accounts  AccountReader
	Deliverer Deliverer
	// Collector is whom the tenant's rules bind (first-party creditor or
	// third-party collector).
	Collector func(tenant ledger.TenantID) ledger.CollectorType
	// ERP queues the decision's ERP changes and the notes of messages
	// sent. Without it notes are not written, and a hold or hand-off is
	// refused rather than approved into nowhere.
	ERP ERPWriter
	Now func() time.Time
}

// AttemptID is the idempotency key of one pass through the Send state.
func AttemptID(execution string, entered time.Time) string {
	h := sha256.Sum256([]byte(execution + "\x00" + entered.UTC().Format(time.RFC3339Nano)))
	return "cyc-" + hex.EncodeToString(h[:16])
}

// Send sends the approved draft of an action the plan decided, through
// the gate.
func (s *Sender) Send(ctx context.Context, in SendInput) (Sent, error) {
	if err := in.Ref.Check(); err != nil {
		return Sent{}, err
	}
	switch {
	case in.Execution == "" || in.Entered.IsZero():
		return Sent{}, fmt.Errorf("%w: execution and entered time are needed for the attempt id", ErrInput)
	case in.Decision.Route != RouteAct && in.Decision.Route != RouteReview:
		return Sent{}, fmt.Errorf("%w: decision route %q is not an action", ErrInput, in.Decision.Route)
	case in.Decision.Channel == "" && !erpOnly(in.Decision.Action):
		return Sent{}, fmt.Errorf("%w: a %s needs a channel", ErrInput, in.Decision.Action)
	case in.Decision.Channel != "" && in.Draft.Body == "":
		return Sent{}, fmt.Errorf("%w: no draft to send", ErrInput)
	case in.Draft.Channel != in.Decision.Channel:
		return Sent{}, fmt.Errorf("%w: the draft is for %s, the decision for %s", ErrInput, in.Draft.Channel, in.Decision.Channel)
	}
	if in.Decision.RequiresApproval && (in.Approval == nil || (in.Approval.Verdict != "approved" && in.Approval.Verdict != "edited")) {
		return Sent{}, fmt.Errorf("%w: the decision requires approval and has none", ErrInput)
	}
	acct, found, err := s.Accounts.Account(ctx, in.Tenant, in.Customer)
	if err != nil {
		return Sent{}, Transient{fmt.Errorf("cycle: send %s: %w", in.Customer, err)}
	}
	if !found {
		return Sent{}, fmt.Errorf("%w: customer %s of tenant %s is not in the ledger", ErrInput, in.Customer, in.Tenant)
	}
	// Every check of the message comes before anything is queued for the
	// ERP: a step that fails as invalid must have changed nothing.
	var to string
	if in.Decision.Channel != "" {
		var ok bool
		if to, ok = address(acct.Contacts, in.Decision.Channel); !ok {
			return Sent{}, fmt.Errorf("%w: customer %s has no contact point for %s", ErrInput, in.Customer, in.Decision.Channel)
		}
		if len(in.Decision.Invoices) == 0 {
			return Sent{}, fmt.Errorf("%w: the decision covers no invoice", ErrInput)
		}
	}
	ch := dispatch.AttemptChannel(in.Decision.Channel)
	attempt := AttemptID(in.Execution, in.Entered)
	now := s.Now().UTC()
	// The decision's own ERP change is queued first and whatever becomes
	// of its notice: a hold a person approved stands even when the gate
	// stops the message about it.
	var queued []ERPRef
	if acts := erpDecision(in.Tenant, in.Customer, attempt, in.Decision, now); len(acts) > 0 {
		if s.ERP == nil {
			return Sent{}, fmt.Errorf("%w: the decision is a %s and no ERP write-back is configured", ErrInput, in.Decision.Action)
		}
		if queued, err = s.submit(ctx, acts); err != nil {
			return Sent{}, err
		}
	}
	if in.Decision.Channel == "" {
		return Sent{AttemptID: attempt, Entered: in.Entered.UTC(), ERP: queued}, nil
	}
	subject, body := in.Draft.Subject, in.Draft.Body
	if in.Approval != nil && in.Approval.Verdict == "edited" && in.Approval.Draft != nil {
		subject, body = in.Approval.Draft.Subject, in.Approval.Draft.Body
	}
	content := sender.Content{Subject: subject, Text: body}
	if ch == compliance.ChannelCall || ch == compliance.ChannelAIVoice {
		content = sender.Content{Script: body}
	}
	kept, _ := json.Marshal(struct {
		Step    string `json:"step"`
		Subject string `json:"subject,omitempty"`
		Body    string `json:"body"`
		Source  string `json:"source"`
	}{in.Decision.Step, subject, body, in.Draft.Source})
	consumer, debts, events := dispatch.LedgerFacts(acct)
	req := dispatch.Request{
		Tenant: in.Tenant, AttemptID: attempt, Collector: s.Collector(in.Tenant),
		Customer: in.Customer, Consumer: consumer, Debts: debts, Events: events, Step: in.Decision.Step,
		// One message covers every overdue invoice; the gate counts it
		// against the oldest, the one the sequence is timed by.
		Attempt: compliance.Attempt{At: now, Channel: ch, Debt: in.Decision.Invoices[0], To: to,
			Purpose: compliance.PurposeCollection, Disclosures: dispatch.Disclosures(ch)},
		Content: kept,
	}
	res, err := s.Deliverer.Deliver(ctx, req, content)
	if err != nil {
		if errors.Is(err, sender.ErrNoSender) || errors.Is(err, sender.ErrInvalid) {
			return Sent{}, fmt.Errorf("%w: %w", ErrInput, err)
		}
		return Sent{}, Transient{fmt.Errorf("cycle: send %s: %w", in.Customer, err)}
	}
	out := Sent{AttemptID: req.AttemptID, Entered: in.Entered.UTC(), Status: res.Status, Decision: res.Outcome.Result.Decision, Rules: res.Outcome.Result.Rules,
		Reason: res.Reason, Provider: res.Receipt.Provider, MessageID: res.Receipt.ProviderID, Repeat: res.Repeat, ERP: queued}
	if note, ok := erpNote(in.Tenant, in.Customer, out, in.Decision, now); ok && s.ERP != nil {
		refs, err := s.submit(ctx, []erp.Action{note})
		switch {
		case errors.Is(err, ErrInput):
			// The message went out; a note the ERP could not take must not
			// turn that into a failed step. The reason stays in the result.
			out.ERPSkipped = err.Error()
		case err != nil:
			// The retry delivers again as a repeat and submits the note.
			return Sent{}, err
		}
		out.ERP = append(out.ERP, refs...)
	}
	return out, nil
}

func (s *Sender) submit(ctx context.Context, acts []erp.Action) ([]ERPRef, error) {
	if _, err := s.ERP.Submit(ctx, acts); err != nil {
		if errors.Is(err, erp.ErrInvalid) {
			return nil, fmt.Errorf("%w: %w", ErrInput, err)
		}
		return nil, Transient{fmt.Errorf("cycle: queue for the ERP: %w", err)}
	}
	refs := make([]ERPRef, len(acts))
	for i, a := range acts {
		refs[i] = ERPRef{Kind: a.Kind, Key: a.Key}
	}
	return refs, nil
}

// address is the customer's contact point for a channel: its own email
// before a work one, a mobile for texts, a mobile before a landline for
// calls; "" for a letter (the postal address is the ledger's).
func address(cps []ledger.ContactPoint, ch consent.Channel) (string, bool) {
	var best string
	rank := 0
	for _, cp := range cps {
		if cp.Consent == ledger.ConsentRevoked {
			continue
		}
		r, to := 0, ""
		switch {
		case ch == consent.Email && cp.Email != nil && cp.Email.Address != "":
			r, to = 1, cp.Email.Address
			if !cp.Email.EmployerProvided {
				r = 2
			}
		case ch == consent.SMS && cp.Phone != nil && cp.Phone.Line == ledger.LineMobile:
			r, to = 2, cp.Phone.E164
		case (ch == consent.Voice || ch == consent.VoiceAI) && cp.Phone != nil && cp.Phone.E164 != "":
			r, to = 1, cp.Phone.E164
			if cp.Phone.Line == ledger.LineMobile {
				r = 2
			}
		case ch == consent.Letter && cp.Postal != nil:
			r, to = 2, ""
		}
		if r > rank {
			rank, best = r, to
		}
	}
	return best, rank > 0
}
