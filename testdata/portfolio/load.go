package portfolio

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/recoup-dev/recoup/shared/ingest"
	"github.com/recoup-dev/recoup/shared/ledger"
)

// Load generates a portfolio and parses it through the import path, for
// tests and benchmarks that need ledger records rather than files. Bad
// rows are refused by the parser, so a config with BadRows set fails.
func Load(cfg Config) (*ingest.Batch, error) {
	cfg = cfg.withDefaults()
	dir, err := os.MkdirTemp("", "portfolio")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if _, err := Generate(dir, cfg); err != nil {
		return nil, err
	}
	var files []ingest.File
	for _, n := range []string{"customers.csv", "contacts.csv", "invoices.csv", "payments.csv"} {
		f, err := os.Open(filepath.Join(dir, n))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		files = append(files, ingest.File{Name: n, R: f})
	}
	b, err := ingest.Parse(context.Background(), ingest.Options{Tenant: ledger.TenantID(cfg.Tenant), AsOf: cfg.AsOf}, files, nil)
	if err != nil {
		return nil, err
	}
	if len(b.Rejects) > 0 {
		r := b.Rejects[0]
		return nil, fmt.Errorf("portfolio: %d rows rejected, the first %s line %d: %s: %s", len(b.Rejects), r.File, r.Line, r.Field, r.Reason)
	}
	return b, nil
}
