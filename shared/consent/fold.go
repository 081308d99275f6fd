package consent

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Sort puts entries in ledger order: by time, not by insertion, so a
// revocation that arrives late still counts from when it was made. At one
// instant grants come before restrictions, so a revocation and a grant with
// the same timestamp leave consent revoked; ties then break on kind, event
// id and channel, so every reader folds one history the same way.
func Sort(entries []Entry) {
	slices.SortStableFunc(entries, compareEntries)
}

func compareEntries(a, b Entry) int {
	if c := a.At.Compare(b.At); c != 0 {
		return c
	}
	if c := kindOrder(a.Kind) - kindOrder(b.Kind); c != 0 {
		return c
	}
	if c := strings.Compare(a.Event, b.Event); c != 0 {
		return c
	}
	if c := a.Channel.order() - b.Channel.order(); c != 0 {
		return c
	}
	return strings.Compare(string(a.Address), string(b.Address))
}

func kindOrder(k Kind) int {
	return slices.Index([]Kind{KindGrant, KindMediumRefused, KindRevoke, KindCease}, k)
}

// Snapshot is the folded history of one (address, channel) as of its latest
// entry: the grants and restrictions still in force. It does not depend on
// the instant it is read at; Status evaluates it then (grants expire). The
// DynamoDB adapter stores it as the STATE item the dispatch gate reads.
type Snapshot struct {
	Address Address
	Channel Channel
	// Grants in force (no restriction after them), oldest first; some may
	// have expired by the time the snapshot is read.
	Grants []Entry
	// Restrictions in force (no re-establishing grant after them): the
	// earliest of each kind, oldest first.
	Restrictions []Entry
	// Last is the time of the latest entry folded.
	Last time.Time
	// Version counts the distinct entries folded (one per event id).
	Version int
}

// Fold folds the entries of (address, channel) among entries, in ledger order
// (see Sort), ignoring any other address or channel and counting an event id
// once. entries is not modified.
func Fold(entries []Entry, address Address, channel Channel) Snapshot {
	mine := make([]Entry, 0, len(entries))
	for _, e := range entries {
		if e.Address == address && e.Channel == channel {
			mine = append(mine, e)
		}
	}
	Sort(mine)
	s := Snapshot{Address: address, Channel: channel}
	seen := make(map[string]bool, len(mine))
	for _, e := range mine {
		if seen[e.Event] {
			continue // an event recorded twice is one event
		}
		seen[e.Event] = true
		s.apply(e)
	}
	return s
}

func (s *Snapshot) apply(e Entry) {
	s.Version++
	if e.At.After(s.Last) {
		s.Last = e.At
	}
	if e.Kind.Restriction() {
		// A restriction ends every grant in force; it is kept until a
		// re-establishing grant (and the entry itself forever).
		s.Grants = nil
		for _, r := range s.Restrictions {
			if r.Kind == e.Kind {
				return
			}
		}
		s.Restrictions = append(s.Restrictions, e)
		return
	}
	if e.Kind != KindGrant {
		return
	}
	if len(s.Restrictions) > 0 {
		// Only what the person said or wrote after the revocation restores
		// consent (47 CFR 64.1200(a)(10)); an application or import record
		// is an old statement that the revocation overrides. Entries are
		// folded in time order with restrictions last at one instant, so
		// a grant reaching here is strictly later than every restriction.
		if !e.Source.Reestablishes() {
			return
		}
		s.Restrictions = nil
	}
	// A grant supersedes earlier grants it covers (same or wider debt
	// scope, lasting at least as long), which keeps the snapshot small.
	kept := s.Grants[:0]
	for _, g := range s.Grants {
		if !covers(e, g) {
			kept = append(kept, g)
		}
	}
	s.Grants = append(kept, e)
}

// covers reports whether grant g makes the earlier grant h redundant.
func covers(g, h Entry) bool {
	if g.Debt != "" && g.Debt != h.Debt {
		return false
	}
	return g.Expires.IsZero() || (!h.Expires.IsZero() && !g.Expires.Before(h.Expires))
}

// State folds a history and returns the consent of (address, channel) at
// instant at: entries after at are ignored, grants expired by at have ended.
func State(entries []Entry, address Address, channel Channel, at time.Time) Status {
	var upTo []Entry
	for _, e := range entries {
		if !e.At.After(at) {
			upTo = append(upTo, e)
		}
	}
	return Fold(upTo, address, channel).Status(at)
}

// Status evaluates the snapshot at instant at. Grants that expired by at, or
// dated after at, are not in force. Restrictions always are, even one dated
// after at: a revocation is never undone by reading early.
func (s Snapshot) Status(at time.Time) Status {
	st := Status{Address: s.Address, Channel: s.Channel, Consent: Unknown, Version: s.Version}
	if len(s.Restrictions) > 0 {
		first := s.Restrictions[0]
		st.Consent, st.Since, st.Cause, st.Event = Revoked, first.At, first.Kind, first.Event
		var why []string
		for _, r := range s.Restrictions {
			st.Restrictions = append(st.Restrictions, r.Kind)
			why = append(why, restrictionReason(r))
		}
		st.Reason = strings.Join(why, "; ")
		return st
	}
	var active []Entry
	var lapsed *Entry
	for i, g := range s.Grants {
		switch {
		case g.At.After(at):
		case !g.Expires.IsZero() && !at.Before(g.Expires):
			if lapsed == nil || g.Expires.After(lapsed.Expires) {
				lapsed = &s.Grants[i]
			}
		default:
			active = append(active, g)
		}
	}
	if len(active) == 0 {
		if lapsed != nil {
			st.Since, st.Cause, st.Event = lapsed.Expires, KindGrant, lapsed.Event
			st.Reason = fmt.Sprintf("consent on %s to %s given %s (event %s) expired at %s; expired consent is no consent",
				s.Channel, s.Address, stamp(lapsed.At), lapsed.Event, stamp(lapsed.Expires))
			return st
		}
		st.Reason = fmt.Sprintf("no consent on %s to %s is recorded; unknown consent is not prior express consent for automated contact (47 USC 227(b)(1)(A)(iii))",
			s.Channel, s.Address)
		return st
	}
	latest := active[len(active)-1]
	st.Consent, st.Source, st.Since, st.Cause, st.Event = Granted, latest.Source, latest.At, KindGrant, latest.Event
	var (
		debts    []string
		unscoped bool // a grant naming no debt covers every debt
		forever  bool
		expires  time.Time
	)
	for _, g := range active {
		if g.Debt == "" {
			unscoped = true
		} else if !slices.Contains(debts, g.Debt) {
			debts = append(debts, g.Debt)
		}
		if g.Expires.IsZero() {
			forever = true
		} else if g.Expires.After(expires) {
			expires = g.Expires
		}
	}
	if unscoped {
		debts = nil
	}
	slices.Sort(debts)
	st.Debts = debts
	if !forever {
		st.Expires = expires
	}
	st.Reason = fmt.Sprintf("consent on %s to %s given %s (%s, event %s)", s.Channel, s.Address, stamp(latest.At), latest.Source, latest.Event)
	if debts != nil {
		st.Reason += " for debt " + strings.Join(debts, ", ")
	}
	if !st.Expires.IsZero() {
		st.Reason += ", until " + stamp(st.Expires)
	}
	return st
}

func restrictionReason(r Entry) string {
	var b strings.Builder
	switch r.Kind {
	case KindCease:
		fmt.Fprintf(&b, "written cease request %s (event %s) covers every channel and address of customer %s (12 CFR 1006.6(c))",
			stamp(r.At), r.Event, r.Customer)
	case KindMediumRefused:
		fmt.Fprintf(&b, "the person refused %s to %s on %s (event %s); a refused medium may not be used (12 CFR 1006.14(h))",
			r.Channel, r.Address, stamp(r.At), r.Event)
	default:
		fmt.Fprintf(&b, "consent on %s to %s revoked %s (event %s", r.Channel, r.Address, stamp(r.At), r.Event)
		if r.Via != "" {
			fmt.Fprintf(&b, " via %s", r.Via)
		}
		if r.Text != "" {
			fmt.Fprintf(&b, ", %q", shorten(r.Text, 80))
		}
		b.WriteString(")")
		if r.Implied {
			b.WriteString("; a revocation on one automated channel covers every automated channel to the number, at once (47 CFR 64.1200(a)(10), FCC 24-24)")
		} else {
			b.WriteString("; revocation by any reasonable means is honoured at once (47 CFR 64.1200(a)(10))")
		}
	}
	return b.String()
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// Effective combines the status of a contact point with the status of its
// customer's customer-level address on the same channel: a restriction of
// the customer (a written cease, 12 CFR 1006.6(c), or an oral stop) covers
// every address, including ones recorded after it. It returns the status
// that decides, with the restrictions of both; a customer-level grant lifts
// only customer-level restrictions and is never consent for a number on its
// own.
func Effective(address, customer Status) Status {
	if customer.Consent != Revoked {
		return address
	}
	out := customer
	out.Restrictions = slices.Clone(customer.Restrictions)
	for _, k := range address.Restrictions {
		if !slices.Contains(out.Restrictions, k) {
			out.Restrictions = append(out.Restrictions, k)
		}
	}
	if address.Consent == Revoked {
		out.Reason += "; " + address.Reason
	}
	return out
}
