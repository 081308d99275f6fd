package registry

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRegistry(t *testing.T) {
	ctx := context.Background()
	r := Registry{Blobs: Dir(t.TempDir())}
	if _, err := r.Champion(ctx, "acme", "ranking"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("champion of an empty registry: %v, want ErrNotFound", err)
	}
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	v1 := Version(at, []byte("model one"))
	if err := r.Save(ctx, "acme", "ranking", v1, []byte("model one"), []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if err := r.Save(ctx, "acme", "ranking", v1, []byte("model one"), []byte("{}")); err == nil {
		t.Error("a version was overwritten")
	}
	if err := r.Promote(ctx, "acme", "ranking", Champion{Version: Version(at, []byte("never saved"))}); !errors.Is(err, ErrNotFound) {
		t.Errorf("promoting an unsaved version: %v, want ErrNotFound", err)
	}
	want := Champion{Version: v1, PromotedAt: at, Reason: "first"}
	if err := r.Promote(ctx, "acme", "ranking", want); err != nil {
		t.Fatal(err)
	}
	got, err := r.Champion(ctx, "acme", "ranking")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("champion (-want +got):\n%s", diff)
	}
	if _, err := r.Champion(ctx, "other", "ranking"); !errors.Is(err, ErrNotFound) {
		t.Errorf("another tenant sees acme's champion: %v", err)
	}
	b, err := r.Artifact(ctx, "acme", "ranking", v1)
	if err != nil || string(b) != "model one" {
		t.Errorf("artifact %q, %v", b, err)
	}
	for _, tc := range []struct{ name, model, version string }{
		{"model name with a path", "../x", v1},
		{"version with a path", "ranking", "../../etc/passwd"},
	} {
		if _, err := r.Artifact(ctx, "acme", tc.model, tc.version); err == nil {
			t.Errorf("%s: read", tc.name)
		}
		if err := r.Save(ctx, "acme", tc.model, tc.version, nil, nil); err == nil {
			t.Errorf("%s: saved", tc.name)
		}
	}
	if err := r.Save(ctx, "", "ranking", v1, nil, nil); err == nil {
		t.Error("empty tenant accepted")
	}
	if _, err := r.Champion(ctx, "acme/ranking", "x"); err == nil {
		t.Error("a tenant id with a slash reached into another tenant's folder")
	}
	if err := (Dir(t.TempDir())).Put(ctx, "../escape", nil); err == nil {
		t.Error("a key escaped the directory")
	}
}
