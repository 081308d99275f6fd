package consent

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/recoup-dev/recoup/shared/ledger"
)

// Event is something a person did or said about being contacted: Grant,
// Revoke, Cease or MediumRefused. Every event carries an ID, the caller's
// idempotency key (for instance the engagement event that carried the
// STOP), so recording the same event twice changes nothing, and a Tenant.
type Event interface {
	// Meta returns the event's id, tenant and time.
	Meta() Meta
	expand() ([]Entry, error)
}

// Meta is what every event carries.
type Meta struct {
	ID     string
	Tenant ledger.TenantID
	At     time.Time
}

// Grant records consent to contact Address on Channel.
type Grant struct {
	ID      string
	Tenant  ledger.TenantID
	Address Address
	Channel Channel
	Source  Source
	At      time.Time
	Debt    string    // optional: consent given for this debt only
	Expires time.Time // optional: zero = no expiry
}

// Revoke records that the person withdrew consent, by any reasonable means
// (47 CFR 64.1200(a)(10)). Channels lists the channels the person named;
// empty means the ones the address can reach by automated means (every
// automated channel of a number or of a customer, email for an e-mail
// address). A revocation naming any automated channel of a number covers
// every automated channel of that number (FCC 24-24).
type Revoke struct {
	ID       string
	Tenant   ledger.TenantID
	Address  Address
	Channels []Channel
	Via      Via
	At       time.Time
	Text     string // the person's words ("STOP", "don't call me anymore")
}

// Cease records a request to stop all communication, or a refusal to pay.
// Written: every channel of every address of the customer is revoked, as a
// cease (12 CFR 1006.6(c)). Oral: Regulation F's cease needs writing, but an
// oral "stop" is still a revocation by reasonable means of every automated
// channel (47 CFR 64.1200(a)(10)), so it is recorded as one.
type Cease struct {
	ID       string
	Tenant   ledger.TenantID
	Customer string
	Written  bool
	At       time.Time
}

// MediumRefused records that the person asked not to be contacted on Channel
// at Address ("don't email me at work", "don't call this number"), 12 CFR
// 1006.14(h). A call channel stands for the telephone as a medium, so it
// covers every call channel; and since refusing an automated channel is also
// a revocation by reasonable means, the other automated channels of the
// number are revoked too (47 CFR 64.1200(a)(10), FCC 24-24).
type MediumRefused struct {
	ID      string
	Tenant  ledger.TenantID
	Address Address
	Channel Channel
	At      time.Time
}

// Meta implements Event.
func (e Grant) Meta() Meta { return Meta{e.ID, e.Tenant, e.At} }

// Meta implements Event.
func (e Revoke) Meta() Meta { return Meta{e.ID, e.Tenant, e.At} }

// Meta implements Event.
func (e Cease) Meta() Meta { return Meta{e.ID, e.Tenant, e.At} }

// Meta implements Event.
func (e MediumRefused) Meta() Meta { return Meta{e.ID, e.Tenant, e.At} }

// MaxTextBytes caps the stored words of a revocation. Longer text is cut
// (never refused: a revocation must be recorded whatever its length).
const MaxTextBytes = 4096

var (
	minTime = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

func (m Meta) validate(what string) error {
	if err := m.Tenant.Validate(); err != nil {
		return invalid("%s %q: %w", what, m.ID, err)
	}
	if err := ledger.ValidateID("event id", m.ID); err != nil {
		return invalid("%s: %w", what, err)
	}
	if m.At.IsZero() {
		return invalid("%s %s has no time", what, m.ID)
	}
	if m.At.Before(minTime) || m.At.After(maxTime) {
		return invalid("%s %s at %s is outside 1900-9999", what, m.ID, m.At.Format(time.RFC3339))
	}
	return nil
}

func checkChannel(what, id string, a Address, c Channel) error {
	if !c.Valid() {
		return invalid("%s %s: unknown channel %q", what, id, c)
	}
	if !a.Allows(c) {
		return invalid("%s %s: channel %s cannot reach %s", what, id, c, a)
	}
	return nil
}

// Expand validates an event and returns the entries it implies, one per
// (address, channel), in channel order. Every entry of one event has the
// event's address (a Cease: the customer-level address).
func Expand(ev Event) ([]Entry, error) {
	if ev == nil {
		return nil, invalid("nil event")
	}
	return ev.expand()
}

func (e Grant) expand() ([]Entry, error) {
	if err := e.Meta().validate("grant"); err != nil {
		return nil, err
	}
	if err := e.Address.Validate(); err != nil {
		return nil, fmt.Errorf("grant %s: %w", e.ID, err)
	}
	if err := checkChannel("grant", e.ID, e.Address, e.Channel); err != nil {
		return nil, err
	}
	if !e.Source.Valid() {
		return nil, invalid("grant %s: unknown source %q (want direct, application, written or import)", e.ID, e.Source)
	}
	if e.Debt != "" {
		if err := ledger.ValidateID("debt id", e.Debt); err != nil {
			return nil, invalid("grant %s: %w", e.ID, err)
		}
	}
	if !e.Expires.IsZero() && !e.Expires.After(e.At) {
		return nil, invalid("grant %s expires at %s, not after it was given at %s", e.ID,
			e.Expires.UTC().Format(time.RFC3339), e.At.UTC().Format(time.RFC3339))
	}
	return []Entry{{Event: e.ID, Kind: KindGrant, Address: e.Address, Channel: e.Channel, At: utc(e.At),
		Source: e.Source, Debt: e.Debt, Expires: utc(e.Expires)}}, nil
}

func (e Revoke) expand() ([]Entry, error) {
	if err := e.Meta().validate("revocation"); err != nil {
		return nil, err
	}
	if err := e.Address.Validate(); err != nil {
		return nil, fmt.Errorf("revocation %s: %w", e.ID, err)
	}
	if !e.Via.Valid() {
		return nil, invalid("revocation %s: unknown via %q (want sms_reply, email_reply, call, letter, web or agent)", e.ID, e.Via)
	}
	named := e.Channels
	if len(named) == 0 {
		if e.Address.Kind() == KindMailto {
			named = []Channel{Email}
		} else {
			named = AutomatedChannels()
		}
	}
	for _, c := range named {
		if err := checkChannel("revocation", e.ID, e.Address, c); err != nil {
			return nil, err
		}
	}
	base := Entry{Event: e.ID, Kind: KindRevoke, Address: e.Address, At: utc(e.At), Via: e.Via, Text: clip(e.Text)}
	return spread(base, named, e.Address), nil
}

func (e Cease) expand() ([]Entry, error) {
	if err := e.Meta().validate("cease request"); err != nil {
		return nil, err
	}
	addr, err := CustomerAddress(e.Customer)
	if err != nil {
		return nil, fmt.Errorf("cease request %s: %w", e.ID, err)
	}
	base := Entry{Event: e.ID, Address: addr, At: utc(e.At), Customer: e.Customer, Written: e.Written}
	chans := AllChannels()
	base.Kind = KindCease
	if !e.Written {
		// 1006.6(c) needs writing; TCPA revocation does not.
		chans, base.Kind, base.Text = AutomatedChannels(), KindRevoke, "oral request to stop"
	}
	out := make([]Entry, 0, len(chans))
	for _, c := range chans {
		en := base
		en.Channel = c
		out = append(out, en)
	}
	return out, nil
}

func (e MediumRefused) expand() ([]Entry, error) {
	if err := e.Meta().validate("refused medium"); err != nil {
		return nil, err
	}
	if err := e.Address.Validate(); err != nil {
		return nil, fmt.Errorf("refused medium %s: %w", e.ID, err)
	}
	if err := checkChannel("refused medium", e.ID, e.Address, e.Channel); err != nil {
		return nil, err
	}
	refused := []Channel{e.Channel}
	if e.Channel.Call() {
		refused = callChannels
	}
	base := Entry{Event: e.ID, Kind: KindMediumRefused, Address: e.Address, At: utc(e.At)}
	out := spread(base, refused, e.Address)
	for i := range out {
		if !slices.Contains(refused, out[i].Channel) {
			// Propagated to another automated channel: a TCPA revocation,
			// not a refused medium (texting is not calling, 1006.14(h)).
			out[i].Kind = KindRevoke
		}
		out[i].Implied = out[i].Channel != e.Channel
	}
	return out, nil
}

// spread returns base on each named channel and, when any of them is
// automated and the address is a number or a customer, on every automated
// channel too: revoking one automated channel revokes them all (47 CFR
// 64.1200(a)(10), FCC 24-24). Entries on channels the event did not name
// are Implied. The result is in channel order without duplicates.
func spread(base Entry, named []Channel, a Address) []Entry {
	set := map[Channel]bool{}
	automated := false
	for _, c := range named {
		set[c] = true
		automated = automated || c.Automated()
	}
	if automated && (a.Kind() == KindTel || a.Kind() == KindCustomer) {
		for _, c := range AutomatedChannels() {
			if !set[c] {
				set[c] = false // present, implied
			}
		}
	}
	var out []Entry
	for _, c := range allChannels {
		if wasNamed, ok := set[c]; ok {
			en := base
			en.Channel, en.Implied = c, !wasNamed
			out = append(out, en)
		}
	}
	return out
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// clip cuts s to MaxTextBytes on a rune boundary and makes it valid UTF-8.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= MaxTextBytes {
		return s
	}
	cut := MaxTextBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// Restricts reports whether ev restricts contact on some address and
// channel (a revocation, a cease request, a refused medium): what the
// deployment's opt-out alarm counts. An event that does not expand
// restricts nothing.
func Restricts(ev Event) bool {
	entries, err := ev.expand()
	if err != nil {
		return false
	}
	for _, e := range entries {
		if e.Kind.Restriction() {
			return true
		}
	}
	return false
}
