// Command ingest is the ingest Lambda: it imports AR files sent in the
// invocation into the ledger table. See shared/imports for the work.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/recoup-dev/recoup/shared/awsconfig"
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
	lambda.Start(h.Handle)
}
