package sms_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/pinpointsmsvoicev2"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/recoup-dev/recoup/infra/local/outbox"
	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/sender"
	"github.com/recoup-dev/recoup/shared/sender/sms"
	"github.com/recoup-dev/recoup/shared/webhooks"
)

func fake(t *testing.T) (*outbox.Server, *sms.Sender) {
	t.Helper()
	srv, err := outbox.New(outbox.Options{Path: filepath.Join(t.TempDir(), "outbox.jsonl"), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	client := sms.NewClient(cfg, func(o *pinpointsmsvoicev2.Options) {
		o.BaseEndpoint = aws.String(hs.URL)
		o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, time.Millisecond)
	})
	s, err := sms.New(client, sms.Options{OriginationIdentity: "+16175550100", ConfigurationSet: "recoup-sms"})
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
	return sender.Message{Tenant: "acme", Customer: "C4", AttemptID: "att-2", Channel: compliance.ChannelSMS,
		To: "+16175550142", Content: sender.Content{Text: "Invoice INV-9 is overdue. Reply STOP to opt out."}}
}

func TestSendRecordsTheTextWithItsContext(t *testing.T) {
	srv, s := fake(t)
	rc, err := s.Send(context.Background(), message())
	if err != nil {
		t.Fatal(err)
	}
	es := entries(t, srv)
	if len(es) != 1 || rc.Provider != sender.ProviderSMS || rc.ProviderID != es[0].ProviderID {
		t.Fatalf("receipt %+v, outbox %+v", rc, es)
	}
	want := outbox.Entry{Service: "sms-voice", Channel: "sms", Tenant: "acme", Customer: "C4", Attempt: "att-2",
		To: []string{"+16175550142"}, From: "+16175550100", Text: message().Content.Text, ConfigurationSet: "recoup-sms",
		Tags: map[string]string{webhooks.KeyTenant: "acme", webhooks.KeyCustomer: "C4", webhooks.KeyAttempt: "att-2"}}
	if diff := cmp.Diff(want, es[0], cmpopts.IgnoreFields(outbox.Entry{}, "Time", "ProviderID")); diff != "" {
		t.Errorf("outbox entry (-want +got):\n%s", diff)
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
		{"opted out at the provider is permanent", func(s *outbox.Server) { s.Reject("+16175550142") }, sender.ClassPermanent, "ConflictException", 0},
		{"one throttle is retried by the SDK", func(s *outbox.Server) { s.Inject(outbox.ServiceSMS, outbox.FaultThrottle, 1) }, 0, "", 1},
		{"throttling that lasts is transient", func(s *outbox.Server) { s.Inject(outbox.ServiceSMS, outbox.FaultThrottle, 5) },
			sender.ClassTransient, "ThrottlingException", 0},
		{"a lasting 500 is transient", func(s *outbox.Server) { s.Inject(outbox.ServiceSMS, outbox.FaultInternal, 5) },
			sender.ClassTransient, "InternalServerException", 0},
		{"a lost answer is in doubt and not retried", func(s *outbox.Server) { s.Inject(outbox.ServiceSMS, outbox.FaultDrop, 1) },
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
		"no body":     func(m *sender.Message) { m.Content.Text = "" },
		"too long":    func(m *sender.Message) { m.Content.Text = strings.Repeat("x", sms.MaxBody+1) },
		"not a text":  func(m *sender.Message) { m.Channel = compliance.ChannelEmail },
		"bad number":  func(m *sender.Message) { m.To = "617-555" },
		"not E.164 +": func(m *sender.Message) { m.To = "16175550142" },
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
}
