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
	number, _ := consent.NormalisePhone("+16175550142")
	cust, _ := consent.CustomerAddress("C1")
	sms := compliance.Attempt{Channel: compliance.ChannelSMS, To: "+16175550142", Debt: "A"}
	ev := func(kind compliance.EventKind) compliance.Event {
		e := compliance.Event{Kind: kind, At: since}
		switch kind {
		case compliance.EventConsentRevoked:
			e.From, e.Via = sms.To, "recorded"
		case compliance.EventMediumRefused:
			e.Channel, e.To = sms.Channel, sms.To
		case compliance.EventCeaseRequest:
			e.Written = true
		}
		return e
	}
	given := func(src compliance.ConsentSource) compliance.Event {
		return compliance.Event{Kind: compliance.EventConsentGiven, At: since, Channel: sms.Channel, To: sms.To, Source: src, Debt: "A"}
	}
	tests := []struct {
		name string
		st   consent.Status
		want []compliance.Event
	}{
		{"nothing recorded", consent.Status{Address: number, Consent: consent.Unknown}, nil},
		{"granted directly", consent.Status{Address: number, Consent: consent.Granted, Source: consent.SourceDirect, Since: since},
			[]compliance.Event{given(compliance.ConsentDirect)}},
		{"granted by import: application, not direct", consent.Status{Address: number, Consent: consent.Granted, Source: consent.SourceImport, Since: since},
			[]compliance.Event{given(compliance.ConsentApplication)}},
		{"direct but limited to debts: not assumed direct", consent.Status{Address: number, Consent: consent.Granted,
			Source: consent.SourceDirect, Debts: []string{"A", "B"}, Since: since}, []compliance.Event{given(compliance.ConsentApplication)}},
		{"granted for another debt only", consent.Status{Address: number, Consent: consent.Granted, Debts: []string{"B"}, Since: since}, nil},
		{"a customer-level grant is no consent for a number", consent.Status{Address: cust, Consent: consent.Granted,
			Source: consent.SourceDirect, Since: since}, nil},
		{"revoked: TCPA revocation and a refused medium", consent.Status{Address: number, Consent: consent.Revoked,
			Restrictions: []consent.Kind{consent.KindRevoke}, Since: since},
			[]compliance.Event{ev(compliance.EventConsentRevoked), ev(compliance.EventMediumRefused)}},
		{"written cease at the customer and a refused medium", consent.Status{Address: cust, Consent: consent.Revoked, Since: since,
			Restrictions: []consent.Kind{consent.KindCease, consent.KindMediumRefused}},
			[]compliance.Event{ev(compliance.EventCeaseRequest), ev(compliance.EventMediumRefused)}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, consentEvents(tt.st, sms)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestWithDirectConsentLastsSevenDays(t *testing.T) {
	at := time.Date(2026, 4, 14, 15, 0, 0, 0, time.UTC)
	number, _ := consent.NormalisePhone("+16175550142")
	call := compliance.Attempt{At: at, Channel: compliance.ChannelCall, To: "+16175550142", Debt: "A"}
	granted := func(ago time.Duration) []consent.Status {
		return []consent.Status{{Address: number, Consent: consent.Granted, Source: consent.SourceDirect, Since: at.Add(-ago)}}
	}
	tests := []struct {
		name   string
		states []consent.Status
		want   bool
	}{
		{"given yesterday", granted(24 * time.Hour), true},
		{"given 6 days 23 hours ago", granted(7*24*time.Hour - time.Hour), true},
		{"given 8 days ago", granted(8 * 24 * time.Hour), false},
		{"given after the attempt", granted(-time.Hour), false},
		{"no consent", nil, false},
	}
	for _, tt := range tests {
		if got := withDirectConsent(tt.states, call); got != tt.want {
			t.Errorf("%s: withDirectConsent = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestConsentSourceNeverInventsDirectConsent(t *testing.T) {
	for src, want := range map[consent.Source]compliance.ConsentSource{
		consent.SourceDirect: compliance.ConsentDirect, consent.SourceWritten: compliance.ConsentWritten,
		consent.SourceApplication: compliance.ConsentApplication, consent.SourceImport: compliance.ConsentApplication,
	} {
		if got := consentSource(consent.Status{Source: src}); got != want {
			t.Errorf("consentSource(%s) = %s, want %s", src, got, want)
		}
	}
}

func TestValidate(t *testing.T) {
	now := time.Date(2026, 4, 14, 15, 0, 0, 0, time.UTC)
	g := &Gate{Now: func() time.Time { return now }, MaxSkew: 5 * time.Minute}
	ok := Request{Tenant: "acme", AttemptID: "a1", Customer: "C1", Debts: []compliance.Debt{{ID: "A"}},
		Consumer: compliance.Consumer{Phones: []compliance.Phone{{Number: "(617) 555-0142"}}},
		Attempt:  compliance.Attempt{At: now, Channel: compliance.ChannelSMS, Debt: "A", To: "617-555-0142"}}
	bad := func(f func(*Request)) Request { r := ok; f(&r); return r }
	tests := []struct {
		name string
		req  Request
		ok   bool
	}{
		{"complete", ok, true},
		{"credit report has no consent channel but is known", bad(func(r *Request) { r.Attempt.Channel = compliance.ChannelCreditReport; r.Attempt.To = "" }), true},
		{"no tenant", bad(func(r *Request) { r.Tenant = "" }), false},
		{"no attempt id", bad(func(r *Request) { r.AttemptID = "" }), false},
		{"id with separator", bad(func(r *Request) { r.AttemptID = "a#1" }), false},
		{"no customer", bad(func(r *Request) { r.Customer = "" }), false},
		{"no time", bad(func(r *Request) { r.Attempt.At = time.Time{} }), false},
		{"backdated an hour", bad(func(r *Request) { r.Attempt.At = now.Add(-time.Hour) }), false},
		{"dated tomorrow", bad(func(r *Request) { r.Attempt.At = now.Add(24 * time.Hour) }), false},
		{"unknown channel", bad(func(r *Request) { r.Attempt.Channel = "pigeon" }), false},
		{"a debt not in the request", bad(func(r *Request) { r.Attempt.Debt = "Z" }), false},
		{"a number that is not one", bad(func(r *Request) { r.Attempt.To = "12" }), false},
		{"a sender vouching for consent", bad(func(r *Request) {
			r.Events = []compliance.Event{{Kind: compliance.EventConsentGiven, At: now}}
		}), false},
		{"a sender passing attempts", bad(func(r *Request) { r.Events = []compliance.Event{{Kind: compliance.EventAttempt, At: now}} }), false},
		{"a dispute from the ledger is fine", bad(func(r *Request) { r.Events = []compliance.Event{{Kind: compliance.EventDispute, At: now, Debt: "A"}} }), true},
	}
	for _, tt := range tests {
		req := tt.req
		err := g.validate(&req)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("%s: validate = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
	req := ok
	if err := g.validate(&req); err != nil {
		t.Fatal(err)
	}
	if req.Attempt.To != "+16175550142" || req.Consumer.Phones[0].Number != "+16175550142" {
		t.Errorf("numbers not put in E.164: to %q, phone %q", req.Attempt.To, req.Consumer.Phones[0].Number)
	}
	if ok.Consumer.Phones[0].Number != "(617) 555-0142" {
		t.Error("validate changed the caller's phone slice")
	}
}

func TestNewRefusesMissingDependencies(t *testing.T) {
	if _, err := New(nil, nil, nil, nil); err == nil {
		t.Error("New accepted nil dependencies")
	}
}

// A planned contact's engine channel maps back to the consent channel it
// was planned on, for every channel a plan makes.
func TestAttemptChannelRoundTrip(t *testing.T) {
	for _, ch := range []consent.Channel{consent.Email, consent.SMS, consent.Voice, consent.VoiceAI, consent.Letter} {
		a := AttemptChannel(ch)
		if a == "" || ConsentChannel(a) != ch {
			t.Errorf("%s: engine channel %q maps back to %q", ch, a, ConsentChannel(a))
		}
	}
	if got := AttemptChannel(consent.Prerecorded); got != "" {
		t.Errorf("prerecorded: %q, want none (no plan makes it)", got)
	}
}
