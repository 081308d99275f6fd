package s3blobs

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/registry"
)

const bucket = "recoup-models"

// emulator is gofakes3 (an in-memory S3) on 127.0.0.1, reached through
// awsconfig.S3 exactly as the Lambda reaches an emulator, with the headers
// of every PUT recorded: the emulator ignores encryption headers, so the
// request shape is what shows they were sent.
type emulator struct {
	client API
	mu     sync.Mutex
	puts   map[string]http.Header // by request path: /<bucket>/<key>
}

func newEmulator(t *testing.T) *emulator {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	e := &emulator{puts: map[string]http.Header{}}
	s3 := gofakes3.New(backend).Server()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			e.mu.Lock()
			e.puts[r.URL.Path] = r.Header.Clone()
			e.mu.Unlock()
		}
		s3.ServeHTTP(w, r)
	}))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)

	// Only the emulator's endpoint and static keys: nothing from the
	// machine's own AWS configuration.
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_S3": srv.URL, "AWS_ENDPOINT_URL": "", "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none,
	} {
		t.Setenv(k, v)
	}
	cfg, err := awsconfig.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	e.client = awsconfig.S3(cfg)
	return e
}

func (e *emulator) put(path string) http.Header {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.puts[path]
}

func newStore(t *testing.T, api API, bucket, prefix string) *Store {
	t.Helper()
	s, err := New(api, bucket, prefix)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPutGet(t *testing.T) {
	e := newEmulator(t)
	raw := newStore(t, e.client, bucket, "")
	tests := []struct {
		name, prefix, key string
		body              []byte
		stored            string // the object's key in the bucket
	}{
		{"no prefix", "", "acme/ranking/champion.json", []byte(`{"version":"a"}`), "acme/ranking/champion.json"},
		{"prefix", "models", "acme/ranking/champion.json", []byte(`{"version":"b"}`), "models/acme/ranking/champion.json"},
		{"prefix with slashes", "/models/", "demo/ranking/champion.json", []byte(`{"version":"c"}`), "models/demo/ranking/champion.json"},
		{"nested prefix", "prod/models", "acme/ranking/versions/v.json", []byte(`{}`), "prod/models/acme/ranking/versions/v.json"},
		{"empty body", "", "acme/empty.json", []byte{}, "acme/empty.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			s := newStore(t, e.client, bucket, tt.prefix)
			if err := s.Put(ctx, tt.key, tt.body); err != nil {
				t.Fatal(err)
			}
			got, err := s.Get(ctx, tt.key)
			if err != nil || !bytes.Equal(got, tt.body) {
				t.Fatalf("Get(%q) = %q, %v; want %q", tt.key, got, err, tt.body)
			}
			if got, err := raw.Get(ctx, tt.stored); err != nil || !bytes.Equal(got, tt.body) {
				t.Errorf("object %q in the bucket = %q, %v; want %q", tt.stored, got, err, tt.body)
			}
		})
	}

	// A second Put replaces the object (the champion pointer relies on it).
	ctx := t.Context()
	if err := raw.Put(ctx, "acme/ranking/champion.json", []byte(`{"version":"new"}`)); err != nil {
		t.Fatal(err)
	}
	if got, _ := raw.Get(ctx, "acme/ranking/champion.json"); string(got) != `{"version":"new"}` {
		t.Errorf("after a second Put: %q", got)
	}
}

func TestMissing(t *testing.T) {
	e := newEmulator(t)
	if err := newStore(t, e.client, bucket, "").Put(t.Context(), "acme/ranking/champion.json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, bucket, prefix, key string
		notFound                  bool
	}{
		{"missing key", bucket, "", "acme/ranking/nothing.json", true},
		{"key stored only outside the prefix", bucket, "models", "acme/ranking/champion.json", true},
		// A wrong bucket name is a deployment error, not an empty
		// registry: training must fail rather than start from scratch.
		{"missing bucket", "no-such-bucket", "", "acme/ranking/champion.json", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newStore(t, e.client, tt.bucket, tt.prefix).Get(t.Context(), tt.key)
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, registry.ErrNotFound) != tt.notFound {
				t.Errorf("errors.Is(%v, ErrNotFound) = %v, want %v", err, !tt.notFound, tt.notFound)
			}
		})
	}
}

func TestPutRequest(t *testing.T) {
	e := newEmulator(t)
	tests := []struct {
		name, kms, sse, keyID string
	}{
		{"S3-managed keys by default", "", "AES256", ""},
		{"KMS key when configured", "arn:aws:kms:us-east-1:111122223333:key/example", "aws:kms", "arn:aws:kms:us-east-1:111122223333:key/example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t, e.client, bucket, "models")
			s.KMSKeyID = tt.kms
			key := "acme/ranking/" + tt.sse + ".json"
			if err := s.Put(t.Context(), key, []byte("{}")); err != nil {
				t.Fatal(err)
			}
			h := e.put("/" + bucket + "/models/" + key)
			if h == nil {
				t.Fatalf("no PUT recorded for %s (path-style addressing?)", key)
			}
			for name, want := range map[string]string{
				"X-Amz-Server-Side-Encryption":                tt.sse,
				"X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id": tt.keyID,
				"Content-Type": "application/json",
			} {
				if got := h.Get(name); got != want {
					t.Errorf("%s: %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestRegistryOnS3(t *testing.T) {
	e := newEmulator(t)
	r := registry.Registry{Blobs: newStore(t, e.client, bucket, "models")}
	ctx := t.Context()
	at := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	v1, v2 := registry.Version(at, []byte(`{"m":1}`)), registry.Version(at.AddDate(0, 0, 7), []byte(`{"m":2}`))

	steps := []struct {
		name string
		run  func(context.Context) error
		want error // nil, registry.ErrNotFound, or errAny
	}{
		{"no champion yet", func(ctx context.Context) error { _, err := r.Champion(ctx, "acme", "ranking"); return err }, registry.ErrNotFound},
		{"save v1", func(ctx context.Context) error {
			return r.Save(ctx, "acme", "ranking", v1, []byte(`{"m":1}`), []byte(`{"reason":"first"}`))
		}, nil},
		{"save v1 again", func(ctx context.Context) error {
			return r.Save(ctx, "acme", "ranking", v1, []byte(`{"m":1}`), []byte(`{}`))
		}, errAny},
		{"promote an unsaved version", func(ctx context.Context) error {
			return r.Promote(ctx, "acme", "ranking", registry.Champion{Version: v2})
		}, registry.ErrNotFound},
		{"promote v1", func(ctx context.Context) error {
			return r.Promote(ctx, "acme", "ranking", registry.Champion{Version: v1, PromotedAt: at, Reason: "first"})
		}, nil},
		{"champion is v1", wantChampion(r, "acme", v1), nil},
		{"save and promote v2", func(ctx context.Context) error {
			if err := r.Save(ctx, "acme", "ranking", v2, []byte(`{"m":2}`), []byte(`{}`)); err != nil {
				return err
			}
			return r.Promote(ctx, "acme", "ranking", registry.Champion{Version: v2, PromotedAt: at, Reason: "better"})
		}, nil},
		{"champion is v2", wantChampion(r, "acme", v2), nil},
		{"v1 is kept", func(ctx context.Context) error {
			b, err := r.Artifact(ctx, "acme", "ranking", v1)
			if err == nil && string(b) != `{"m":1}` {
				return errors.New("v1 changed: " + string(b))
			}
			return err
		}, nil},
		{"another tenant has no champion", func(ctx context.Context) error { _, err := r.Champion(ctx, "demo", "ranking"); return err }, registry.ErrNotFound},
	}
	for _, s := range steps {
		err := s.run(ctx)
		switch {
		case s.want == nil && err != nil, s.want == errAny && err == nil,
			s.want != nil && s.want != errAny && !errors.Is(err, s.want):
			t.Fatalf("%s: %v, want %v", s.name, err, s.want)
		}
	}
	if h := e.put("/" + bucket + "/models/acme/ranking/champion.json"); h.Get("X-Amz-Server-Side-Encryption") != "AES256" {
		t.Errorf("champion pointer written without encryption: %v", h)
	}
}

var errAny = errors.New("any error")

func wantChampion(r registry.Registry, tenant, version string) func(context.Context) error {
	return func(ctx context.Context) error {
		c, err := r.Champion(ctx, ledger.TenantID(tenant), "ranking")
		if err == nil && c.Version != version {
			return errors.New("champion " + c.Version + ", want " + version)
		}
		return err
	}
}

func TestNewRefuses(t *testing.T) {
	e := newEmulator(t)
	if _, err := New(nil, bucket, ""); err == nil {
		t.Error("nil client accepted")
	}
	if _, err := New(e.client, " ", ""); err == nil {
		t.Error("empty bucket accepted")
	}
	s := newStore(t, e.client, bucket, "")
	for _, key := range []string{"", "/acme/x.json"} {
		if err := s.Put(t.Context(), key, nil); err == nil {
			t.Errorf("Put(%q) accepted", key)
		}
	}
}
