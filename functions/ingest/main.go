// Command ingest is the ingest Lambda: it imports AR files sent in the
// invocation into the ledger table or, given an ERP connection
// (RECOUP_ERP_SECRET), pulls them from Oracle EBS. See shared/imports for
// the work.
package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/recoup-dev/recoup/functions/internal/wire"
	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/erp/erpconfig"
	"github.com/recoup-dev/recoup/shared/erp/oracleebs"
	"github.com/recoup-dev/recoup/shared/imports"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	cfg, err := awsconfig.Load(context.Background())
	if err != nil {
		log.Error("load AWS config", "err", err)
		os.Exit(1)
	}
	store, err := dynamo.NewLedger(awsconfig.DynamoDB(cfg), awsconfig.TablePrefix())
	if err != nil {
		log.Error("build ledger store", "err", err)
		os.Exit(1)
	}
	h, err := imports.NewHandler(store)
	if err != nil {
		log.Error("build handler", "err", err)
		os.Exit(1)
	}
	// With an ERP connection, a request {"tenant": T, "from": "erp"} (the
	// schedule's) pulls the records from Oracle EBS.
	env := &wire.Env{AWS: cfg, Getenv: os.Getenv}
	conn, found, err := env.ERP(context.Background())
	switch {
	case err != nil:
		// File imports need no ERP: a connection not yet stored (a new
		// deployment's secret holds "{}") or wrong refuses pulls only.
		log.Error("read the ERP connection: pulls from the ERP are refused", "err", err)
	case found && conn.ERP != erpconfig.ERPOracleEBS:
		// Reading is built for Oracle EBS; file imports still work.
		log.Warn("the ERP connection is not Oracle EBS: pulls from the ERP are refused", "erp", conn.ERP)
	case found:
		ebs, err := conn.EBS()
		if err != nil {
			log.Error("open the ERP: pulls from the ERP are refused", "err", err)
			break
		}
		h.Pull = func(ctx context.Context, since time.Time) (imports.Source, time.Time, error) {
			var buf bytes.Buffer
			counts, err := oracleebs.Snapshot(ctx, ebs, &buf, since)
			if err != nil {
				return imports.Source{}, time.Time{}, err
			}
			log.Info("pulled from Oracle EBS", "customers", counts.Customers, "contacts", counts.Contacts,
				"invoices", counts.Invoices, "payments", counts.Payments, "latest", counts.Latest)
			return imports.Source{Name: "oracle-ebs-live.json", Data: buf.Bytes()}, counts.Latest, nil
		}
	}
	lambda.Start(h.Handle)
}
