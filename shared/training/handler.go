package training

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/recoup-dev/recoup/shared/ledger"
)

// Request is the train function's invocation payload, the input of the
// weekly schedule: {"tenants": ["acme", "demo"], "as_of": "2026-11-30"}.
type Request struct {
	Tenants []string `json:"tenants"`
	// AsOf is the date (YYYY-MM-DD, UTC) the ledger is read as of; default
	// today's UTC date at the invocation.
	AsOf string `json:"as_of,omitempty"`
}

// UnmarshalJSON refuses unknown fields: a schedule input with "tenant" or
// "asOf" would otherwise train nothing, or train on the wrong date, without
// a word.
func (r *Request) UnmarshalJSON(b []byte) error {
	type plain Request
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p plain
	if err := dec.Decode(&p); err != nil {
		return fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	*r = Request(p)
	return nil
}

// Response lists every tenant's outcome, in the order requested.
type Response struct {
	AsOf    string   `json:"as_of"`
	Results []Result `json:"results"`
}

// Result is one tenant's outcome: its report, or why it failed.
type Result struct {
	Tenant ledger.TenantID `json:"tenant"`
	Report *Report         `json:"report,omitempty"`
	Error  string          `json:"error,omitempty"`
}

// ErrBadRequest marks invocations the handler cannot run; nothing is
// trained.
var ErrBadRequest = errors.New("bad train request")

// ErrTenantsFailed is returned, after every tenant has run, when any of
// them failed, so the scheduler's retry and dead-letter queue see it.
var ErrTenantsFailed = errors.New("training failed")

// Handler serves the train function: one Job run per tenant.
type Handler struct {
	job Job
	log *slog.Logger
	// now is the clock that dates a request without as_of.
	now func() time.Time
}

// NewHandler refuses a job without a source or registry store so a
// miswired function fails at start, not at the first schedule.
func NewHandler(job Job, log *slog.Logger) (*Handler, error) {
	if job.Source == nil {
		return nil, errors.New("training: nil ledger source")
	}
	if job.Registry.Blobs == nil {
		return nil, errors.New("training: nil registry store")
	}
	if log == nil {
		return nil, errors.New("training: nil logger")
	}
	now := time.Now
	if job.Now != nil {
		now = job.Now
	}
	return &Handler{job: job, log: log, now: now}, nil
}

// Handle trains every requested tenant in turn. Tenants are independent:
// one failing does not stop the others, and the error, returned after all
// have run, names each tenant that failed.
func (h *Handler) Handle(ctx context.Context, req Request) (Response, error) {
	tenants, asOf, err := h.parse(req)
	if err != nil {
		return Response{}, err
	}
	resp := Response{AsOf: asOf.Format(time.DateOnly), Results: make([]Result, 0, len(tenants))}
	var failed []error
	for _, t := range tenants {
		res := Result{Tenant: t}
		rep, err := h.run(ctx, t, asOf)
		if err != nil {
			res.Error = err.Error()
			failed = append(failed, fmt.Errorf("%s: %w", t, err))
		} else {
			res.Report = &rep
		}
		resp.Results = append(resp.Results, res)
	}
	if len(failed) > 0 {
		return resp, fmt.Errorf("%w for %d of %d tenants: %w", ErrTenantsFailed, len(failed), len(tenants), errors.Join(failed...))
	}
	return resp, nil
}

func (h *Handler) parse(req Request) ([]ledger.TenantID, time.Time, error) {
	if len(req.Tenants) == 0 {
		return nil, time.Time{}, fmt.Errorf("%w: tenants: none given; want a list of tenant ids", ErrBadRequest)
	}
	tenants := make([]ledger.TenantID, len(req.Tenants))
	seen := make(map[ledger.TenantID]bool, len(req.Tenants))
	for i, s := range req.Tenants {
		t := ledger.TenantID(s)
		if err := t.Validate(); err != nil {
			return nil, time.Time{}, fmt.Errorf("%w: tenants[%d]: %v", ErrBadRequest, i, err)
		}
		if seen[t] {
			return nil, time.Time{}, fmt.Errorf("%w: tenants[%d]: %q is listed twice", ErrBadRequest, i, s)
		}
		seen[t] = true
		tenants[i] = t
	}
	now := h.now().UTC()
	today := ledger.Date(now.Year(), now.Month(), now.Day())
	if req.AsOf == "" {
		return tenants, today, nil
	}
	asOf, err := time.Parse(time.DateOnly, req.AsOf)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: as_of: %q is not a date (want YYYY-MM-DD)", ErrBadRequest, req.AsOf)
	}
	// Outcomes after today are unknown, and training would read every open
	// invoice as unpaid on a date that has not come.
	if asOf.After(today) {
		return nil, time.Time{}, fmt.Errorf("%w: as_of: %s is after today (%s, UTC)", ErrBadRequest, req.AsOf, today.Format(time.DateOnly))
	}
	return tenants, asOf, nil
}

// run trains one tenant. A panic becomes that tenant's error: the other
// tenants' models are worth training even when one ledger trips a bug.
func (h *Handler) run(ctx context.Context, t ledger.TenantID, asOf time.Time) (rep Report, err error) {
	day := asOf.Format(time.DateOnly)
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
			h.log.Error("training panicked", "tenant", t, "as_of", day, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
	}()
	// A run started past the deadline would only be cut off half way.
	if err := ctx.Err(); err != nil {
		h.log.Error("training not run", "tenant", t, "as_of", day, "err", err)
		return Report{}, fmt.Errorf("not run: %w", err)
	}
	rep, err = h.job.Run(ctx, t, asOf)
	if err != nil {
		h.log.Error("training failed", "tenant", t, "as_of", day, "err", err)
		return Report{}, err
	}
	h.log.Info("trained", "tenant", t, "as_of", day, "version", rep.Version,
		"promoted", rep.Promoted, "champion", rep.ChampionVersion, "invoices", rep.Invoices,
		"seconds", rep.Seconds, "reason", rep.Reason)
	return rep, nil
}
