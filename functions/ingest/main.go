// Command ingest is the ingest Lambda: it imports AR files sent in the
// invocation into the ledger table or, given an ERP connection
// (RECOUP_ERP_SECRET), pulls them from Oracle EBS. See shared/imports for
// the work.
package main

import (
	"bytes"
	"context"
	"fmt"
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
	// schedule's) pulls the records from Oracle EBS. The connection is read
	// at each pull, not at the cold start: a pull is rare, the tenant
	// rotates the password in the secret, and file imports need no ERP.
	env := &wire.Env{AWS: cfg, Getenv: os.Getenv}
	if os.Getenv("RECOUP_ERP_SECRET") != "" || os.Getenv("RECOUP_ERP_CONFIG_FILE") != "" {
		h.Pull = func(ctx context.Context, since time.Time) (imports.Source, time.Time, error) {
			conn, _, err := env.ERP(ctx)
			if err != nil {
				return imports.Source{}, time.Time{}, err
			}
			if conn.ERP != erpconfig.ERPOracleEBS {
				return imports.Source{}, time.Time{}, fmt.Errorf("the ERP connection is %s: pulls are built for Oracle EBS; import its exports as files", conn.ERP)
			}
			ebs, err := conn.EBS()
			if err != nil {
				return imports.Source{}, time.Time{}, err
			}
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
