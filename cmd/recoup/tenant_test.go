package main

import (
	"context"
	"errors"
	"io"
	"testing"
)

// TestTenantUsage: a command that cannot mean anything is refused before
// any store is opened.
func TestTenantUsage(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"delete"},
		{"put"},
		{"put", "--demo", "--file", "x.json"},
		{"show"},
	} {
		if err := runTenant(context.Background(), args, io.Discard, io.Discard); !errors.Is(err, errUsage) {
			t.Errorf("tenant %v: %v, want a usage error", args, err)
		}
	}
}
