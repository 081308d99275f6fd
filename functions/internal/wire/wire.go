// Package wire builds what the collection cycle's Lambda functions share
// from their environment: the AWS configuration, the stores, the tenant
// profiles, the model registry and the Step Functions client. Each
// function's main.go picks what it needs and hands it to its step in
// shared/cycle.
package wire

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/recoup-dev/recoup/shared/approval/sfn"
	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/clock"
	"github.com/recoup-dev/recoup/shared/cycle"
	"github.com/recoup-dev/recoup/shared/erp/erpconfig"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/registry"
	"github.com/recoup-dev/recoup/shared/secrets"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
	"github.com/recoup-dev/recoup/shared/store/s3blobs"
	"github.com/recoup-dev/recoup/shared/tenant"
)

// Env is a function's environment, loaded once per cold start.
type Env struct {
	AWS    aws.Config
	DB     *dynamodb.Client
	Prefix string
	Log    *slog.Logger
	Getenv func(string) string
	// Now is the clock the steps act at: the wall clock, or on the local
	// stack the simulated clock RECOUP_CLOCK_FILE names (shared/clock).
	Now func() time.Time
}

// Load reads the AWS configuration (AWS_ENDPOINT_URL_* select the local
// stack) and the table prefix.
func Load(ctx context.Context) (*Env, error) {
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	return &Env{AWS: cfg, DB: awsconfig.DynamoDB(cfg), Prefix: awsconfig.TablePrefix(),
		Log: log, Getenv: os.Getenv, Now: clock.FromEnv(os.Getenv, log)}, nil
}

// Must ends a cold start that cannot build its function, with the reason
// in the log (Lambda then reports an init error and retries the cold
// start).
func Must[T any](v T, err error) T {
	if err != nil {
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("cold start failed", "function", os.Getenv("AWS_LAMBDA_FUNCTION_NAME"), "err", err)
		os.Exit(1)
	}
	return v
}

// Ledger is the ledger store.
func (e *Env) Ledger() (*dynamo.Ledger, error) { return dynamo.NewLedger(e.DB, e.Prefix) }

// Engagement is the engagement store.
func (e *Env) Engagement() (*dynamo.Engagement, error) { return dynamo.NewEngagement(e.DB, e.Prefix) }

// Runs is the store of each customer's current execution.
func (e *Env) Runs() (*dynamo.Runs, error) { return dynamo.NewRuns(e.DB, e.Prefix) }

// Executions is the Step Functions adapter.
func (e *Env) Executions() (*sfn.Executions, error) {
	return sfn.NewExecutions(sfn.NewClient(e.AWS))
}

// Profiles reads tenant profiles from the ledger table, keeping each for
// a minute: a warm function should not read it on every step, and an
// edited profile takes effect within the minute.
func (e *Env) Profiles() (*Profiles, error) {
	s, err := dynamo.NewTenants(e.DB, e.Prefix)
	if err != nil {
		return nil, err
	}
	return &Profiles{store: s, ttl: time.Minute, now: time.Now}, nil
}

// Profiles is a cached cycle.Profiles.
type Profiles struct {
	store *dynamo.Tenants
	ttl   time.Duration
	now   func() time.Time
	mu    sync.Mutex
	cache map[ledger.TenantID]cached
}

type cached struct {
	p  *tenant.Profile
	at time.Time
}

var _ cycle.Profiles = (*Profiles)(nil)

// Profile implements cycle.Profiles. A missing profile is a
// configuration error no retry mends.
func (p *Profiles) Profile(ctx context.Context, t ledger.TenantID) (*tenant.Profile, error) {
	p.mu.Lock()
	c, ok := p.cache[t]
	p.mu.Unlock()
	if ok && p.now().Sub(c.at) < p.ttl {
		return c.p, nil
	}
	prof, err := p.store.Profile(ctx, t)
	if errors.Is(err, dynamo.ErrNoProfile) {
		return nil, fmt.Errorf("%w: %w", cycle.ErrInput, err)
	}
	if err != nil {
		return nil, cycle.Transient{Err: err}
	}
	p.mu.Lock()
	if p.cache == nil {
		p.cache = map[ledger.TenantID]cached{}
	}
	p.cache[t] = cached{prof, p.now()}
	p.mu.Unlock()
	return prof, nil
}

// Models is the champion-model source: the registry in
// RECOUP_MODEL_BUCKET (S3), or in the folder RECOUP_MODEL_DIR on the
// local stack.
func (e *Env) Models() (*cycle.Champions, error) {
	if dir := e.Getenv("RECOUP_MODEL_DIR"); dir != "" {
		return &cycle.Champions{Registry: registry.Registry{Blobs: registry.Dir(dir)}}, nil
	}
	bucket := e.Getenv("RECOUP_MODEL_BUCKET")
	if bucket == "" {
		return nil, errors.New("neither RECOUP_MODEL_BUCKET (the model registry's S3 bucket) nor RECOUP_MODEL_DIR (a local folder) is set")
	}
	blobs, err := s3blobs.New(awsconfig.S3(e.AWS), bucket, e.Getenv("RECOUP_MODEL_PREFIX"))
	if err != nil {
		return nil, err
	}
	return &cycle.Champions{Registry: registry.Registry{Blobs: blobs}}, nil
}

// Required reads a variable that must be set.
func (e *Env) Required(name, what string) (string, error) {
	v := e.Getenv(name)
	if v == "" {
		return "", fmt.Errorf("%s is not set: it names %s", name, what)
	}
	return v, nil
}

// ERP reads the tenant's ERP connection document (shared/erp/erpconfig)
// from RECOUP_ERP_SECRET (a Secrets Manager id) or, on the local stack,
// RECOUP_ERP_CONFIG_FILE. found is false when neither is set. With
// RECOUP_ERP_ENDPOINT (set by the deployment), a document naming another
// ERP address is refused.
func (e *Env) ERP(ctx context.Context) (c erpconfig.Config, found bool, err error) {
	var doc []byte
	switch {
	case e.Getenv("RECOUP_ERP_SECRET") != "":
		doc, err = secrets.Get(ctx, secrets.NewClient(e.AWS), e.Getenv("RECOUP_ERP_SECRET"))
	case e.Getenv("RECOUP_ERP_CONFIG_FILE") != "":
		doc, err = os.ReadFile(e.Getenv("RECOUP_ERP_CONFIG_FILE"))
	default:
		return c, false, nil
	}
	if err != nil {
		return c, true, err
	}
	if c, err = erpconfig.Parse(doc); err != nil {
		return c, true, err
	}
	if ep := e.Getenv("RECOUP_ERP_ENDPOINT"); ep != "" {
		err = c.CheckEndpoint(ep)
	}
	return c, true, err
}
