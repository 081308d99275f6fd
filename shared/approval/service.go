package approval

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/recoup-dev/recoup/shared/ledger"
)

// Store keeps approval requests (shared/store/dynamo.Approvals; an in-memory
// one in approvaltest). Every method is conditional on the stored state, so
// concurrent callers agree; errors a retry may cure wrap ErrTransient.
type Store interface {
	// Put stores a new pending request unless one with its id exists, and
	// returns the stored request and whether r was new.
	Put(ctx context.Context, r Request) (stored Request, created bool, err error)
	// Get returns one request, strongly consistent, or ErrNotFound.
	Get(ctx context.Context, tenant ledger.TenantID, id string) (Request, error)
	// Pending lists up to limit pending requests of the tenant, oldest first
	// (Request.Cursor order), after the cursor when one is given. The listing
	// may lag a decision by a moment: callers skip what is no longer pending.
	Pending(ctx context.Context, tenant ledger.TenantID, after string, limit int) ([]Request, error)
	// Decide records v on a pending request and gives the caller the lease
	// on delivering it; or, when the request is decided with the same
	// verdict (Verdict.Key), not resumed, and nobody's lease is current at
	// l.Now, gives the caller the lease and keeps the stored verdict. won
	// says whether the caller holds the lease; the request is returned
	// either way (as it now is, or as it was when the condition failed).
	// ErrNotFound when there is no such request.
	Decide(ctx context.Context, tenant ledger.TenantID, id string, v Verdict, l Lease) (r Request, won bool, err error)
	// Resumed records that the execution accepted the verdict: the request
	// ends decided and resumed (even if it had been marked expired
	// meanwhile: the execution's word wins), its lease and token dropped.
	Resumed(ctx context.Context, tenant ledger.TenantID, id string, at time.Time) error
	// Release drops the lease if owner still holds it, so the same verdict
	// can be delivered again at once. Losing the lease is not an error.
	Release(ctx context.Context, tenant ledger.TenantID, id, owner string) error
	// Expire marks an Expirable request expired, dropping its token, and
	// returns it as it now is; any other request is returned unchanged.
	// ErrNotFound when there is no such request.
	Expire(ctx context.Context, tenant ledger.TenantID, id string, at time.Time) (Request, error)
}

// Lease is one decider's claim on delivering a verdict, from Now until
// Until.
type Lease struct {
	Owner      string
	Now, Until time.Time
}

// Resumer resumes or fails a waiting execution (shared/approval/sfn over
// Step Functions). Both return an error wrapping ErrExpired when the task no
// longer waits and ErrTransient when a retry may succeed.
type Resumer interface {
	SendTaskSuccess(ctx context.Context, token string, output json.RawMessage) error
	SendTaskFailure(ctx context.Context, token, code, cause string) error
}

// DeliveryChecker is what a Resumer may also do: tell whether the
// execution took output from its waiting task. A SendTaskSuccess whose
// answer was lost may still have resumed it; a retry then finds the task
// gone, and without this check would mark expired a verdict the
// execution acted on.
type DeliveryChecker interface {
	Delivered(ctx context.Context, execution string, output json.RawMessage) (bool, error)
}

// Checker runs the drafting guardrails on an edited draft for the request
// it answers (whose decision holds the facts the text must agree with) and
// returns the violations, none when it may be sent. An error means the check
// could not run.
type Checker func(ctx context.Context, r Request, d Draft) ([]string, error)

// FailureInvalid is the error name an execution fails with when its
// approval payload is unusable.
const FailureInvalid = "Recoup.ApprovalInvalid"

// Defaults.
const (
	// DefaultTimeout matches the Approval state's TimeoutSeconds: after it
	// the execution has moved on.
	DefaultTimeout = 7 * 24 * time.Hour
	// DefaultLease bounds how long a decider may take to resume the
	// execution before another may try; SendTaskSuccess gets half of it.
	DefaultLease = time.Minute
	// DefaultPageSize and MaxPageSize bound a pending listing.
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// Service registers approval requests and applies collectors' verdicts.
// It is safe for concurrent use.
type Service struct {
	store   Store
	resumer Resumer
	check   Checker

	Now     func() time.Time
	Log     *slog.Logger
	Timeout time.Duration // DefaultTimeout
	Lease   time.Duration // DefaultLease
}

// NewService returns a service over its store and resumer. check vets edited
// drafts; with none, edited verdicts are refused (fail closed), which suits
// a function that only registers requests.
func NewService(store Store, resumer Resumer, check Checker) (*Service, error) {
	if store == nil {
		return nil, errors.New("approval: nil store")
	}
	if resumer == nil {
		return nil, errors.New("approval: nil resumer")
	}
	return &Service{store: store, resumer: resumer, check: check, Now: time.Now,
		Log: slog.New(slog.DiscardHandler), Timeout: DefaultTimeout, Lease: DefaultLease}, nil
}

func (s *Service) now() time.Time { return s.Now().UTC() }

// Register stores the request for one waiting task. Registering the same
// token again returns the request already stored, whatever its state. An
// unusable payload fails the task (FailureInvalid, cause naming the field)
// and returns the *FieldError.
func (s *Service) Register(ctx context.Context, p Payload) (Request, error) {
	r, err := NewRequest(p, s.now())
	if err != nil {
		if p.Token != "" && len(p.Token) <= MaxTokenBytes {
			if ferr := s.resumer.SendTaskFailure(ctx, p.Token, FailureInvalid, err.Error()); ferr != nil && !errors.Is(ferr, ErrExpired) {
				return Request{}, fmt.Errorf("%w (failing the task too: %w)", err, ferr)
			}
		}
		s.Log.Warn("approval payload refused", "payload", p, "err", err)
		return Request{}, err
	}
	stored, created, err := s.store.Put(ctx, r)
	if err != nil {
		return Request{}, fmt.Errorf("register approval %s: %w", r.ID, err)
	}
	if !created && (stored.Tenant != r.Tenant || stored.Customer != r.Customer || stored.Execution != r.Execution) {
		return Request{}, fmt.Errorf("register approval %s: the stored request belongs to another task", r.ID)
	}
	if created {
		s.Log.Info("approval registered", "request", stored)
	} else {
		s.Log.Info("approval already registered", "request", stored)
	}
	return stored, nil
}

// Page is one listing of pending requests; Next, when not empty, is the
// cursor of the following page.
type Page struct {
	Requests []Request `json:"approvals"`
	Next     string    `json:"next,omitempty"`
}

// Pending lists the tenant's pending requests, oldest first, limit per page
// (0: DefaultPageSize), after a cursor from an earlier page. Requests older
// than Timeout are no longer awaited by their execution: they are marked
// expired and left out.
func (s *Service) Pending(ctx context.Context, tenant ledger.TenantID, after string, limit int) (Page, error) {
	if err := tenant.Validate(); err != nil {
		return Page{}, invalid("tenant", "must be a tenant id: 1 to 128 bytes without '#' or control characters")
	}
	if after != "" && !ValidCursor(after) {
		return Page{}, invalid("after", "is not a cursor from an earlier page")
	}
	switch {
	case limit == 0:
		limit = DefaultPageSize
	case limit < 0 || limit > MaxPageSize:
		return Page{}, invalid("limit", "must be between 1 and %d", MaxPageSize)
	}
	list, err := s.store.Pending(ctx, tenant, after, limit)
	if err != nil {
		return Page{}, fmt.Errorf("list approvals of %s: %w", tenant, err)
	}
	now := s.now()
	page := Page{Requests: []Request{}}
	for _, r := range list {
		switch {
		case r.Status != StatusPending:
		case s.stale(r, now):
			if _, err := s.store.Expire(ctx, tenant, r.ID, now); err != nil {
				s.Log.Warn("expire stale approval", "request", r, "err", err)
			}
		default:
			page.Requests = append(page.Requests, r)
		}
	}
	if len(list) == limit {
		page.Next = list[len(list)-1].Cursor()
	}
	return page, nil
}

// Get returns one request.
func (s *Service) Get(ctx context.Context, tenant ledger.TenantID, id string) (Request, error) {
	if err := checkKey(tenant, id); err != nil {
		return Request{}, err
	}
	r, err := s.store.Get(ctx, tenant, id)
	if err != nil {
		return Request{}, fmt.Errorf("read approval %s: %w", id, err)
	}
	return r, nil
}

func checkKey(tenant ledger.TenantID, id string) error {
	if err := tenant.Validate(); err != nil {
		return invalid("tenant", "must be a tenant id: 1 to 128 bytes without '#' or control characters")
	}
	if !ValidID(id) {
		return invalid("id", "must be %d lowercase hex digits", IDLength)
	}
	return nil
}

// stale reports whether the execution has stopped waiting for r.
func (s *Service) stale(r Request, now time.Time) bool {
	return s.Timeout > 0 && now.After(r.CreatedAt.Add(s.Timeout))
}

// Decide applies a collector's verdict (its At is set here) and resumes the
// execution with it. It returns the request as decided, or:
//   - a *FieldError (ErrInvalid) for a malformed verdict;
//   - ErrNotFound;
//   - a *GuardrailError (ErrGuardrails) when an edited draft fails the
//     checker; nothing is recorded;
//   - a *DecidedError (ErrAlreadyDecided) when another verdict was given;
//     the same verdict again returns the first result, or resumes the
//     execution if that had not happened yet;
//   - ErrExpired when the execution no longer waits; the request is marked
//     expired;
//   - ErrTransient (ErrInProgress among them) when a retry may succeed.
func (s *Service) Decide(ctx context.Context, tenant ledger.TenantID, id string, v Verdict) (Request, error) {
	if err := checkKey(tenant, id); err != nil {
		return Request{}, err
	}
	if err := v.Validate(); err != nil {
		return Request{}, err
	}
	now := s.now()
	v.At = now
	req, err := s.store.Get(ctx, tenant, id)
	if err != nil {
		return Request{}, fmt.Errorf("read approval %s: %w", id, err)
	}
	if v.Draft != nil {
		ch := req.MessageChannel()
		if ch == "" {
			return Request{}, invalid("draft", "this approval has no message channel to edit a draft for")
		}
		d := *v.Draft
		d.Channel = ch
		v.Draft = &d
	}
	if r, done, err := settled(req, v, now); done {
		return r, err
	}
	if req.Status == StatusPending {
		if s.stale(req, now) {
			return s.expire(ctx, req, now)
		}
		if err := s.vet(ctx, req, v); err != nil {
			return Request{}, err
		}
	}
	lease := Lease{Owner: newOwner(), Now: now, Until: now.Add(s.Lease)}
	cur, won, err := s.store.Decide(ctx, tenant, id, v, lease)
	if err != nil {
		return Request{}, fmt.Errorf("record verdict on approval %s: %w", id, err)
	}
	if !won {
		if r, done, err := settled(cur, v, now); done {
			return r, err
		}
		return Request{}, fmt.Errorf("approval %s: %w", id, ErrInProgress)
	}
	if cur.Verdict == nil {
		return Request{}, fmt.Errorf("approval %s: the store returned a decided request without its verdict", id)
	}
	if cur.Verdict.At.Equal(v.At) {
		s.Log.Info("approval decided", "request", cur, "verdict", string(cur.Verdict.Kind))
	}
	return s.resume(ctx, cur, lease)
}

// settled says whether req already answers a submission of v: done with the
// result or error, or not done when v should be recorded (pending) or
// delivered again (decided with v, never resumed, nobody's lease current).
func settled(req Request, v Verdict, now time.Time) (Request, bool, error) {
	switch {
	case req.Status == StatusExpired:
		return req, true, fmt.Errorf("approval %s: %w", req.ID, ErrExpired)
	case req.Status == StatusPending:
		return Request{}, false, nil
	case req.Verdict == nil:
		return Request{}, true, fmt.Errorf("approval %s: decided without a verdict", req.ID)
	case !req.Verdict.Same(v):
		return req, true, &DecidedError{Verdict: *req.Verdict}
	case req.Resumed:
		return req, true, nil
	case req.LeaseUntil.After(now):
		return Request{}, true, fmt.Errorf("approval %s: %w", req.ID, ErrInProgress)
	}
	return Request{}, false, nil
}

// vet runs the guardrails on an edited draft.
func (s *Service) vet(ctx context.Context, req Request, v Verdict) error {
	if v.Kind != Edited {
		return nil
	}
	if s.check == nil {
		return &GuardrailError{Violations: []string{"edited drafts cannot be checked here"}}
	}
	violations, err := s.check(ctx, req, *v.Draft)
	if err != nil {
		return fmt.Errorf("check the edited draft of approval %s: %w", req.ID, err)
	}
	if len(violations) > 0 {
		return &GuardrailError{Violations: violations}
	}
	return nil
}

// resume delivers the recorded verdict under the caller's lease.
func (s *Service) resume(ctx context.Context, cur Request, lease Lease) (Request, error) {
	if cur.Token == "" {
		return Request{}, fmt.Errorf("approval %s: decided, not resumed, and its token is gone", cur.ID)
	}
	out, err := cur.Verdict.Output()
	if err != nil {
		return Request{}, err
	}
	rctx, cancel := context.WithTimeout(ctx, s.Lease/2)
	err = s.resumer.SendTaskSuccess(rctx, cur.Token, out)
	cancel()
	switch {
	case err == nil:
		return s.resumed(ctx, cur, "execution resumed"), nil
	case errors.Is(err, ErrExpired):
		took, derr := s.delivered(ctx, cur, out)
		if derr != nil {
			// Expiring now could deny a verdict the execution acted on.
			if rerr := s.store.Release(ctx, cur.Tenant, cur.ID, lease.Owner); rerr != nil {
				s.Log.Warn("release approval lease", "request", cur, "err", rerr)
			}
			return Request{}, fmt.Errorf("approval %s: the task no longer waits, and whether it took the verdict could not be read: %w: %w", cur.ID, ErrTransient, derr)
		}
		if took {
			return s.resumed(ctx, cur, "execution had taken the verdict"), nil
		}
		return s.expire(ctx, cur, s.now())
	default:
		if rerr := s.store.Release(ctx, cur.Tenant, cur.ID, lease.Owner); rerr != nil {
			s.Log.Warn("release approval lease", "request", cur, "err", rerr)
		}
		s.Log.Warn("resume execution", "request", cur, "err", err)
		return Request{}, fmt.Errorf("resume the execution of approval %s: %w", cur.ID, err)
	}
}

// resumed records that the execution took cur's verdict and returns cur
// as it now is.
func (s *Service) resumed(ctx context.Context, cur Request, msg string) Request {
	if err := s.store.Resumed(ctx, cur.Tenant, cur.ID, s.now()); err != nil {
		// The execution has the verdict; only our note of it is missing.
		// A retry of the same verdict finds it in the execution's history
		// (when the resumer can read it), but say so loudly.
		s.Log.Error("execution resumed, not recorded", "request", cur, "err", err)
	}
	cur.Resumed, cur.LeaseUntil, cur.Token = true, time.Time{}, ""
	s.Log.Info(msg, "request", cur, "verdict", string(cur.Verdict.Kind))
	return cur
}

// delivered reports whether the execution's history shows it took out,
// when the resumer can read it.
func (s *Service) delivered(ctx context.Context, cur Request, out json.RawMessage) (bool, error) {
	dc, ok := s.resumer.(DeliveryChecker)
	if !ok || cur.Execution == "" {
		return false, nil
	}
	return dc.Delivered(ctx, cur.Execution, out)
}

// expire marks req expired and returns ErrExpired, unless the execution
// took a verdict meanwhile (another decider's resume landed first).
func (s *Service) expire(ctx context.Context, req Request, now time.Time) (Request, error) {
	cur, err := s.store.Expire(ctx, req.Tenant, req.ID, now)
	if err != nil {
		return Request{}, fmt.Errorf("approval %s: the execution no longer waits, and marking it expired failed: %w", req.ID, err)
	}
	if cur.Status == StatusDecided && cur.Resumed {
		return cur, nil
	}
	s.Log.Info("approval expired", "request", cur)
	return cur, fmt.Errorf("approval %s: %w", req.ID, ErrExpired)
}

func newOwner() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}
