package consent

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	tel  Address = "tel:+16145550101"
	tel2 Address = "tel:+16145550102"
	mail Address = "mailto:pat@example.com"
	cust Address = "customer:C1"
)

var t0 = time.Date(2026, 4, 6, 14, 0, 0, 0, time.UTC)

func at(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }

func grant(id string, a Address, c Channel, src Source, h int) Grant {
	return Grant{ID: id, Tenant: "acme", Address: a, Channel: c, Source: src, At: at(h)}
}

func stop(id string, a Address, h int, chans ...Channel) Revoke {
	return Revoke{ID: id, Tenant: "acme", Address: a, Channels: chans, Via: ViaSMSReply, At: at(h), Text: "STOP"}
}

// expand expands events into one history, failing the test on any error.
func expand(t *testing.T, evs ...Event) []Entry {
	t.Helper()
	var out []Entry
	for _, ev := range evs {
		es, err := Expand(ev)
		if err != nil {
			t.Fatalf("Expand(%+v): %v", ev, err)
		}
		out = append(out, es...)
	}
	return out
}

type chanKind struct {
	Channel Channel
	Kind    Kind
	Implied bool
}

func TestExpand(t *testing.T) {
	tests := []struct {
		name string
		ev   Event
		addr Address
		want []chanKind
	}{
		{"grant is one entry", grant("g", tel, SMS, SourceApplication, 0), tel,
			[]chanKind{{SMS, KindGrant, false}}},
		{"SMS STOP revokes every automated channel to the number", stop("r", tel, 0, SMS), tel,
			[]chanKind{{SMS, KindRevoke, false}, {VoiceAI, KindRevoke, true}, {Prerecorded, KindRevoke, true}}},
		{"revoking voice_ai revokes sms and prerecorded too", stop("r", tel, 0, VoiceAI), tel,
			[]chanKind{{SMS, KindRevoke, true}, {VoiceAI, KindRevoke, false}, {Prerecorded, KindRevoke, true}}},
		{"a revocation naming no channel covers the automated ones", stop("r", tel, 0), tel,
			[]chanKind{{SMS, KindRevoke, false}, {VoiceAI, KindRevoke, false}, {Prerecorded, KindRevoke, false}}},
		{"revoking live voice does not spread", stop("r", tel, 0, Voice), tel,
			[]chanKind{{Voice, KindRevoke, false}}},
		{"revoking voice and sms", stop("r", tel, 0, Voice, SMS, SMS), tel,
			[]chanKind{{SMS, KindRevoke, false}, {Voice, KindRevoke, false}, {VoiceAI, KindRevoke, true}, {Prerecorded, KindRevoke, true}}},
		{"email unsubscribe is email only", stop("r", mail, 0), mail,
			[]chanKind{{Email, KindRevoke, false}}},
		{"customer-level revocation of sms spreads at customer level", stop("r", cust, 0, SMS), cust,
			[]chanKind{{SMS, KindRevoke, false}, {VoiceAI, KindRevoke, true}, {Prerecorded, KindRevoke, true}}},
		{"written cease covers every channel of the customer", Cease{ID: "c", Tenant: "acme", Customer: "C1", Written: true, At: at(0)}, cust,
			[]chanKind{{Email, KindCease, false}, {SMS, KindCease, false}, {Voice, KindCease, false},
				{VoiceAI, KindCease, false}, {Prerecorded, KindCease, false}, {Letter, KindCease, false}}},
		{"oral cease revokes the automated channels", Cease{ID: "c", Tenant: "acme", Customer: "C1", At: at(0)}, cust,
			[]chanKind{{SMS, KindRevoke, false}, {VoiceAI, KindRevoke, false}, {Prerecorded, KindRevoke, false}}},
		{"don't text me: refused sms, revoked automated calls", MediumRefused{ID: "m", Tenant: "acme", Address: tel, Channel: SMS, At: at(0)}, tel,
			[]chanKind{{SMS, KindMediumRefused, false}, {VoiceAI, KindRevoke, true}, {Prerecorded, KindRevoke, true}}},
		{"don't call this number: every call channel refused, sms revoked", MediumRefused{ID: "m", Tenant: "acme", Address: tel, Channel: Voice, At: at(0)}, tel,
			[]chanKind{{SMS, KindRevoke, true}, {Voice, KindMediumRefused, false}, {VoiceAI, KindMediumRefused, true}, {Prerecorded, KindMediumRefused, true}}},
		{"don't email me here", MediumRefused{ID: "m", Tenant: "acme", Address: mail, Channel: Email, At: at(0)}, mail,
			[]chanKind{{Email, KindMediumRefused, false}}},
		{"no letters", MediumRefused{ID: "m", Tenant: "acme", Address: cust, Channel: Letter, At: at(0)}, cust,
			[]chanKind{{Letter, KindMediumRefused, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, err := Expand(tt.ev)
			if err != nil {
				t.Fatal(err)
			}
			var got []chanKind
			for _, e := range es {
				got = append(got, chanKind{e.Channel, e.Kind, e.Implied})
				if e.Address != tt.addr || e.Event != tt.ev.Meta().ID || !e.At.Equal(tt.ev.Meta().At) {
					t.Errorf("entry %+v: want address %s, event %s, at %s", e, tt.addr, tt.ev.Meta().ID, tt.ev.Meta().At)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExpandRefusesBadEvents(t *testing.T) {
	ok := grant("g", tel, SMS, SourceDirect, 0)
	mod := func(f func(*Grant)) Grant { g := ok; f(&g); return g }
	tests := []struct {
		name    string
		ev      Event
		wantErr string
	}{
		{"nil", nil, "nil event"},
		{"no id", mod(func(g *Grant) { g.ID = "" }), "event id is empty"},
		{"id with separator", mod(func(g *Grant) { g.ID = "a#b" }), `contains '#'`},
		{"no tenant", mod(func(g *Grant) { g.Tenant = "" }), "tenant id is empty"},
		{"no time", mod(func(g *Grant) { g.At = time.Time{} }), "has no time"},
		{"year 10000", mod(func(g *Grant) { g.At = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }), "outside 1900-9999"},
		{"unnormalised address", mod(func(g *Grant) { g.Address = "6145550101" }), "not normalised"},
		{"email channel to a number", mod(func(g *Grant) { g.Channel = Email }), "channel email cannot reach tel:+16145550101"},
		{"letter to a number", mod(func(g *Grant) { g.Channel = Letter }), "channel letter cannot reach"},
		{"unknown channel", mod(func(g *Grant) { g.Channel = "fax" }), `unknown channel "fax"`},
		{"unknown source", mod(func(g *Grant) { g.Source = "guess" }), `unknown source "guess"`},
		{"bad debt id", mod(func(g *Grant) { g.Debt = "A#1" }), "debt id"},
		{"expires before given", mod(func(g *Grant) { g.Expires = g.At }), "expires at"},
		{"unknown via", Revoke{ID: "r", Tenant: "acme", Address: tel, Via: "pigeon", At: at(0)}, `unknown via "pigeon"`},
		{"sms revocation of an email address", stop("r", mail, 0, SMS), "channel sms cannot reach mailto:pat@example.com"},
		{"cease without customer", Cease{ID: "c", Tenant: "acme", Written: true, At: at(0)}, "customer id is empty"},
		{"refused medium not reaching", MediumRefused{ID: "m", Tenant: "acme", Address: mail, Channel: Voice, At: at(0)}, "cannot reach"},
	}
	for _, tt := range tests {
		_, err := Expand(tt.ev)
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: Expand error = %v, want ErrInvalid containing %q", tt.name, err, tt.wantErr)
		}
	}
}

func TestExpandClipsLongText(t *testing.T) {
	r := stop("r", tel, 0, SMS)
	r.Text = strings.Repeat("é", MaxTextBytes) + "\xff"
	es, err := Expand(r)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(es[0].Text); n > MaxTextBytes || n < MaxTextBytes-1 {
		t.Errorf("text clipped to %d bytes, want at most %d", n, MaxTextBytes)
	}
}

// want is the part of a Status the rule tests check.
type want struct {
	Consent      Value
	Cause        Kind
	Event        string
	Source       Source
	Restrictions []Kind
}

func brief(s Status) want {
	return want{s.Consent, s.Cause, s.Event, s.Source, s.Restrictions}
}

func TestStateRules(t *testing.T) {
	appSMS := grant("g-app", tel, SMS, SourceApplication, 0)
	appAI := grant("g-app-ai", tel, VoiceAI, SourceApplication, 0)
	revoked := []Kind{KindRevoke}
	tests := []struct {
		name   string
		events []Event
		addr   Address
		ch     Channel
		h      int // hours after t0 to read at
		want   want
	}{
		{"nothing recorded is unknown", nil, tel, SMS, 1, want{Consent: Unknown}},
		{"a grant grants", []Event{appSMS}, tel, SMS, 1,
			want{Granted, KindGrant, "g-app", SourceApplication, nil}},
		{"a grant on sms is not consent for voice_ai", []Event{appSMS}, tel, VoiceAI, 1, want{Consent: Unknown}},
		{"STOP revokes sms", []Event{appSMS, stop("r", tel, 2, SMS)}, tel, SMS, 2,
			want{Revoked, KindRevoke, "r", "", revoked}},
		{"STOP by text revokes voice_ai at once", []Event{appAI, stop("r", tel, 2, SMS)}, tel, VoiceAI, 2,
			want{Revoked, KindRevoke, "r", "", revoked}},
		{"STOP by text revokes prerecorded even with no grant", []Event{stop("r", tel, 2, SMS)}, tel, Prerecorded, 2,
			want{Revoked, KindRevoke, "r", "", revoked}},
		{"STOP on one number leaves another number alone", []Event{grant("g2", tel2, SMS, SourceApplication, 0), stop("r", tel, 2, SMS)}, tel2, SMS, 3,
			want{Granted, KindGrant, "g2", SourceApplication, nil}},
		{"STOP by text leaves live voice alone", []Event{grant("gv", tel, Voice, SourceApplication, 0), stop("r", tel, 2, SMS)}, tel, Voice, 3,
			want{Granted, KindGrant, "gv", SourceApplication, nil}},
		{"email unsubscribe does not touch sms", []Event{appSMS, grant("ge", mail, Email, SourceApplication, 0), stop("r", mail, 2)}, tel, SMS, 3,
			want{Granted, KindGrant, "g-app", SourceApplication, nil}},
		{"email unsubscribe revokes email", []Event{grant("ge", mail, Email, SourceApplication, 0), stop("r", mail, 2)}, mail, Email, 3,
			want{Revoked, KindRevoke, "r", "", revoked}},
		{"state before the revocation was granted", []Event{appSMS, stop("r", tel, 2, SMS)}, tel, SMS, 1,
			want{Granted, KindGrant, "g-app", SourceApplication, nil}},
		{"a later direct grant re-establishes", []Event{appSMS, stop("r", tel, 2, SMS), grant("g-dir", tel, SMS, SourceDirect, 3)}, tel, SMS, 4,
			want{Granted, KindGrant, "g-dir", SourceDirect, nil}},
		{"a later written grant re-establishes", []Event{stop("r", tel, 2, SMS), grant("g-wr", tel, SMS, SourceWritten, 3)}, tel, SMS, 4,
			want{Granted, KindGrant, "g-wr", SourceWritten, nil}},
		{"a later application record does not", []Event{stop("r", tel, 2, SMS), grant("g-app2", tel, SMS, SourceApplication, 3)}, tel, SMS, 4,
			want{Revoked, KindRevoke, "r", "", revoked}},
		{"a later import does not", []Event{stop("r", tel, 2, SMS), grant("g-imp", tel, SMS, SourceImport, 3)}, tel, SMS, 4,
			want{Revoked, KindRevoke, "r", "", revoked}},
		{"a direct grant on sms does not re-establish voice_ai", []Event{stop("r", tel, 2, SMS), grant("g-dir", tel, SMS, SourceDirect, 3)}, tel, VoiceAI, 4,
			want{Revoked, KindRevoke, "r", "", revoked}},
		{"a direct grant at the same instant loses", []Event{stop("r", tel, 2, SMS), grant("g-dir", tel, SMS, SourceDirect, 2)}, tel, SMS, 4,
			want{Revoked, KindRevoke, "r", "", revoked}},
		{"an earlier direct grant recorded late does not undo a revocation", []Event{stop("r", tel, 2, SMS), grant("g-dir", tel, SMS, SourceDirect, 1)}, tel, SMS, 4,
			want{Revoked, KindRevoke, "r", "", revoked}},
		{"an old revocation recorded late does not undo a later direct grant", []Event{grant("g-dir", tel, SMS, SourceDirect, 3), stop("r", tel, 2, SMS)}, tel, SMS, 4,
			want{Granted, KindGrant, "g-dir", SourceDirect, nil}},
		{"an old revocation recorded late still beats a later application record", []Event{grant("g-app2", tel, SMS, SourceApplication, 3), stop("r", tel, 2, SMS)}, tel, SMS, 4,
			want{Revoked, KindRevoke, "r", "", revoked}},
		{"a second STOP after a re-grant revokes again", []Event{stop("r", tel, 1, SMS), grant("g-dir", tel, SMS, SourceDirect, 2), stop("r2", tel, 3, SMS)}, tel, SMS, 4,
			want{Revoked, KindRevoke, "r2", "", revoked}},
		{"written cease covers letters", []Event{Cease{ID: "c", Tenant: "acme", Customer: "C1", Written: true, At: at(2)}}, cust, Letter, 3,
			want{Revoked, KindCease, "c", "", []Kind{KindCease}}},
		{"oral cease is not a Reg F cease", []Event{Cease{ID: "c", Tenant: "acme", Customer: "C1", At: at(2)}}, cust, Voice, 3,
			want{Consent: Unknown}},
		{"oral cease revokes automated channels", []Event{Cease{ID: "c", Tenant: "acme", Customer: "C1", At: at(2)}}, cust, VoiceAI, 3,
			want{Revoked, KindRevoke, "c", "", revoked}},
		{"refused medium and revocation both in force", []Event{MediumRefused{ID: "m", Tenant: "acme", Address: tel, Channel: Voice, At: at(1)}, stop("r", tel, 2, SMS)}, tel, VoiceAI, 3,
			want{Revoked, KindMediumRefused, "m", "", []Kind{KindMediumRefused, KindRevoke}}},
		{"refusing calls revokes sms too", []Event{appSMS, MediumRefused{ID: "m", Tenant: "acme", Address: tel, Channel: Voice, At: at(1)}}, tel, SMS, 3,
			want{Revoked, KindRevoke, "m", "", revoked}},
		{"a direct grant lifts a refused medium", []Event{MediumRefused{ID: "m", Tenant: "acme", Address: mail, Channel: Email, At: at(1)}, grant("g", mail, Email, SourceDirect, 2)}, mail, Email, 3,
			want{Granted, KindGrant, "g", SourceDirect, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := State(expand(t, tt.events...), tt.addr, tt.ch, at(tt.h))
			if diff := cmp.Diff(tt.want, brief(got)); diff != "" {
				t.Errorf("State (-want +got):\n%s\nreason: %s", diff, got.Reason)
			}
			if got.Address != tt.addr || got.Channel != tt.ch || got.Reason == "" {
				t.Errorf("State = %+v: want address %s, channel %s and a reason", got, tt.addr, tt.ch)
			}
		})
	}
}

func TestStateReasonsCite(t *testing.T) {
	tests := []struct {
		events []Event
		addr   Address
		ch     Channel
		cite   string
	}{
		{nil, tel, SMS, "47 USC 227(b)(1)(A)(iii)"},
		{[]Event{stop("r", tel, 0, SMS)}, tel, SMS, "47 CFR 64.1200(a)(10)"},
		{[]Event{stop("r", tel, 0, SMS)}, tel, VoiceAI, "FCC 24-24"},
		{[]Event{Cease{ID: "c", Tenant: "acme", Customer: "C1", Written: true, At: at(0)}}, cust, Email, "1006.6(c)"},
		{[]Event{MediumRefused{ID: "m", Tenant: "acme", Address: mail, Channel: Email, At: at(0)}}, mail, Email, "1006.14(h)"},
	}
	for _, tt := range tests {
		got := State(expand(t, tt.events...), tt.addr, tt.ch, at(1))
		if !strings.Contains(got.Reason, tt.cite) {
			t.Errorf("%s on %s: reason %q does not cite %s", tt.ch, tt.addr, got.Reason, tt.cite)
		}
	}
}

func TestStateExpiry(t *testing.T) {
	g := grant("g", tel, SMS, SourceDirect, 0)
	g.Expires = at(24)
	hist := expand(t, g)
	tests := []struct {
		h       int
		consent Value
		expires time.Time
	}{
		{-1, Unknown, time.Time{}}, // not given yet
		{0, Granted, at(24)},
		{23, Granted, at(24)},
		{24, Unknown, time.Time{}}, // expiry ends the grant at that instant
		{100, Unknown, time.Time{}},
	}
	for _, tt := range tests {
		got := State(hist, tel, SMS, at(tt.h))
		if got.Consent != tt.consent || !got.Expires.Equal(tt.expires) {
			t.Errorf("at +%dh: %s until %s, want %s until %s (%s)", tt.h, got.Consent, got.Expires, tt.consent, tt.expires, got.Reason)
		}
	}
	if got := State(hist, tel, SMS, at(30)); !strings.Contains(got.Reason, "expired") || !got.Since.Equal(at(24)) {
		t.Errorf("after expiry: since %s, reason %q", got.Since, got.Reason)
	}
	// A grant without expiry given later outlasts the expiring one.
	hist2 := expand(t, g, grant("g2", tel, SMS, SourceApplication, 1))
	if got := State(hist2, tel, SMS, at(30)); got.Consent != Granted || got.Event != "g2" || !got.Expires.IsZero() {
		t.Errorf("with a lasting grant: %+v", got)
	}
	// A snapshot read later than it was folded still expires (what the
	// store does with STATE items).
	if got := Fold(hist, tel, SMS).Status(at(25)); got.Consent != Unknown {
		t.Errorf("stored snapshot read after expiry: %s", got.Consent)
	}
}

func TestStateDebtScope(t *testing.T) {
	a := grant("ga", tel, Voice, SourceApplication, 0)
	a.Debt = "A"
	b := grant("gb", tel, Voice, SourceDirect, 1)
	b.Debt = "B"
	all := grant("gall", tel, Voice, SourceWritten, 2)
	tests := []struct {
		name  string
		evs   []Event
		debts []string
		allow map[string]bool
	}{
		{"one debt", []Event{a}, []string{"A"}, map[string]bool{"A": true, "B": false, "": false}},
		{"two debts", []Event{b, a}, []string{"A", "B"}, map[string]bool{"A": true, "B": true, "C": false}},
		{"an unscoped grant covers all", []Event{a, all}, nil, map[string]bool{"A": true, "C": true, "": true}},
	}
	for _, tt := range tests {
		got := State(expand(t, tt.evs...), tel, Voice, at(5))
		if diff := cmp.Diff(tt.debts, got.Debts); diff != "" {
			t.Errorf("%s: debts (-want +got):\n%s", tt.name, diff)
		}
		for debt, ok := range tt.allow {
			if got.Allows(debt) != ok {
				t.Errorf("%s: Allows(%q) = %v, want %v", tt.name, debt, !ok, ok)
			}
		}
	}
}

// TestStateIgnoresInsertionOrder folds every permutation of one history and
// expects one answer: the ledger orders by when things happened.
func TestStateIgnoresInsertionOrder(t *testing.T) {
	hist := expand(t,
		grant("g1", tel, SMS, SourceApplication, 0),
		stop("r1", tel, 2, VoiceAI),
		grant("g2", tel, SMS, SourceImport, 3),
		grant("g3", tel, SMS, SourceDirect, 4),
		stop("r2", tel, 4, SMS), // same instant as g3: the revocation wins
		grant("g4", tel, SMS, SourceWritten, 6),
	)
	// Only the sms entries matter to sms; keep 6 of them (720 orders).
	var smsOnly []Entry
	for _, e := range hist {
		if e.Channel == SMS {
			smsOnly = append(smsOnly, e)
		}
	}
	hist = smsOnly
	reads := []int{1, 2, 3, 4, 5, 6, 7}
	wantAt := map[int]want{}
	for _, h := range reads {
		wantAt[h] = brief(State(hist, tel, SMS, at(h)))
	}
	if wantAt[1].Consent != Granted || wantAt[3].Consent != Revoked || wantAt[5].Consent != Revoked ||
		wantAt[7].Consent != Granted || wantAt[7].Event != "g4" {
		t.Fatalf("unexpected states over time: %+v", wantAt)
	}
	n := 0
	permute(hist, 0, func(p []Entry) {
		n++
		for _, h := range reads {
			if got := brief(State(p, tel, SMS, at(h))); !cmp.Equal(wantAt[h], got) {
				t.Fatalf("order %v at +%dh: %+v, want %+v", events(p), h, got, wantAt[h])
			}
		}
	})
	if n == 0 {
		t.Fatal("no permutations tried")
	}
}

func events(es []Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, fmt.Sprintf("%s/%s", e.Event, e.Channel))
	}
	return out
}

// permute calls f with every permutation of es[k:] (Heap's algorithm would
// do; this is the simple recursive swap).
func permute(es []Entry, k int, f func([]Entry)) {
	if k == len(es) {
		f(es)
		return
	}
	for i := k; i < len(es); i++ {
		es[k], es[i] = es[i], es[k]
		permute(es, k+1, f)
		es[k], es[i] = es[i], es[k]
	}
}

func TestStateCountsAnEventOnce(t *testing.T) {
	g := grant("g", tel, SMS, SourceApplication, 0)
	r := stop("r", tel, 1, SMS)
	once := expand(t, g, r)
	twice := expand(t, g, r, r, g)
	// A re-delivered event keeps its id: even with a later time it is the
	// same event, not a second one.
	late := r
	late.At = at(5)
	redelivered := append(expand(t, g, r), expand(t, late)...)
	want := State(once, tel, SMS, at(6))
	for name, hist := range map[string][]Entry{"twice": twice, "redelivered later": redelivered} {
		got := State(hist, tel, SMS, at(6))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-once +%s):\n%s", name, name, diff)
		}
	}
	if want.Version != 2 {
		t.Errorf("version %d, want 2 (one grant, one revocation)", want.Version)
	}
}

func TestEffective(t *testing.T) {
	written := Cease{ID: "c", Tenant: "acme", Customer: "C1", Written: true, At: at(2)}
	tests := []struct {
		name   string
		events []Event
		ch     Channel
		want   Value
		cause  Kind
		from   Address
	}{
		{"number consent stands without a customer-level restriction", []Event{grant("g", tel, SMS, SourceDirect, 0)}, SMS, Granted, KindGrant, tel},
		{"written cease overrides the number's consent", []Event{grant("g", tel, SMS, SourceDirect, 0), written}, SMS, Revoked, KindCease, cust},
		{"written cease covers live calls", []Event{grant("g", tel, Voice, SourceDirect, 0), written}, Voice, Revoked, KindCease, cust},
		{"a grant on the number after the cease does not lift it", []Event{written, grant("g", tel, SMS, SourceDirect, 3)}, SMS, Revoked, KindCease, cust},
		{"a customer-level written grant lifts the cease", []Event{written, grant("g", tel, SMS, SourceDirect, 3), grant("gc", cust, SMS, SourceWritten, 3)}, SMS, Granted, KindGrant, tel},
		{"a customer-level grant alone is no consent for the number", []Event{grant("gc", cust, SMS, SourceWritten, 0)}, SMS, Unknown, "", tel},
	}
	for _, tt := range tests {
		hist := expand(t, tt.events...)
		got := Effective(State(hist, tel, tt.ch, at(4)), State(hist, cust, tt.ch, at(4)))
		if got.Consent != tt.want || got.Cause != tt.cause || got.Address != tt.from {
			t.Errorf("%s: %s (%s) from %s, want %s (%s) from %s; %s", tt.name, got.Consent, got.Cause, got.Address,
				tt.want, tt.cause, tt.from, got.Reason)
		}
	}
	// Restrictions of both levels are reported.
	hist := expand(t, stop("r", tel, 1, SMS), written)
	got := Effective(State(hist, tel, SMS, at(4)), State(hist, cust, SMS, at(4)))
	if diff := cmp.Diff([]Kind{KindCease, KindRevoke}, got.Restrictions); diff != "" {
		t.Errorf("restrictions (-want +got):\n%s", diff)
	}
}

func TestRestricts(t *testing.T) {
	tests := []struct {
		name string
		ev   Event
		want bool
	}{
		{"a grant", grant("g", tel, SMS, SourceApplication, 0), false},
		{"SMS STOP", stop("r", tel, 0, SMS), true},
		{"email unsubscribe", stop("r", mail, 0), true},
		{"written cease", Cease{ID: "c", Tenant: "acme", Customer: "C1", Written: true, At: at(0)}, true},
		{"refused medium", MediumRefused{ID: "m", Tenant: "acme", Address: mail, Channel: Email, At: at(0)}, true},
		{"an event that does not expand", Cease{ID: "", Tenant: "acme", Customer: "C1", At: at(0)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Restricts(tt.ev); got != tt.want {
				t.Errorf("Restricts = %v, want %v", got, tt.want)
			}
		})
	}
}
