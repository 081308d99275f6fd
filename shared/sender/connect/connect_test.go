package connect_test

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
	awsconnect "github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/recoup-dev/recoup/infra/local/outbox"
	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/sender"
	"github.com/recoup-dev/recoup/shared/sender/connect"
	"github.com/recoup-dev/recoup/shared/webhooks"
)

func fake(t *testing.T) (*outbox.Server, *connect.Sender) {
	t.Helper()
	srv, err := outbox.New(outbox.Options{Path: filepath.Join(t.TempDir(), "outbox.jsonl"), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	client := connect.NewClient(cfg, func(o *awsconnect.Options) {
		o.BaseEndpoint = aws.String(hs.URL)
		o.Retryer = retry.AddWithMaxBackoffDelay(retry.NewStandard(), time.Millisecond)
	})
	s, err := connect.New(client, connect.Options{InstanceID: "inst-1", SourcePhoneNumber: "+16175550100",
		Flows: map[compliance.Channel]string{compliance.ChannelCall: "flow-agent", compliance.ChannelAIVoice: "flow-ai"}})
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
	return sender.Message{Tenant: "acme", Customer: "C4", AttemptID: "att-3", Debt: "INV-9", Channel: compliance.ChannelAIVoice,
		To: "+16175550142", Content: sender.Content{Script: "Remind Pat that INV-9 is 30 days overdue.\nOffer a plan."}}
}

func TestSendPlacesTheCallAndTagsTheContact(t *testing.T) {
	srv, s := fake(t)
	rc, err := s.Send(context.Background(), message())
	if err != nil {
		t.Fatal(err)
	}
	es := entries(t, srv)
	if len(es) != 1 || rc.Provider != sender.ProviderConnect || rc.ProviderID != es[0].ProviderID {
		t.Fatalf("receipt %+v, outbox %+v", rc, es)
	}
	want := outbox.Entry{Service: "connect", Channel: "voice_ai", Tenant: "acme", Customer: "C4", Attempt: "att-3", Debt: "INV-9",
		To: []string{"+16175550142"}, From: "+16175550100", Script: message().Content.Script, Instance: "inst-1", Flow: "flow-ai"}
	if diff := cmp.Diff(want, es[0], cmpopts.IgnoreFields(outbox.Entry{}, "Time", "ProviderID", "Tags")); diff != "" {
		t.Errorf("outbox entry (-want +got):\n%s", diff)
	}
	// The Connect webhook reads the contact's tags, including the number
	// dialled and the consent channel.
	tags := srv.ContactTags(rc.ProviderID)
	get := func(k string) string {
		v, err := webhooks.DecodeValue(tags[k])
		if err != nil {
			t.Fatalf("tag %s: %v", k, err)
		}
		return v
	}
	got := map[string]string{}
	for _, k := range []string{webhooks.KeyTenant, webhooks.KeyCustomer, webhooks.KeyAttempt, webhooks.KeyDebt, webhooks.KeyTo, webhooks.KeyChannel} {
		got[k] = get(k)
	}
	wantTags := map[string]string{webhooks.KeyTenant: "acme", webhooks.KeyCustomer: "C4", webhooks.KeyAttempt: "att-3",
		webhooks.KeyDebt: "INV-9", webhooks.KeyTo: "+16175550142", webhooks.KeyChannel: "voice_ai"}
	if diff := cmp.Diff(wantTags, got); diff != "" {
		t.Errorf("contact tags (-want +got):\n%s", diff)
	}
}

// TestSendAgainGetsTheSameContact: the ClientToken makes a repeated call
// (a retried task, a lost answer the SDK retried) one contact.
func TestSendAgainGetsTheSameContact(t *testing.T) {
	srv, s := fake(t)
	first, err := s.Send(context.Background(), message())
	if err != nil {
		t.Fatal(err)
	}
	srv.Inject(outbox.ServiceConnect, outbox.FaultDrop, 1)
	m := message()
	m.AttemptID = "att-4"
	second, err := s.Send(context.Background(), m) // answer dropped, SDK retries with the same token
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.Send(context.Background(), message())
	if err != nil {
		t.Fatal(err)
	}
	if again.ProviderID != first.ProviderID || second.ProviderID == first.ProviderID {
		t.Errorf("contacts %s, %s, %s: want the first and third equal, the second new", first.ProviderID, second.ProviderID, again.ProviderID)
	}
	if n := len(entries(t, srv)); n != 2 {
		t.Errorf("outbox holds %d calls, want 2", n)
	}
}

func TestSendClassifiesProviderErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*outbox.Server)
		class sender.Class
		code  string
	}{
		{"a destination Connect will not call is permanent", func(s *outbox.Server) { s.Reject("+16175550142") },
			sender.ClassPermanent, "DestinationNotAllowedException"},
		{"too many calls at once is transient", func(s *outbox.Server) { s.Inject(outbox.ServiceConnect, outbox.FaultThrottle, 5) },
			sender.ClassTransient, "LimitExceededException"},
		{"a lasting 500 is transient", func(s *outbox.Server) { s.Inject(outbox.ServiceConnect, outbox.FaultInternal, 5) },
			sender.ClassTransient, "InternalServiceException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, s := fake(t)
			tc.setup(srv)
			_, err := s.Send(context.Background(), message())
			var pe *sender.ProviderError
			if !errors.As(err, &pe) || pe.Class != tc.class || pe.Code != tc.code {
				t.Fatalf("Send error %v, want %s %s", err, tc.class, tc.code)
			}
			if n := len(entries(t, srv)); n != 0 {
				t.Errorf("outbox holds %d calls", n)
			}
		})
	}
}

func TestSendRefusesAChannelWithNoFlow(t *testing.T) {
	srv, s := fake(t)
	m := message()
	m.Channel = compliance.ChannelPrerecorded
	if _, err := s.Send(context.Background(), m); sender.ClassOf(err) != sender.ClassPermanent {
		t.Fatalf("Send: %v, want a permanent error", err)
	}
	if n := len(entries(t, srv)); n != 0 {
		t.Errorf("outbox holds %d calls", n)
	}
}

func TestClientToken(t *testing.T) {
	a := connect.ClientToken("acme", "att-1")
	if len(a) != 64 || a != connect.ClientToken("acme", "att-1") {
		t.Errorf("token %q is not a stable 64-digit digest", a)
	}
	// Attempt ids are unique per tenant only; one instance may serve many.
	if a == connect.ClientToken("globex", "att-1") || a == connect.ClientToken("acme", "att-2") {
		t.Error("tokens collide across tenants or attempts")
	}
}

func TestNewRefusesIncompleteOptions(t *testing.T) {
	c := awsconnect.New(awsconnect.Options{})
	flows := map[compliance.Channel]string{compliance.ChannelCall: "f"}
	for name, o := range map[string]connect.Options{
		"no instance":        {Flows: flows, SourcePhoneNumber: "+16175550100"},
		"no flows":           {InstanceID: "i", SourcePhoneNumber: "+16175550100"},
		"no caller or queue": {InstanceID: "i", Flows: flows},
	} {
		if _, err := connect.New(c, o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
