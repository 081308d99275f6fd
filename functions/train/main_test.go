package main

import (
	"strings"
	"testing"
)

func TestReadSettings(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if _, err := readSettings(env(nil)); err == nil || !strings.Contains(err.Error(), "RECOUP_MODEL_BUCKET") {
		t.Errorf("no bucket: %v, want an error naming RECOUP_MODEL_BUCKET", err)
	}
	got, err := readSettings(env(map[string]string{"RECOUP_MODEL_BUCKET": "models", "RECOUP_MODEL_PREFIX": "prod/"}))
	if err != nil || got != (settings{bucket: "models", prefix: "prod/"}) {
		t.Errorf("readSettings = %+v, %v", got, err)
	}
}
