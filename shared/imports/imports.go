// Package imports runs an AR import end to end: parse and validate every
// file first, then write the accepted records to the ledger in checkpointed
// chunks. Nothing is written when a file cannot be used at all, and a run
// that fails while writing resumes from its last checkpoint, so a failed
// import never leaves the ledger half-written without a way forward.
package imports

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/recoup-dev/recoup/shared/ingest"
	"github.com/recoup-dev/recoup/shared/ledger"
)

// Store is what an import needs from the ledger.
type Store interface {
	ingest.CustomerLookup
	Upsert(ctx context.Context, recs []ledger.Record) (ledger.UpsertCounts, error)
	LoadCheckpoint(ctx context.Context, tenant ledger.TenantID, importID string) (ledger.ImportCheckpoint, bool, error)
	SaveCheckpoint(ctx context.Context, tenant ledger.TenantID, cp ledger.ImportCheckpoint) error
}

// ChunkSize is how many records are written between two checkpoints.
const ChunkSize = 500

// Source is one file to import.
type Source struct {
	Name string
	Kind ingest.Kind // "" to detect
	Data []byte
}

// Progress is told how many of the import's records are written so far.
type Progress func(done, total int)

// Result is what one import did.
type Result struct {
	ImportID    string
	Batch       *ingest.Batch
	Counts      ledger.UpsertCounts // this run's writes, plus those of the interrupted run it resumed
	Records     int                 // records the import writes
	ResumedFrom int                 // records skipped because a checkpoint said they were written
	Duration    time.Duration
}

// ErrNoStore is returned when Run is given a nil store.
var ErrNoStore = errors.New("imports: nil store")

// ID identifies an import by its tenant, format and exact file contents, so
// running the same files again finds the same checkpoint.
func ID(opts ingest.Options, sources []Source) string {
	parts := make([]string, len(sources))
	for i, s := range sources {
		sum := sha256.Sum256(s.Data)
		parts[i] = s.Name + "\x00" + string(s.Kind) + "\x00" + hex.EncodeToString(sum[:])
	}
	sort.Strings(parts)
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00", opts.Tenant, opts.Format, opts.DefaultCurrency.Code(), opts.DefaultRegion)
	for _, p := range parts {
		io.WriteString(h, p+"\x00")
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Run parses, validates and writes one import. Rejected rows are in the
// result's Batch; they never stop the import. An error means the files could
// not be used (nothing was written) or the store failed mid-way (the
// checkpoint lets the next run resume).
func Run(ctx context.Context, store Store, opts ingest.Options, sources []Source, progress Progress) (Result, error) {
	if store == nil {
		return Result{}, ErrNoStore
	}
	start := time.Now()
	files := make([]ingest.File, len(sources))
	for i, s := range sources {
		files[i] = ingest.File{Name: s.Name, Kind: s.Kind, R: bytes.NewReader(s.Data)}
	}
	batch, err := ingest.Parse(ctx, opts, files, store)
	if err != nil {
		return Result{}, err
	}
	recs := Records(batch)
	res := Result{ImportID: ID(opts, sources), Batch: batch, Records: len(recs)}

	cp, found, err := store.LoadCheckpoint(ctx, opts.Tenant, res.ImportID)
	if err != nil {
		return res, err
	}
	if found && !cp.Complete && cp.Total == len(recs) && cp.Done <= len(recs) {
		res.ResumedFrom = cp.Done
		res.Counts = cp.Counts
	} else {
		cp = ledger.ImportCheckpoint{ImportID: res.ImportID, Total: len(recs)}
	}
	done := res.ResumedFrom
	if progress != nil {
		progress(done, len(recs))
	}
	for done < len(recs) {
		end := min(done+ChunkSize, len(recs))
		c, err := store.Upsert(ctx, recs[done:end])
		if err != nil {
			return res, fmt.Errorf("write records %d-%d of import %s (resume by running it again): %w", done+1, end, res.ImportID, err)
		}
		res.Counts = res.Counts.Add(c)
		done = end
		cp.Done, cp.Counts, cp.UpdatedAt = done, res.Counts, time.Now().UTC()
		if err := store.SaveCheckpoint(ctx, opts.Tenant, cp); err != nil {
			return res, err
		}
		if progress != nil {
			progress(done, len(recs))
		}
	}
	cp.Done, cp.Complete, cp.Counts, cp.UpdatedAt = len(recs), true, res.Counts, time.Now().UTC()
	if err := store.SaveCheckpoint(ctx, opts.Tenant, cp); err != nil {
		return res, err
	}
	res.Duration = time.Since(start)
	return res, nil
}

// Records lists a batch's records in the order an import writes them:
// customers before what refers to them.
func Records(b *ingest.Batch) []ledger.Record {
	recs := make([]ledger.Record, 0, len(b.Customers)+len(b.Contacts)+len(b.Invoices)+len(b.Payments)+len(b.Disputes))
	for _, r := range b.Customers {
		recs = append(recs, r)
	}
	for _, r := range b.Contacts {
		recs = append(recs, r)
	}
	for _, r := range b.Invoices {
		recs = append(recs, r)
	}
	for _, r := range b.Payments {
		recs = append(recs, r)
	}
	for _, r := range b.Disputes {
		recs = append(recs, r)
	}
	return recs
}
