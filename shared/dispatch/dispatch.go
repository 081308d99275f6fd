// Package dispatch is the gate every sender goes through: at send time it
// re-reads the person's contact history and consent, asks the compliance
// engine, and records the attempt with its decision in one atomic step that
// fails if either changed since it was read. Two dispatchers racing on one
// person therefore decide one after the other, and a cap can never be
// exceeded whatever the concurrency. Nothing reaches a customer any other way.
package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/recoup-dev/recoup/shared/audit"
	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/ledger"
)

// Errors a History reports from Commit.
var (
	// ErrConflict: the history or a consent state changed after it was
	// read; the gate reads again and decides again.
	ErrConflict = errors.New("dispatch: contact history or consent changed since read")
	// ErrDuplicate: an attempt with this id is already recorded.
	ErrDuplicate = errors.New("dispatch: attempt already recorded")
)

// Attempt is one recorded attempt: allowed (and so sent) or not.
type Attempt struct {
	ID            string
	At            time.Time
	Channel       compliance.Channel
	Debt          string
	To            string
	Step          string             // the strategy step it carried out, if a plan made it
	Outcome       compliance.Outcome // "" until the channel reports how it ended
	WithConsent   bool
	Decision      compliance.Decision
	Rules         []string
	Reason        string
	PolicyVersion string
	// AuditSeq is the audit entry of the decision; 0 until it is appended.
	AuditSeq uint64
}

// Snapshot is a person's contact history as read, with the version a commit
// must still find.
type Snapshot struct {
	Version  int64
	Attempts []Attempt
	// Standing is what engagement events recorded about the person; it is
	// read with the attempts, and every change to it bumps Version, so a
	// hardship statement or dispute committed while a dispatch is deciding
	// makes that dispatch re-decide.
	Standing Standing
}

// Standing is what the person told us through engagement events that the
// gate must see the moment it is recorded: flags such as hardship, and
// disputes of debts. (Consent restrictions live in the consent ledger.)
type Standing struct {
	Flags    []compliance.Flag
	Disputes []Dispute
}

// Dispute is a dispute the person raised about one debt ("" for every debt).
type Dispute struct {
	Debt    string
	At      time.Time
	Written bool
	EventID string
}

// Empty reports whether nothing is recorded.
func (s Standing) Empty() bool { return len(s.Flags) == 0 && len(s.Disputes) == 0 }

// History is the contact-history store. Commit records rec only if the
// person's history is still at base.Version and each consent state in
// checks is unchanged, all in one atomic write; otherwise it returns
// ErrConflict (or ErrDuplicate when rec.ID is already recorded).
type History interface {
	Load(ctx context.Context, tenant ledger.TenantID, customer string, since time.Time) (Snapshot, error)
	Commit(ctx context.Context, tenant ledger.TenantID, customer string, base Snapshot, rec Attempt, checks []consent.Status) error
	// MarkAudited notes on a recorded attempt the audit entry of its decision.
	MarkAudited(ctx context.Context, tenant ledger.TenantID, customer string, rec Attempt, seq uint64) error
}

// ConsentReader reads the consent ledger's current state, strongly
// consistent.
type ConsentReader interface {
	Current(ctx context.Context, tenant ledger.TenantID, address consent.Address, channel consent.Channel) (consent.Status, error)
}

// Policies gives the engine that decides for a tenant: the default policy,
// or the tenant's override of it (compliance.Engines).
type Policies interface {
	For(tenant ledger.TenantID) (*compliance.Engine, error)
}

// AuditLog appends to the tenant's hash-chained audit log.
type AuditLog interface {
	Append(ctx context.Context, tenant ledger.TenantID, r audit.Record) (audit.Record, error)
}

// Request is one proposed contact, as a sender asks for it.
type Request struct {
	Tenant    ledger.TenantID      `json:"tenant"`
	AttemptID string               `json:"attempt_id"` // idempotency key: one decision per id
	Collector ledger.CollectorType `json:"collector"`
	Customer  string               `json:"customer"`
	// Consumer, Debts and Events are what the ledger knows: contact points,
	// flags, disputes, letters, notices. The gate adds the contact history
	// and consent it re-reads itself.
	Consumer compliance.Consumer `json:"consumer"`
	Debts    []compliance.Debt   `json:"debts"`
	Events   []compliance.Event  `json:"events,omitempty"`
	Attempt  compliance.Attempt  `json:"attempt"`
	// Step is the strategy step the attempt carries out (a plan's step id,
	// empty for a contact made outside a plan). It is kept with the attempt
	// so the next plan knows where the customer's sequence stands.
	Step string `json:"step,omitempty"`
	// Content is a copy of what would be sent, kept in the audit log.
	Content json.RawMessage `json:"content,omitempty"`
}

// Outcome is the gate's answer.
type Outcome struct {
	AttemptID string            `json:"attempt_id"`
	Result    compliance.Result `json:"result"`
	// Duplicate: the attempt id was decided before; Result is the recorded
	// decision (empty if it is older than the history window) and nothing
	// new was recorded.
	Duplicate bool `json:"duplicate,omitempty"`
	// Conflicts counts the times another dispatch committed first.
	Conflicts int    `json:"conflicts,omitempty"`
	AuditSeq  uint64 `json:"audit_seq,omitempty"`
}

// Allowed reports whether the sender may send: allowed now, not a repeat of
// an attempt already decided (and so possibly already sent).
func (o Outcome) Allowed() bool { return !o.Duplicate && o.Result.Decision == compliance.Allow }

// Gate decides and records attempts.
type Gate struct {
	engines Policies
	history History
	consent ConsentReader
	audit   AuditLog
	// auditMu queues this process's appends per tenant: they all extend one
	// chain per tenant, and racing for its head only adds retries (and can
	// starve a writer that keeps losing).
	auditMu sync.Map // ledger.TenantID -> *sync.Mutex
	// Now is the gate's clock; an attempt dated more than MaxSkew away from
	// it is refused, so a sender cannot backdate its way round a window.
	Now     func() time.Time
	MaxSkew time.Duration
	// MaxConflicts bounds how often one dispatch re-decides after losing a
	// race before giving up with an error (the sender retries later).
	MaxConflicts int
	// Window is how far back the history is read: the longest rule window
	// (30 days) plus margin for local days.
	Window time.Duration
}

// New builds a gate; every dependency is required.
func New(engines Policies, history History, consent ConsentReader, audit AuditLog) (*Gate, error) {
	if engines == nil || history == nil || consent == nil || audit == nil {
		return nil, errors.New("dispatch: New needs policies, a history, a consent reader and an audit log")
	}
	return &Gate{engines: engines, history: history, consent: consent, audit: audit,
		MaxConflicts: 500, Window: 35 * 24 * time.Hour, Now: time.Now, MaxSkew: 5 * time.Minute}, nil
}

// ErrInvalid marks requests the gate cannot judge at all.
var ErrInvalid = errors.New("dispatch: invalid request")

// Dispatch decides one attempt and records it. The returned Outcome says
// whether to send; an error means nothing was recorded (or, for the audit
// append, that the decision was recorded but its audit entry must be
// retried: dispatching the same attempt id again appends it).
func (g *Gate) Dispatch(ctx context.Context, req Request) (Outcome, error) {
	if err := g.validate(&req); err != nil {
		return Outcome{}, err
	}
	engine, err := g.engines.For(req.Tenant)
	if err != nil {
		return Outcome{}, fmt.Errorf("dispatch %s: policy of tenant %s: %w", req.AttemptID, req.Tenant, err)
	}
	out := Outcome{AttemptID: req.AttemptID}
	for {
		snap, err := g.history.Load(ctx, req.Tenant, req.Customer, req.Attempt.At.Add(-g.Window))
		if err != nil {
			return out, fmt.Errorf("dispatch %s: load contact history: %w", req.AttemptID, err)
		}
		states, err := g.readConsent(ctx, req)
		if err != nil {
			return out, fmt.Errorf("dispatch %s: %w", req.AttemptID, err)
		}
		c := g.caseFor(req, snap, states)
		res := engine.Decide(c)
		rec := Attempt{ID: req.AttemptID, At: req.Attempt.At, Channel: req.Attempt.Channel, Debt: req.Attempt.Debt,
			To: req.Attempt.To, Step: req.Step, Decision: res.Decision, Rules: res.Rules, Reason: res.Reason, PolicyVersion: res.PolicyVersion,
			WithConsent: withDirectConsent(states, req.Attempt)}
		err = g.history.Commit(ctx, req.Tenant, req.Customer, snap, rec, states)
		switch {
		case errors.Is(err, ErrConflict):
			out.Conflicts++
			if out.Conflicts > g.MaxConflicts {
				return out, fmt.Errorf("dispatch %s: gave up after %d conflicting dispatches for customer %s", req.AttemptID, out.Conflicts, req.Customer)
			}
			if err := pause(ctx, out.Conflicts); err != nil {
				return out, err
			}
			continue
		case errors.Is(err, ErrDuplicate):
			return g.repeat(ctx, req, c, out)
		case err != nil:
			return out, fmt.Errorf("dispatch %s: record attempt: %w", req.AttemptID, err)
		}
		out.Result = res
		seq, err := g.appendAudit(ctx, req, rec, c, snap, states)
		if err != nil {
			return out, err
		}
		out.AuditSeq = seq
		return out, nil
	}
}

// repeat answers an attempt id decided before with the recorded decision,
// so a retried send gets the same verdict and nothing is recorded twice;
// if that decision never reached the audit log (the append failed after
// the commit), it is appended now.
func (g *Gate) repeat(ctx context.Context, req Request, c compliance.Case, out Outcome) (Outcome, error) {
	out.Duplicate = true
	snap, err := g.history.Load(ctx, req.Tenant, req.Customer, req.Attempt.At.Add(-g.Window))
	if err != nil {
		return out, fmt.Errorf("dispatch %s: load the earlier decision: %w", req.AttemptID, err)
	}
	for _, a := range snap.Attempts {
		if a.ID != req.AttemptID {
			continue
		}
		out.Result = compliance.Result{Decision: a.Decision, Rules: a.Rules, Reason: a.Reason, PolicyVersion: a.PolicyVersion}
		out.AuditSeq = a.AuditSeq
		if a.AuditSeq == 0 {
			seq, err := g.appendAudit(ctx, req, a, c, snap, nil)
			if err != nil {
				return out, err
			}
			out.AuditSeq = seq
		}
	}
	return out, nil
}

// auditInputs is what an audit entry keeps to re-check a decision: the
// engine's whole input, and what the gate read to build it.
type auditInputs struct {
	AttemptID      string           `json:"attempt_id"`
	DecidedAt      time.Time        `json:"decided_at"` // the gate's clock
	HistoryVersion int64            `json:"history_version"`
	Consent        []consent.Status `json:"consent,omitempty"`
	Case           compliance.Case  `json:"case"`
}

func (g *Gate) appendAudit(ctx context.Context, req Request, rec Attempt, c compliance.Case, snap Snapshot, states []consent.Status) (uint64, error) {
	inputs, err := json.Marshal(auditInputs{AttemptID: req.AttemptID, DecidedAt: g.Now().UTC(), HistoryVersion: snap.Version,
		Consent: states, Case: c})
	if err != nil {
		return 0, fmt.Errorf("dispatch %s: encode decision inputs: %w", req.AttemptID, err)
	}
	mu, _ := g.auditMu.LoadOrStore(req.Tenant, new(sync.Mutex))
	mu.(*sync.Mutex).Lock()
	entry, err := g.audit.Append(ctx, req.Tenant, audit.Record{
		At: rec.At, Kind: audit.KindDecision, Account: req.Customer, Debt: rec.Debt,
		Decision: string(rec.Decision), Rules: rec.Rules, PolicyVersion: rec.PolicyVersion, Reason: rec.Reason,
		Inputs: inputs, Content: req.Content,
	})
	mu.(*sync.Mutex).Unlock()
	if err != nil {
		return 0, fmt.Errorf("dispatch %s: decision recorded, audit entry not (dispatch it again to append it): %w", req.AttemptID, err)
	}
	if err := g.history.MarkAudited(ctx, req.Tenant, req.Customer, rec, entry.Seq); err != nil {
		return entry.Seq, fmt.Errorf("dispatch %s: audit entry %d appended, not noted on the attempt: %w", req.AttemptID, entry.Seq, err)
	}
	return entry.Seq, nil
}

// pause backs off with jitter so racing dispatchers spread out.
func pause(ctx context.Context, n int) error {
	d := time.Duration(1+rand.IntN(min(n, 20)*2)) * time.Millisecond
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// historyKinds are the events the gate reads itself; a sender passing them
// in Events could otherwise vouch for consent or hide attempts.
var historyKinds = map[compliance.EventKind]bool{
	compliance.EventAttempt: true, compliance.EventConsentGiven: true, compliance.EventConsentRevoked: true,
	compliance.EventMediumRefused: true, compliance.EventCeaseRequest: true,
}

// validate refuses requests the gate cannot judge and puts phone numbers in
// E.164, since the engine compares numbers as strings.
func (g *Gate) validate(req *Request) error {
	switch {
	case req.Tenant.Validate() != nil:
		return fmt.Errorf("%w: tenant: %v", ErrInvalid, req.Tenant.Validate())
	case ledger.ValidateID("attempt id", req.AttemptID) != nil:
		return fmt.Errorf("%w: %v", ErrInvalid, ledger.ValidateID("attempt id", req.AttemptID))
	case ledger.ValidateID("customer id", req.Customer) != nil:
		return fmt.Errorf("%w: %v", ErrInvalid, ledger.ValidateID("customer id", req.Customer))
	case req.Attempt.At.IsZero():
		return fmt.Errorf("%w: attempt %s has no time", ErrInvalid, req.AttemptID)
	case ConsentChannel(req.Attempt.Channel) == "" && req.Attempt.Channel != compliance.ChannelCreditReport:
		return fmt.Errorf("%w: attempt %s: unknown channel %q", ErrInvalid, req.AttemptID, req.Attempt.Channel)
	}
	if now := g.Now(); req.Attempt.At.Sub(now) > g.MaxSkew || now.Sub(req.Attempt.At) > g.MaxSkew {
		return fmt.Errorf("%w: attempt %s is dated %s, more than %s from the gate's clock (%s)", ErrInvalid, req.AttemptID,
			req.Attempt.At.UTC().Format(time.RFC3339), g.MaxSkew, now.UTC().Format(time.RFC3339))
	}
	if req.Attempt.Debt != "" && !slices.ContainsFunc(req.Debts, func(d compliance.Debt) bool { return d.ID == req.Attempt.Debt }) {
		return fmt.Errorf("%w: attempt %s is about debt %s, which is not among the request's debts", ErrInvalid, req.AttemptID, req.Attempt.Debt)
	}
	for i, ev := range req.Events {
		if historyKinds[ev.Kind] {
			return fmt.Errorf("%w: attempt %s: events[%d] is a %s, which the gate reads from its own records", ErrInvalid, req.AttemptID, i, ev.Kind)
		}
	}
	if to := req.Attempt.To; to != "" && !strings.Contains(to, "@") {
		a, err := consent.NormalisePhone(to)
		if err != nil {
			return fmt.Errorf("%w: attempt %s: the destination is not a valid phone number", ErrInvalid, req.AttemptID)
		}
		req.Attempt.To = strings.TrimPrefix(string(a), "tel:")
	}
	phones := slices.Clone(req.Consumer.Phones)
	for i, p := range phones {
		a, err := consent.NormalisePhone(p.Number)
		if err != nil {
			return fmt.Errorf("%w: attempt %s: consumer phone %d is not a valid number", ErrInvalid, req.AttemptID, i+1)
		}
		phones[i].Number = strings.TrimPrefix(string(a), "tel:")
	}
	req.Consumer.Phones = phones
	return nil
}
