// Command train is the weekly training Lambda: for each tenant in the
// schedule's input it trains a ranking-model challenger on the ledger and
// promotes it in the S3 model registry when it beats the champion. See
// shared/training for the work.
package main

import (
	"context"
	"errors"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/registry"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
	"github.com/recoup-dev/recoup/shared/store/s3blobs"
	"github.com/recoup-dev/recoup/shared/training"
)

// settings is the function's environment.
type settings struct {
	bucket, prefix, kmsKeyID string
}

func readSettings(getenv func(string) string) (settings, error) {
	s := settings{
		bucket:   getenv("RECOUP_MODEL_BUCKET"),
		prefix:   getenv("RECOUP_MODEL_PREFIX"),
		kmsKeyID: getenv("RECOUP_MODEL_KMS_KEY_ID"),
	}
	if s.bucket == "" {
		return s, errors.New("RECOUP_MODEL_BUCKET is not set: it names the S3 bucket of the model registry")
	}
	return s, nil
}

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	env, err := readSettings(os.Getenv)
	if err != nil {
		log.Error("read environment", "err", err)
		os.Exit(1)
	}
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
	blobs, err := s3blobs.New(awsconfig.S3(cfg), env.bucket, env.prefix)
	if err != nil {
		log.Error("build model registry store", "err", err)
		os.Exit(1)
	}
	blobs.KMSKeyID = env.kmsKeyID
	h, err := training.NewHandler(training.Job{Source: store, Registry: registry.Registry{Blobs: blobs}}, log)
	if err != nil {
		log.Error("build handler", "err", err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
