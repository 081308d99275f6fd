package local

import (
	"context"
	"net"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/recoup-dev/recoup/infra/local/sqslocal"
)

// sqsServerPort serves the real SQS emulator on 127.0.0.1 and returns its
// port.
func sqsServerPort(t *testing.T) int {
	t.Helper()
	srv, err := sqslocal.New(sqslocal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := httptest.NewServer(srv)
	t.Cleanup(h.Close)
	return h.Listener.Addr().(*net.TCPAddr).Port
}

func TestSQSHealthy(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		port    func(*testing.T) int
		wantErr string // substring; "" for healthy
	}{
		{"the emulator", sqsServerPort, ""},
		{"DynamoDB Local on the port", func(t *testing.T) int { return serverPort(t, fakeDynamoDB) }, "HTTP 400"},
		{"nothing listening", freePort, "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t.TempDir())
			cfg.SQSPort = tt.port(t)
			err := sqsHealthy(ctx, cfg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("sqsHealthy() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("sqsHealthy() = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestServicesStartSQSBeforeTheLambdaHost(t *testing.T) {
	var names []string
	for _, s := range services() {
		names = append(names, s.name)
	}
	got := strings.Join(names, ",")
	if want := "dynamodb,kinesis,sqs,lambdahost"; got != want {
		t.Errorf("services() order = %s, want %s (the Lambda host creates queues at start-up)", got, want)
	}
	cfg := testConfig("/repo")
	cfg.StateDir = "/st"
	for _, s := range services() {
		if s.name != ServiceSQS {
			continue
		}
		if got := strings.Join(s.markers(cfg), " "); got != "/st/bin/sqslocal /st/sqs" {
			t.Errorf("sqs markers = %q, want the binary and the data folder", got)
		}
	}
}
