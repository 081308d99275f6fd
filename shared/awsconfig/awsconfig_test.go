package awsconfig

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/logging"
	"github.com/google/go-cmp/cmp"
)

func TestDynamoEndpoint(t *testing.T) {
	tests := []struct {
		env      map[string]string
		want     string
		loopback bool
	}{
		{map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8100"}, "http://127.0.0.1:8100", true},
		{map[string]string{"AWS_ENDPOINT_URL": "http://localhost:4566"}, "http://localhost:4566", true},
		{map[string]string{"AWS_ENDPOINT_URL": "http://[::1]:9001"}, "http://[::1]:9001", true},
		{map[string]string{"AWS_ENDPOINT_URL": "http://10.0.0.5:8000"}, "http://10.0.0.5:8000", false},
		{nil, "dynamodb.eu-west-1.amazonaws.com", false},
	}
	for _, tt := range tests {
		t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "")
		t.Setenv("AWS_ENDPOINT_URL", "")
		for k, v := range tt.env {
			t.Setenv(k, v)
		}
		got := DynamoEndpoint(aws.Config{Region: "eu-west-1"})
		if got != tt.want || IsLoopback(got) != tt.loopback {
			t.Errorf("DynamoEndpoint with %v = %q (loopback %v), want %q (%v)", tt.env, got, IsLoopback(got), tt.want, tt.loopback)
		}
	}
}

func TestS3PathStyle(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000"}, true},
		{map[string]string{"AWS_ENDPOINT_URL": "http://localhost:4566"}, true},
		{nil, false},
	}
	for _, tt := range tests {
		t.Setenv("AWS_ENDPOINT_URL_S3", "")
		t.Setenv("AWS_ENDPOINT_URL", "")
		for k, v := range tt.env {
			t.Setenv(k, v)
		}
		cfg, err := Load(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if got := S3(cfg).Options().UsePathStyle; got != tt.want {
			t.Errorf("S3 with %v: UsePathStyle %v, want %v", tt.env, got, tt.want)
		}
	}
}

// TestSDKLogger: the SDK's warnings reach slog as warnings, but the one
// about draining a response already decoded is only a debug line.
func TestSDKLogger(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })
	cfg, err := Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger.Logf(logging.Warn, "failed to discard remaining HTTP response body, this may affect connection reuse: %v", "read tcp: use of closed network connection")
	cfg.Logger.Logf(logging.Warn, "failed to close HTTP response body, this may affect connection reuse: %v", "boom")
	cfg.Logger.Logf(logging.Debug, "request %d", 1)
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec struct{ Level, Msg, Source string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		got = append(got, rec.Level+" "+rec.Source+" "+strings.SplitN(rec.Msg, ",", 2)[0])
	}
	want := []string{
		"DEBUG aws-sdk failed to discard remaining HTTP response body",
		"WARN aws-sdk failed to close HTTP response body",
		"DEBUG aws-sdk request 1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}
