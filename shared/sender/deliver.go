package sender

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/dispatch"
)

// Gate is the dispatch gate as Deliver uses it (*dispatch.Gate).
type Gate interface {
	Dispatch(ctx context.Context, req dispatch.Request) (dispatch.Outcome, error)
}

// Status is the final answer of a delivery.
type Status string

// Statuses of a delivery.
const (
	// StatusSent: the provider accepted the message, now or on an earlier
	// delivery of the same attempt (Result.Repeat).
	StatusSent Status = "sent"
	// StatusBlocked: the gate did not allow the attempt (blocked, routed to
	// a person, or decided too long ago); nothing reached a sender.
	StatusBlocked Status = "blocked"
	// StatusFailed: the provider refused for good; it is never sent again.
	StatusFailed Status = "failed"
	// StatusInDoubt: an earlier delivery claimed the attempt and never
	// recorded the provider's answer, and the provider does not deduplicate:
	// unknown, needs reconciliation against the provider's events. It is not
	// sent again.
	StatusInDoubt Status = "in_doubt"
)

// Result is what Deliver did.
type Result struct {
	Status Status
	// Outcome is the gate's answer.
	Outcome dispatch.Outcome
	// Receipt is set when sent.
	Receipt Receipt
	// Reason says why when blocked, failed or in doubt; no personal data.
	Reason string
	// Repeat: answered from the send ledger; this call sent nothing.
	Repeat bool
}

// Errors of Deliver. An error means nothing final happened and the task may
// retry (except ErrNoSender and ErrInvalid, which fail the same way every
// time); every final answer is a Result with a nil error, with the one
// exception of ErrUnrecorded.
var (
	ErrNoSender = errors.New("sender: no sender for the channel")
	ErrInvalid  = errors.New("sender: invalid delivery")
	// ErrInProgress: another delivery of the attempt holds a fresh claim.
	ErrInProgress = errors.New("sender: another delivery of this attempt is in progress")
	// ErrTransient: the provider did not send (or, for a provider that
	// deduplicates, its answer was lost); a retry may send.
	ErrTransient = errors.New("sender: not sent this time")
	// ErrUnrecorded comes with a StatusSent result: the provider accepted
	// the message but the send ledger could not record it, so the claim
	// stays sending and a retry reports the attempt in doubt (or, for
	// Connect, gets the same contact back).
	ErrUnrecorded = errors.New("sender: sent, but not recorded in the send ledger")
)

// DefaultLease is how long a claim counts as a delivery in progress. A send
// is cut off at half of it, so a live delivery's claim is never taken for a
// dead one.
const DefaultLease = 5 * time.Minute

// Deliverer sends allowed attempts through their channel's sender.
type Deliverer struct {
	gate    Gate
	ledger  Ledger
	senders map[compliance.Channel]Sender
	// Now is the clock for claims and receipts.
	Now func() time.Time
	// Lease is DefaultLease unless changed; see there.
	Lease time.Duration
	// Log gets one record per delivery: ids, channel, masked address,
	// status, never content.
	Log *slog.Logger
}

// NewDeliverer returns a deliverer. senders maps each channel it serves
// (email, sms, call, ai_voice, prerecorded, voicemail) to its sender; an
// attempt on another channel is refused before the gate records it.
func NewDeliverer(gate Gate, ledger Ledger, senders map[compliance.Channel]Sender) (*Deliverer, error) {
	if gate == nil || ledger == nil || len(senders) == 0 {
		return nil, errors.New("sender: NewDeliverer needs a gate, a send ledger and at least one sender")
	}
	m := make(map[compliance.Channel]Sender, len(senders))
	for ch, s := range senders {
		if s == nil {
			return nil, fmt.Errorf("sender: nil sender for channel %s", ch)
		}
		m[ch] = s
	}
	return &Deliverer{gate: gate, ledger: ledger, senders: m, Now: time.Now, Lease: DefaultLease,
		Log: slog.New(slog.DiscardHandler)}, nil
}

// Deliver asks the gate about req and, when allowed, sends content to
// req.Attempt.To through the channel's sender, exactly once per attempt id
// however often it is called (see the package comment for the states).
func (d *Deliverer) Deliver(ctx context.Context, req dispatch.Request, content Content) (Result, error) {
	s, ok := d.senders[req.Attempt.Channel]
	if !ok {
		return Result{}, fmt.Errorf("%w %q (attempt %s)", ErrNoSender, req.Attempt.Channel, req.AttemptID)
	}
	msg, err := messageOf(req, content)
	if err != nil {
		return Result{}, err
	}
	out, err := d.gate.Dispatch(ctx, req)
	res := Result{Outcome: out}
	if err != nil {
		return res, fmt.Errorf("deliver %s: %w", req.AttemptID, err)
	}
	if out.Result.Decision != compliance.Allow {
		if out.Duplicate {
			// Decided before: if that decision is older than the gate's
			// history window (no decision returned) it may have been sent.
			rec, found, err := d.ledger.Get(ctx, msg.Tenant, msg.AttemptID)
			if err != nil {
				return res, fmt.Errorf("deliver %s: read send ledger: %w", msg.AttemptID, err)
			}
			switch {
			case found && rec.State == StateSending:
				res.Status, res.Repeat = StatusInDoubt, true
				res.Reason = fmt.Sprintf("attempt %s was claimed at %s and its send never recorded (needs reconciliation)",
					msg.AttemptID, rec.ClaimedAt.Format(time.RFC3339))
				return d.report(res, msg), nil
			case found:
				return d.report(fromRecord(res, rec), msg), nil
			}
		}
		res.Status = StatusBlocked
		res.Reason = blockedReason(out)
		return d.report(res, msg), nil
	}
	return d.claimAndSend(ctx, s, msg, res)
}

// claimAndSend claims the attempt in the send ledger and sends if the claim
// is won, or answers from the record another delivery left.
func (d *Deliverer) claimAndSend(ctx context.Context, s Sender, m Message, res Result) (Result, error) {
	now := d.Now().UTC()
	claim := Record{Tenant: m.Tenant, AttemptID: m.AttemptID, Customer: m.Customer, Channel: m.Channel,
		State: StateSending, Token: newToken(), ClaimedAt: now, FirstClaimedAt: now}
	takeOver := ""
	// Each pass either ends or follows a record someone else changed since
	// the last read; three passes only matter under heavy contention.
	for range 3 {
		rec, won, err := d.ledger.Claim(ctx, claim, takeOver)
		if err != nil {
			return res, fmt.Errorf("deliver %s: claim in send ledger: %w", m.AttemptID, err)
		}
		if won {
			return d.send(ctx, s, m, rec, res)
		}
		switch rec.State {
		case StateSent, StateFailed:
			return d.report(fromRecord(res, rec), m), nil
		case StateSending:
		default:
			return res, fmt.Errorf("deliver %s: send ledger holds unknown state %q", m.AttemptID, rec.State)
		}
		if now.Sub(rec.ClaimedAt) < d.Lease {
			return res, fmt.Errorf("%w: attempt %s claimed at %s", ErrInProgress, m.AttemptID, rec.ClaimedAt.Format(time.RFC3339))
		}
		// A delivery died between its claim and the provider's answer.
		if w := s.DedupWindow(); w > 0 && now.Sub(rec.FirstClaimedAt) < w-d.Lease {
			claim.FirstClaimedAt = rec.FirstClaimedAt
			takeOver = rec.Token
			continue
		}
		res.Status, res.Repeat = StatusInDoubt, true
		res.Reason = fmt.Sprintf("a delivery claimed attempt %s at %s and never recorded the provider's answer; "+
			"the provider does not deduplicate, so it is not sent again: reconcile with the provider's events (needs reconciliation)",
			m.AttemptID, rec.ClaimedAt.Format(time.RFC3339))
		return d.report(res, m), nil
	}
	return res, fmt.Errorf("%w: attempt %s: the send claim kept changing", ErrInProgress, m.AttemptID)
}

// send calls the provider under the claim rec and records its answer.
func (d *Deliverer) send(ctx context.Context, s Sender, m Message, rec Record, res Result) (Result, error) {
	// Cut the send off well inside the lease, so a live claim never looks
	// stale to another delivery.
	sctx, cancel := context.WithTimeout(ctx, d.Lease/2)
	rc, err := s.Send(sctx, m)
	cancel()
	if err == nil {
		if rc.At.IsZero() {
			rc.At = d.Now().UTC()
		}
		res.Status, res.Receipt = StatusSent, rc
		if err := d.complete(ctx, rec, rc); err != nil {
			d.Log.Error("sent but not recorded", "tenant", string(m.Tenant), "attempt", m.AttemptID,
				"provider", rc.Provider, "provider_id", rc.ProviderID, "err", err)
			return res, fmt.Errorf("deliver %s: %w (provider id %s): %w", m.AttemptID, ErrUnrecorded, rc.ProviderID, err)
		}
		return d.report(res, m), nil
	}
	// Reasons name the class and the provider's code only: provider
	// messages can quote the address.
	code := "unknown"
	var pe *ProviderError
	if errors.As(err, &pe) && pe.Code != "" {
		code = pe.Code
	}
	class := ClassOf(err)
	switch {
	case class == ClassPermanent:
		reason := "provider refused: " + code
		if ferr := d.ledger.Fail(ctx, m.Tenant, m.AttemptID, rec.Token, reason, d.Now().UTC()); ferr != nil {
			return res, fmt.Errorf("deliver %s: provider refused (%s), not recorded: %w", m.AttemptID, code, ferr)
		}
		res.Status, res.Reason = StatusFailed, reason
		return d.report(res, m), nil
	case class == ClassTransient:
		if rerr := d.ledger.Release(ctx, m.Tenant, m.AttemptID, rec.Token); rerr != nil {
			return res, fmt.Errorf("deliver %s: %w (%s); releasing the claim failed, a retry will find it in doubt: %w",
				m.AttemptID, ErrTransient, code, rerr)
		}
		return res, fmt.Errorf("deliver %s: %w: %w", m.AttemptID, ErrTransient, err)
	case s.DedupWindow() > 0:
		// The claim stays: a retry after the lease takes it over and
		// repeats the send, which the provider answers without sending.
		return res, fmt.Errorf("deliver %s: %w: the provider's answer was lost (%s); a retry after %s repeats it safely: %w",
			m.AttemptID, ErrTransient, code, d.Lease, err)
	default:
		res.Status = StatusInDoubt
		res.Reason = fmt.Sprintf("the provider's answer to attempt %s was lost (%s); it may have sent, so it is not sent again (needs reconciliation)",
			m.AttemptID, code)
		return d.report(res, m), nil
	}
}

// complete records the receipt, retrying briefly on its own context: the
// message is out, and an unrecorded send turns into an in-doubt one.
func (d *Deliverer) complete(ctx context.Context, rec Record, rc Receipt) error {
	ctx = context.WithoutCancel(ctx)
	var err error
	for i := range 3 {
		if i > 0 {
			time.Sleep(time.Duration(i) * 100 * time.Millisecond)
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = d.ledger.Complete(cctx, rec.Tenant, rec.AttemptID, rec.Token, rc)
		cancel()
		if errors.Is(err, ErrClaimLost) {
			// Only a provider that deduplicates has its claims taken over,
			// and then the taker got this same receipt.
			d.Log.Warn("send claim taken over before completion", "tenant", string(rec.Tenant), "attempt", rec.AttemptID)
			return nil
		}
		if err == nil {
			return nil
		}
	}
	return err
}

func (d *Deliverer) report(res Result, m Message) Result {
	attrs := []any{"tenant", string(m.Tenant), "customer", m.Customer, "attempt", m.AttemptID,
		"channel", string(m.Channel), "to", MaskAddress(m.To), "status", string(res.Status), "repeat", res.Repeat}
	switch res.Status {
	case StatusSent:
		d.Log.Info("delivery", append(attrs, "provider", res.Receipt.Provider, "provider_id", res.Receipt.ProviderID)...)
	case StatusInDoubt:
		d.Log.Warn("delivery", append(attrs, "reason", res.Reason)...)
	default:
		d.Log.Info("delivery", append(attrs, "reason", res.Reason)...)
	}
	return res
}

func fromRecord(res Result, rec Record) Result {
	res.Repeat = true
	switch rec.State {
	case StateSent:
		res.Status, res.Receipt = StatusSent, rec.Receipt
	case StateFailed:
		res.Status, res.Reason = StatusFailed, rec.Reason
	}
	return res
}

func blockedReason(out dispatch.Outcome) string {
	r := out.Result
	switch {
	case r.Decision == "":
		return "decided before, outside the gate's history window: not sent now"
	case r.Reason != "":
		return string(r.Decision) + ": " + r.Reason
	}
	return string(r.Decision)
}

// messageOf builds the message from the gate's request, normalising the
// destination as the gate does. Errors never quote the address.
func messageOf(req dispatch.Request, c Content) (Message, error) {
	m := Message{Tenant: req.Tenant, Customer: req.Customer, AttemptID: req.AttemptID, Debt: req.Attempt.Debt,
		Channel: req.Attempt.Channel, Content: c}
	if m.Channel == compliance.ChannelLetter {
		// The ERP prints from its own master data (see package letters):
		// a letter goes to the customer, not to an address of ours.
		return m, nil
	}
	to := strings.TrimSpace(req.Attempt.To)
	if to == "" {
		return m, fmt.Errorf("%w: attempt %s has no destination", ErrInvalid, req.AttemptID)
	}
	if m.Channel == compliance.ChannelEmail {
		a, err := consent.NormaliseEmail(to)
		if err != nil {
			return m, fmt.Errorf("%w: attempt %s: the destination is not a valid e-mail address", ErrInvalid, req.AttemptID)
		}
		m.To = strings.TrimPrefix(string(a), "mailto:")
		return m, nil
	}
	a, err := consent.NormalisePhone(to)
	if err != nil || strings.Contains(to, "@") {
		return m, fmt.Errorf("%w: attempt %s: the destination is not a valid phone number", ErrInvalid, req.AttemptID)
	}
	m.To = strings.TrimPrefix(string(a), "tel:")
	return m, nil
}

func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}
