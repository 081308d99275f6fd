// Package awsconfig loads the AWS SDK configuration every Recoup binary
// uses. Endpoints come from the SDK's standard AWS_ENDPOINT_URL and
// AWS_ENDPOINT_URL_<SERVICE> variables, so the same binary talks to real AWS,
// LocalStack or the local emulators without code changes.
package awsconfig

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/logging"
)

// DefaultRegion is used when neither AWS_REGION nor a profile names one.
const DefaultRegion = "us-east-1"

// Load returns the SDK configuration from the environment.
func Load(ctx context.Context) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
		opts = append(opts, config.WithRegion(DefaultRegion))
	}
	opts = append(opts, config.WithLogger(sdkLogger{}))
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	return cfg, nil
}

// TablePrefix is the DynamoDB table-name prefix, from RECOUP_TABLE_PREFIX.
func TablePrefix() string {
	if p, ok := os.LookupEnv("RECOUP_TABLE_PREFIX"); ok {
		return p
	}
	return "recoup-" // dynamo.DefaultPrefix; not imported, to keep this package free of the store
}

// DynamoEndpoint names the DynamoDB endpoint in use, for error messages that
// must say which endpoint was down.
func DynamoEndpoint(cfg aws.Config) string {
	for _, v := range []string{"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL"} {
		if e := os.Getenv(v); e != "" {
			return e
		}
	}
	return "dynamodb." + cfg.Region + ".amazonaws.com"
}

// DynamoDB builds a DynamoDB client from cfg. Against DynamoDB Local (a
// loopback endpoint) it skips the CRC32 check of response bodies: the
// emulator's error bodies fail it, and the SDK then logs a warning for every
// rejected transaction, which buries real messages. Real endpoints keep it.
// opts are applied after that, as dynamodb.NewFromConfig applies them.
func DynamoDB(cfg aws.Config, opts ...func(*dynamodb.Options)) *dynamodb.Client {
	local := IsLoopback(DynamoEndpoint(cfg))
	return dynamodb.NewFromConfig(cfg, append([]func(*dynamodb.Options){func(o *dynamodb.Options) {
		if local {
			o.DisableValidateResponseChecksum = true
		}
	}}, opts...)...)
}

// S3 builds an S3 client from cfg. When an endpoint override is in force
// (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL or a profile's endpoint_url: an
// emulator or LocalStack) it addresses buckets by path, because emulators
// serve one host and <bucket>.127.0.0.1 does not resolve. AWS itself keeps
// virtual-hosted addressing. opts are applied after that, as
// s3.NewFromConfig applies them.
func S3(cfg aws.Config, opts ...func(*s3.Options)) *s3.Client {
	return s3.NewFromConfig(cfg, append([]func(*s3.Options){func(o *s3.Options) {
		// The SDK has resolved the override into BaseEndpoint by now.
		if o.BaseEndpoint != nil {
			o.UsePathStyle = true
		}
	}}, opts...)...)
}

// IsLoopback reports whether an endpoint URL names a loopback host, i.e. an
// emulator on this machine rather than AWS.
func IsLoopback(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	if u.Hostname() == "localhost" {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}

// sdkLogger sends the SDK's log lines to the process's slog logger, so
// they are JSON in a Lambda like every other line, instead of the SDK's
// own "SDK <date> WARN" lines on stderr.
type sdkLogger struct{}

// drainWarning is what smithy-go logs when it cannot read the rest of a
// response it has already decoded, because the server or the transport
// closed the connection first (aws-sdk-go-v2 #2737; the emulators close
// kept-alive connections often). The call succeeded; only the connection
// is not reused, so it is logged at debug level, not as a warning.
const drainWarning = "failed to discard remaining HTTP response body"

// Logf implements logging.Logger.
func (sdkLogger) Logf(c logging.Classification, format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	level := slog.LevelDebug
	if c == logging.Warn && !strings.HasPrefix(msg, drainWarning) {
		level = slog.LevelWarn
	}
	slog.Log(context.Background(), level, msg, "source", "aws-sdk")
}
