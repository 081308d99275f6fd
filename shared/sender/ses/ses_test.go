package ses_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/recoup-dev/recoup/infra/local/outbox"
	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/sender"
	"github.com/recoup-dev/recoup/shared/sender/ses"
	"github.com/recoup-dev/recoup/shared/webhooks"
)

// fake starts the outbox server and an SES sender pointed at it, built as
// production builds it (NewClient) but with short retry backoffs.
func fake(t *testing.T) (*outbox.Server, *ses.Sender) {
	t.Helper()
	srv, err := outbox.New(outbox.Options{Path: filepath.Join(t.TempDir(), "outbox.jsonl"), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	client := ses.NewClient(cfg, func(o *sesv2.Options) {
		o.BaseEndpoint = aws.String(hs.URL)
		o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, time.Millisecond)
	})
	s, err := ses.New(client, ses.Options{From: "billing@acme.example", ConfigurationSet: "recoup-events"})
	if err != nil {
		t.Fatal(err)
	}
	return srv, s
}

func entries(t *testing.T, srv *outbox.Server) []outbox.Entry {
	t.Helper()
	es, err := outbox.Read(srv.Path())
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func message() sender.Message {
	return sender.Message{Tenant: "acme", Customer: "C 17/ü", AttemptID: "att-1", Debt: "INV-9", Channel: compliance.ChannelEmail,
		To: "pat@example.com", Content: sender.Content{Subject: "Invoice INV-9 is overdue", Text: "Dear Pat,\nplease pay.", HTML: "<p>Dear Pat</p>"}}
}

func TestSendRecordsTheEmailWithItsCorrelationTags(t *testing.T) {
	srv, s := fake(t)
	rc, err := s.Send(context.Background(), message())
	if err != nil {
		t.Fatal(err)
	}
	es := entries(t, srv)
	if len(es) != 1 {
		t.Fatalf("outbox holds %d entries, want 1", len(es))
	}
	if rc.Provider != sender.ProviderSES || rc.ProviderID != es[0].ProviderID || rc.At.IsZero() {
		t.Errorf("receipt %+v, outbox id %s", rc, es[0].ProviderID)
	}
	want := outbox.Entry{Service: "ses", Channel: "email", Tenant: "acme", Customer: "C 17/ü", Attempt: "att-1", Debt: "INV-9",
		To: []string{"pat@example.com"}, From: "billing@acme.example", Subject: "Invoice INV-9 is overdue",
		Text: "Dear Pat,\nplease pay.", HTML: "<p>Dear Pat</p>", ConfigurationSet: "recoup-events"}
	if diff := cmp.Diff(want, es[0], cmpopts.IgnoreFields(outbox.Entry{}, "Time", "ProviderID", "Tags")); diff != "" {
		t.Errorf("outbox entry (-want +got):\n%s", diff)
	}
	// The webhook reads these tags back from SES events.
	corr, err := webhooks.ReadCorrelation(func(k string) (string, bool) { v, ok := es[0].Tags[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(webhooks.Correlation{Tenant: "acme", Customer: "C 17/ü", Debt: "INV-9", Attempt: "att-1"}, corr); diff != "" {
		t.Errorf("correlation (-want +got):\n%s", diff)
	}
}

func TestSendClassifiesProviderErrors(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(*outbox.Server)
		class   sender.Class
		code    string
		entries int
	}{
		{"a refused address is permanent", func(s *outbox.Server) { s.Reject("PAT@example.com") }, sender.ClassPermanent, "MessageRejected", 0},
		{"one throttle is retried by the SDK", func(s *outbox.Server) { s.Inject(outbox.ServiceSES, outbox.FaultThrottle, 1) }, 0, "", 1},
		{"throttling that lasts is transient", func(s *outbox.Server) { s.Inject(outbox.ServiceSES, outbox.FaultThrottle, 5) },
			sender.ClassTransient, "TooManyRequestsException", 0},
		{"a lasting 500 is transient", func(s *outbox.Server) { s.Inject(outbox.ServiceSES, outbox.FaultInternal, 5) },
			sender.ClassTransient, "InternalServiceErrorException", 0},
		// SES may have sent: the SDK must not retry, or the e-mail goes twice.
		{"a lost answer is in doubt and not retried", func(s *outbox.Server) { s.Inject(outbox.ServiceSES, outbox.FaultDrop, 1) },
			sender.ClassInDoubt, "NoAnswer", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, s := fake(t)
			tc.setup(srv)
			_, err := s.Send(context.Background(), message())
			if tc.class == 0 {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
			} else {
				var pe *sender.ProviderError
				if !errors.As(err, &pe) || pe.Class != tc.class || pe.Code != tc.code {
					t.Fatalf("Send error %v, want %s %s", err, tc.class, tc.code)
				}
			}
			if n := len(entries(t, srv)); n != tc.entries {
				t.Errorf("outbox holds %d entries, want %d", n, tc.entries)
			}
		})
	}
}

func TestSendRefusesIncompleteMessages(t *testing.T) {
	srv, s := fake(t)
	for name, edit := range map[string]func(*sender.Message){
		"no subject":    func(m *sender.Message) { m.Content.Subject = "" },
		"no body":       func(m *sender.Message) { m.Content.Text, m.Content.HTML = "", "" },
		"not an e-mail": func(m *sender.Message) { m.Channel = compliance.ChannelSMS },
	} {
		m := message()
		edit(&m)
		_, err := s.Send(context.Background(), m)
		if sender.ClassOf(err) != sender.ClassPermanent {
			t.Errorf("%s: %v, want a permanent error", name, err)
		}
	}
	if n := len(entries(t, srv)); n != 0 {
		t.Errorf("outbox holds %d entries", n)
	}
	if _, err := ses.New(nil, ses.Options{From: "a@b.c"}); err == nil {
		t.Error("New accepted a nil client")
	}
	if _, err := ses.New(sesv2.New(sesv2.Options{}), ses.Options{}); err == nil {
		t.Error("New accepted no From address")
	}
}
