// Package registry keeps trained model artifacts and which one is the
// champion, per tenant and model. Artifacts are immutable and kept (an
// audit can always reload the model that scored an account); the champion
// is a small pointer document that promotion rewrites.
//
// Layout under a Blobs store (a directory locally, an S3 bucket deployed):
//
//	<tenant>/<model>/versions/<version>.json   the artifact
//	<tenant>/<model>/versions/<version>.report.json   why it was or was not promoted
//	<tenant>/<model>/champion.json   {"version": ..., "promoted_at": ..., "reason": ...}
package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/recoup-dev/recoup/shared/atomicfile"
	"github.com/recoup-dev/recoup/shared/ledger"
)

// ErrNotFound is returned by Blobs.Get for a key that does not exist.
var ErrNotFound = errors.New("registry: not found")

// Blobs stores whole objects by key.
type Blobs interface {
	Put(ctx context.Context, key string, body []byte) error
	// Get returns ErrNotFound (wrapped) for a missing key.
	Get(ctx context.Context, key string) ([]byte, error)
}

// Registry is the model registry over a Blobs store.
type Registry struct{ Blobs Blobs }

// Champion points at the artifact that scores.
type Champion struct {
	Version    string    `json:"version"`
	PromotedAt time.Time `json:"promoted_at"`
	Reason     string    `json:"reason"`
}

var modelName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,40}$`)

func prefix(tenant ledger.TenantID, model string) (string, error) {
	if err := ledger.ValidateID("tenant", string(tenant)); err != nil {
		return "", fmt.Errorf("registry: %w", err)
	}
	// A tenant id is a key segment here: one with a slash would land in
	// another tenant's folder of the bucket.
	if strings.ContainsAny(string(tenant), `/\`) {
		return "", fmt.Errorf("registry: tenant %q: a slash cannot name a registry folder", tenant)
	}
	if !modelName.MatchString(model) {
		return "", fmt.Errorf("registry: model name %q: want lower-case letters, digits and dashes", model)
	}
	return string(tenant) + "/" + model + "/", nil
}

// Version names an artifact: its training time and a digest of its bytes,
// so two trainings never collide and a version says what it holds.
func Version(trainedAt time.Time, artifact []byte) string {
	sum := sha256.Sum256(artifact)
	return trainedAt.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(sum[:6])
}

var versionName = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{12}$`)

// Save stores an artifact and its report under version and returns the
// version. It never overwrites: artifacts are immutable.
func (r Registry) Save(ctx context.Context, tenant ledger.TenantID, model, version string, artifact, report []byte) error {
	p, err := prefix(tenant, model)
	if err != nil {
		return err
	}
	if !versionName.MatchString(version) {
		return fmt.Errorf("registry: version %q is not a registry version", version)
	}
	key := p + "versions/" + version + ".json"
	if _, err := r.Blobs.Get(ctx, key); err == nil {
		return fmt.Errorf("registry: %s exists; artifacts are never overwritten", key)
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	if err := r.Blobs.Put(ctx, key, artifact); err != nil {
		return err
	}
	return r.Blobs.Put(ctx, p+"versions/"+version+".report.json", report)
}

// Artifact loads a stored artifact.
func (r Registry) Artifact(ctx context.Context, tenant ledger.TenantID, model, version string) ([]byte, error) {
	p, err := prefix(tenant, model)
	if err != nil {
		return nil, err
	}
	if !versionName.MatchString(version) {
		return nil, fmt.Errorf("registry: version %q is not a registry version", version)
	}
	return r.Blobs.Get(ctx, p+"versions/"+version+".json")
}

// Champion returns the current champion; ErrNotFound when none was ever
// promoted.
func (r Registry) Champion(ctx context.Context, tenant ledger.TenantID, model string) (Champion, error) {
	p, err := prefix(tenant, model)
	if err != nil {
		return Champion{}, err
	}
	b, err := r.Blobs.Get(ctx, p+"champion.json")
	if err != nil {
		return Champion{}, err
	}
	var c Champion
	if err := json.Unmarshal(b, &c); err != nil || !versionName.MatchString(c.Version) {
		return Champion{}, fmt.Errorf("registry: %schampion.json is damaged (%v): fix or delete it", p, err)
	}
	return c, nil
}

// Promote makes a saved version the champion.
func (r Registry) Promote(ctx context.Context, tenant ledger.TenantID, model string, c Champion) error {
	p, err := prefix(tenant, model)
	if err != nil {
		return err
	}
	if _, err := r.Artifact(ctx, tenant, model, c.Version); err != nil {
		return fmt.Errorf("registry: promote %s: %w", c.Version, err)
	}
	b, err := json.MarshalIndent(c, "", " ")
	if err != nil {
		return err
	}
	return r.Blobs.Put(ctx, p+"champion.json", b)
}

// Dir is a Blobs store in a local directory.
type Dir string

// Put writes the object atomically: a reader never sees half a model.
func (d Dir) Put(_ context.Context, key string, body []byte) error {
	path, err := d.path(key)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, body)
}

// Get reads the object.
func (d Dir) Get(_ context.Context, key string) ([]byte, error) {
	path, err := d.path(key)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	return b, err
}

func (d Dir) path(key string) (string, error) {
	if key == "" || strings.HasPrefix(key, "/") || strings.Contains(key, "..") || strings.Contains(key, "\\") {
		return "", fmt.Errorf("registry: key %q is not a relative path", key)
	}
	return filepath.Join(string(d), filepath.FromSlash(key)), nil
}
