// Package secrets reads secrets from AWS Secrets Manager: the ERP
// connection documents (shared/erp/erpconfig) the write-back and ingest
// functions open their adapters with.
package secrets

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// API is the part of Secrets Manager the package uses.
type API interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

var _ API = (*secretsmanager.Client)(nil)

// NewClient is a Secrets Manager client for cfg.
func NewClient(cfg aws.Config) *secretsmanager.Client { return secretsmanager.NewFromConfig(cfg) }

// Get returns the current version (AWSCURRENT) of the secret id (a name
// or an ARN) as text. A binary secret is refused: Recoup stores its
// documents as JSON text.
func Get(ctx context.Context, api API, id string) ([]byte, error) {
	if id == "" {
		return nil, errors.New("secrets: no secret id")
	}
	out, err := api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		return nil, fmt.Errorf("secrets: read %s: %w", id, err)
	}
	if out.SecretString == nil {
		return nil, fmt.Errorf("secrets: %s holds binary data, not the JSON text expected", id)
	}
	return []byte(*out.SecretString), nil
}
