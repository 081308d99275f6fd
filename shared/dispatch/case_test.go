package dispatch

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/consent"
)

func TestConsentEvents(t *testing.T) {
	since := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	sms := compliance.Attempt{Channel: compliance.ChannelSMS, To: "+16175550142", Debt: "A"}
	tests := []struct {
		name string
		st   consent.Status
		want []compliance.EventKind
	}{
		{"nothing recorded", consent.Status{Consent: consent.Unknown}, nil},
		{"granted", consent.Status{Consent: consent.Granted, Source: consent.SourceDirect, Since: since}, []compliance.EventKind{compliance.EventConsentGiven}},
		{"granted for another debt only", consent.Status{Consent: consent.Granted, Debts: []string{"B"}, Since: since}, nil},
		{"revoked", consent.Status{Consent: consent.Revoked, Restrictions: []consent.Kind{consent.KindRevoke}, Since: since},
			[]compliance.EventKind{compliance.EventConsentRevoked}},
		{"written cease and refused medium", consent.Status{Consent: consent.Revoked, Since: since,
			Restrictions: []consent.Kind{consent.KindCease, consent.KindMediumRefused}},
			[]compliance.EventKind{compliance.EventCeaseRequest, compliance.EventMediumRefused}},
	}
	for _, tt := range tests {
		var got []compliance.EventKind
		for _, ev := range consentEvents(tt.st, sms) {
			got = append(got, ev.Kind)
			if !ev.At.Equal(since) {
				t.Errorf("%s: event at %v, want the state's since %v", tt.name, ev.At, since)
			}
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestConsentSourceNeverInventsDirectConsent(t *testing.T) {
	for src, want := range map[consent.Source]compliance.ConsentSource{
		consent.SourceDirect: compliance.ConsentDirect, consent.SourceWritten: compliance.ConsentWritten,
		consent.SourceApplication: compliance.ConsentApplication, consent.SourceImport: compliance.ConsentApplication,
	} {
		if got := consentSource(src); got != want {
			t.Errorf("consentSource(%s) = %s, want %s", src, got, want)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := Request{Tenant: "acme", AttemptID: "a1", Customer: "C1",
		Attempt: compliance.Attempt{At: time.Now(), Channel: compliance.ChannelEmail}}
	bad := func(f func(*Request)) Request { r := ok; f(&r); return r }
	tests := []struct {
		name string
		req  Request
		ok   bool
	}{
		{"complete", ok, true},
		{"credit report has no consent channel but is known", bad(func(r *Request) { r.Attempt.Channel = compliance.ChannelCreditReport }), true},
		{"no tenant", bad(func(r *Request) { r.Tenant = "" }), false},
		{"no attempt id", bad(func(r *Request) { r.AttemptID = "" }), false},
		{"id with separator", bad(func(r *Request) { r.AttemptID = "a#1" }), false},
		{"no customer", bad(func(r *Request) { r.Customer = "" }), false},
		{"no time", bad(func(r *Request) { r.Attempt.At = time.Time{} }), false},
		{"unknown channel", bad(func(r *Request) { r.Attempt.Channel = "pigeon" }), false},
	}
	for _, tt := range tests {
		err := validate(tt.req)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("%s: validate = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func TestNewRefusesMissingDependencies(t *testing.T) {
	if _, err := New(nil, nil, nil, nil); err == nil {
		t.Error("New accepted nil dependencies")
	}
}
