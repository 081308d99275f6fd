// Package s3blobs keeps the model registry (shared/registry) in an Amazon S3
// bucket.
//
// A missing key must come back from S3 as 404 NoSuchKey for the registry to
// tell "no champion yet" from a failure. S3 answers 403 AccessDenied instead
// when the caller may not list the bucket, so the role that runs the registry
// needs s3:ListBucket on the bucket as well as s3:GetObject and s3:PutObject
// (and kms:GenerateDataKey / kms:Decrypt on the key when one is configured).
package s3blobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/recoup-dev/recoup/shared/registry"
)

// API is the part of the S3 client the store uses.
type API interface {
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var (
	_ API            = (*s3.Client)(nil)
	_ registry.Blobs = (*Store)(nil)
)

// Store is a registry.Blobs over one S3 bucket.
type Store struct {
	api    API
	bucket string
	prefix string
	// KMSKeyID, when set, encrypts every object with that KMS key
	// (aws:kms); otherwise objects are encrypted with S3-managed keys
	// (AES256). The header is sent either way so that a model never lands
	// unencrypted, whatever the bucket's default.
	KMSKeyID string
}

// New returns a store over bucket. A non-empty prefix puts every key under
// that folder: "models" and "models/" both store "acme/ranking/champion.json"
// as "models/acme/ranking/champion.json".
func New(api API, bucket, prefix string) (*Store, error) {
	if api == nil {
		return nil, errors.New("s3blobs: nil S3 client")
	}
	if strings.TrimSpace(bucket) == "" {
		return nil, errors.New("s3blobs: empty bucket name")
	}
	if p := strings.Trim(prefix, "/"); p != "" {
		prefix = p + "/"
	} else {
		prefix = ""
	}
	return &Store{api: api, bucket: bucket, prefix: prefix}, nil
}

// Put stores body under key as JSON, encrypted at rest. A single PutObject
// replaces the object whole, so a reader never sees half a model.
func (s *Store) Put(ctx context.Context, key string, body []byte) error {
	k, err := s.key(key)
	if err != nil {
		return err
	}
	in := &s3.PutObjectInput{
		Bucket:               aws.String(s.bucket),
		Key:                  aws.String(k),
		Body:                 bytes.NewReader(body),
		ContentLength:        aws.Int64(int64(len(body))),
		ContentType:          aws.String("application/json"),
		ServerSideEncryption: types.ServerSideEncryptionAes256,
	}
	if s.KMSKeyID != "" {
		in.ServerSideEncryption = types.ServerSideEncryptionAwsKms
		in.SSEKMSKeyId = aws.String(s.KMSKeyID)
	}
	if _, err := s.api.PutObject(ctx, in); err != nil {
		return fmt.Errorf("s3blobs: put s3://%s/%s: %w", s.bucket, k, err)
	}
	return nil
}

// Get reads the object under key; the error wraps registry.ErrNotFound when
// there is none.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	k, err := s.key(key)
	if err != nil {
		return nil, err
	}
	out, err := s.api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(k)})
	if err != nil {
		if missing(err) {
			return nil, fmt.Errorf("%w: s3://%s/%s", registry.ErrNotFound, s.bucket, k)
		}
		return nil, fmt.Errorf("s3blobs: get s3://%s/%s: %w", s.bucket, k, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("s3blobs: read s3://%s/%s: %w", s.bucket, k, err)
	}
	return b, nil
}

func (s *Store) key(key string) (string, error) {
	if key == "" || strings.HasPrefix(key, "/") {
		return "", fmt.Errorf("s3blobs: key %q is not a relative path", key)
	}
	return s.prefix + key, nil
}

// missing reports a missing object. A missing bucket (NoSuchBucket, also a
// 404) is a misconfiguration, not an empty registry, so it stays an error.
func missing(err error) bool {
	var nsk *types.NoSuchKey
	if errors.As(err, &nsk) {
		return true
	}
	// Some S3-compatible servers answer a bare 404 without an error code.
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode() == "NoSuchKey" || api.ErrorCode() == "NotFound"
	}
	return false
}
