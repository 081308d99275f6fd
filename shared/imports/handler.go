package imports

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/recoup-dev/recoup/shared/ingest"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

// Request is the ingest function's invocation payload: a small import sent
// inline (an API upload or a test). Files are text, as exported.
type Request struct {
	Tenant   string        `json:"tenant"`
	Format   string        `json:"format,omitempty"`   // default canonical
	Currency string        `json:"currency,omitempty"` // default USD
	Region   string        `json:"region,omitempty"`   // default US
	Files    []RequestFile `json:"files"`
	// From "erp" pulls the records from the tenant's ERP instead of
	// Files (the schedule's request); Since makes the pull incremental.
	From  string    `json:"from,omitempty"`
	Since time.Time `json:"since,omitzero"`
}

// Puller reads a tenant's records from its ERP as one import source
// (oracleebs.Snapshot behind the function's ERP connection), and the
// newest change the ERP reported, by the ERP's clock.
type Puller func(ctx context.Context, since time.Time) (Source, time.Time, error)

// RequestFile is one file of a Request.
type RequestFile struct {
	Name    string `json:"name"`
	Kind    string `json:"kind,omitempty"`
	Content string `json:"content"`
}

// Response reports an import. Every rejected row is returned with its reason,
// so the caller can keep them; none is dropped.
type Response struct {
	ImportID    string          `json:"import_id"`
	Records     int             `json:"records"`
	Customers   int             `json:"customers"`
	Contacts    int             `json:"contacts"`
	Invoices    int             `json:"invoices"`
	Payments    int             `json:"payments"`
	Disputes    int             `json:"disputes"`
	Inserted    int             `json:"inserted"`
	Updated     int             `json:"updated"`
	Unchanged   int             `json:"unchanged"`
	ResumedFrom int             `json:"resumed_from,omitempty"`
	Rejects     []ingest.Reject `json:"rejects"`
	// Latest is, for a pull from the ERP, the newest change it reported:
	// the next pull's since, less a margin for the ERP's clock.
	Latest time.Time `json:"latest,omitzero"`
}

// Handler serves the ingest function.
type Handler struct {
	store Store
	// Pull serves requests from "erp"; nil when the function has no ERP
	// connection.
	Pull Puller
}

// NewHandler refuses a nil store so a miswired function fails at start.
func NewHandler(store Store) (*Handler, error) {
	if store == nil {
		return nil, ErrNoStore
	}
	return &Handler{store: store}, nil
}

// ErrBadRequest marks requests the handler cannot run.
var ErrBadRequest = errors.New("bad ingest request")

// Handle runs one import.
func (h *Handler) Handle(ctx context.Context, req Request) (Response, error) {
	tenant := ledger.TenantID(req.Tenant)
	if err := tenant.Validate(); err != nil {
		return Response{}, fmt.Errorf("%w: tenant: %v", ErrBadRequest, err)
	}
	switch {
	case req.From != "" && req.From != "erp":
		return Response{}, fmt.Errorf("%w: from %q: want \"erp\" or nothing (files)", ErrBadRequest, req.From)
	case req.From == "erp" && len(req.Files) > 0:
		return Response{}, fmt.Errorf("%w: a pull from the ERP takes no files", ErrBadRequest)
	case req.From == "erp" && h.Pull == nil:
		return Response{}, fmt.Errorf("%w: from erp: this function has no ERP connection (RECOUP_ERP_SECRET)", ErrBadRequest)
	case req.From == "" && len(req.Files) == 0:
		return Response{}, fmt.Errorf("%w: no files", ErrBadRequest)
	case req.From == "" && !req.Since.IsZero():
		return Response{}, fmt.Errorf("%w: since is for a pull from the ERP", ErrBadRequest)
	}
	opts := ingest.Options{Tenant: tenant, Format: ingest.Format(or(req.Format, "canonical")), DefaultRegion: or(req.Region, "US")}
	cur, err := money.ParseCurrency(or(req.Currency, "USD"))
	if err != nil {
		return Response{}, fmt.Errorf("%w: currency: %v", ErrBadRequest, err)
	}
	opts.DefaultCurrency = cur
	sources := make([]Source, len(req.Files))
	for i, f := range req.Files {
		if f.Name == "" {
			return Response{}, fmt.Errorf("%w: files[%d].name is empty", ErrBadRequest, i)
		}
		sources[i] = Source{Name: f.Name, Kind: ingest.Kind(f.Kind), Data: []byte(f.Content)}
	}
	var latest time.Time
	if req.From == "erp" {
		if opts.Format != ingest.FormatCanonical {
			return Response{}, fmt.Errorf("%w: a pull from the ERP is read as canonical records; format is for files", ErrBadRequest)
		}
		src, l, err := h.Pull(ctx, req.Since)
		if err != nil {
			return Response{}, fmt.Errorf("imports: pull from the ERP: %w", err)
		}
		sources = append(sources, src)
		latest = l
	}
	res, err := Run(ctx, h.store, opts, sources, nil)
	if err != nil {
		return Response{}, err
	}
	b := res.Batch
	rejects := b.Rejects
	if rejects == nil {
		rejects = []ingest.Reject{}
	}
	return Response{
		ImportID: res.ImportID, Records: res.Records,
		Customers: len(b.Customers), Contacts: len(b.Contacts), Invoices: len(b.Invoices),
		Payments: len(b.Payments), Disputes: len(b.Disputes),
		Inserted: res.Counts.Inserted, Updated: res.Counts.Updated, Unchanged: res.Counts.Unchanged,
		ResumedFrom: res.ResumedFrom, Rejects: rejects, Latest: latest,
	}, nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
