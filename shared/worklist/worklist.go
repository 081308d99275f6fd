// Package worklist builds a collector's day: every customer with an open
// balance, scored by the ranking model, given the channel the preference
// model recommends among those the customer can be reached on, and
// ordered by the expected value of acting now, each with its reasons.
//
// The worklist recommends; the dispatch gate still decides every contact
// (consent, caps, quiet hours, disputes) when it is sent.
package worklist

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/recoup-dev/recoup/shared/drift"
	"github.com/recoup-dev/recoup/shared/engagement"
	"github.com/recoup-dev/recoup/shared/features"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/preference"
	"github.com/recoup-dev/recoup/shared/priority"
	"github.com/recoup-dev/recoup/shared/ranking"
)

// Horizon is the pay-within window the value of acting is judged on: the
// next two weeks, about one contact cycle.
const Horizon = 1 // index into ranking.Horizons: 14 days

// Inputs are everything a worklist is built from.
type Inputs struct {
	Tenant     ledger.TenantID
	At         time.Time
	Model      *ranking.Model
	Snapshot   features.Snapshot
	Contacts   []ledger.ContactPoint
	Engagement map[string]engagement.Features // by customer
	Priority   priority.Config
	Choice     preference.Options
	Drift      drift.Thresholds
}

// Entry is one customer's line.
type Entry struct {
	Rank  int
	Score ranking.CustomerScore
	// Channel is the recommended channel; empty when the customer has no
	// reachable channel (the line then says so and has no value).
	Channel preference.Choice
	Value   priority.Item
}

// Worklist is the day's list.
type Worklist struct {
	Entries []Entry
	// Unreachable are customers with an open balance and no usable
	// contact point: a data problem for the team, not a collector's call.
	Unreachable []ranking.CustomerScore
	Drift       drift.Report
	Prior       preference.Prior
}

// Build scores and orders the worklist.
func Build(in Inputs) (Worklist, error) {
	if in.Model == nil {
		return Worklist{}, errors.New("worklist: no model")
	}
	h, err := features.NewHistory(withTouches(in.Snapshot, in.Engagement))
	if err != nil {
		return Worklist{}, err
	}
	run, err := in.Model.Run(h, in.Snapshot.Invoices, in.At, in.Drift)
	if err != nil {
		return Worklist{}, err
	}
	// Letters sent count as trials once a reply could have come back, for
	// the prior and for each customer's estimate alike.
	eng := make(map[string]engagement.Features, len(in.Engagement))
	population := make([]engagement.Features, 0, len(in.Engagement))
	for _, id := range slices.Sorted(maps.Keys(in.Engagement)) { // the prior must not depend on map order
		eng[id] = preference.WithLetters(in.Engagement[id], in.At)
		population = append(population, eng[id])
	}
	in.Engagement = eng
	prior, err := preference.FitPrior(population)
	if err != nil {
		return Worklist{}, fmt.Errorf("worklist: channel prior: %w", err)
	}
	reach := reachable(in.Contacts)
	day := in.At.UTC().Format(time.DateOnly)
	var inputs []priority.Input
	choices := map[string]preference.Choice{}
	scores := map[string]ranking.CustomerScore{}
	wl := Worklist{Drift: run.Drift, Prior: prior}
	for _, c := range ranking.Rollup(run.Invoices) {
		key := c.Customer + "/" + c.Open.Currency.Code()
		allowed := reach[c.Customer]
		if len(allowed) == 0 {
			wl.Unreachable = append(wl.Unreachable, c)
			continue
		}
		ch, err := channelFor(in, prior, c, allowed, string(in.Tenant)+"/"+c.Customer+"/"+day)
		if err != nil {
			return Worklist{}, fmt.Errorf("worklist: customer %s: %w", c.Customer, err)
		}
		choices[key], scores[key] = ch, c
		inputs = append(inputs, priority.Input{Customer: key, Open: c.Open, PayAnyway: c.PayWithin[Horizon],
			Channel: ch.Channel, Response: ch.P})
	}
	items, err := priority.Rank(inputs, in.Priority)
	if err != nil {
		return Worklist{}, err
	}
	for i, it := range items {
		wl.Entries = append(wl.Entries, Entry{Rank: i + 1, Score: scores[it.Customer], Channel: choices[it.Customer], Value: it})
	}
	return wl, nil
}

// channelFor chooses the customer's channel net of its cost: a useful
// response is worth the balance not expected anyway times the lift, and a
// channel's figure of merit is its response rate minus cost over that
// worth, so a small balance is not given a collector's call.
func channelFor(in Inputs, prior preference.Prior, c ranking.CustomerScore, allowed []string, key string) (preference.Choice, error) {
	est, err := preference.Estimate(prior, in.Engagement[c.Customer])
	if err != nil {
		return preference.Choice{}, err
	}
	terms, err := in.Priority.TermsFor(c.Customer, c.Open, c.PayWithin[Horizon], allowed)
	if err != nil {
		return preference.Choice{}, err
	}
	opts := in.Choice
	// A worth below one minor unit still has to weigh the costs.
	opts.Value, opts.Cost = max(1, terms.Response), terms.Costs
	return preference.Choose(est, allowed, key, opts)
}

// reachable lists the channels each customer has a contact point for,
// leaving out points whose consent was revoked at import. The gate
// checks consent again, from the consent ledger, at send time.
func reachable(cps []ledger.ContactPoint) map[string][]string {
	out := map[string][]string{}
	add := func(c string, chs ...string) {
		for _, ch := range chs {
			if !slices.Contains(out[c], ch) {
				out[c] = append(out[c], ch)
			}
		}
	}
	for _, cp := range cps {
		if cp.Consent == ledger.ConsentRevoked {
			continue
		}
		switch cp.Kind {
		case ledger.ContactEmail:
			add(cp.Customer, preference.Email)
		case ledger.ContactPostal:
			add(cp.Customer, preference.Letter)
		case ledger.ContactPhone:
			if cp.Phone != nil && cp.Phone.Line == ledger.LineMobile {
				add(cp.Customer, preference.SMS)
			}
			add(cp.Customer, preference.Voice, preference.AIVoice)
		}
	}
	return out
}

// withTouches adds the customers' latest responses per channel, from
// their engagement features, to the snapshot: the features' days since a
// response by channel.
func withTouches(s features.Snapshot, eng map[string]engagement.Features) features.Snapshot {
	s.Touches = slices.Clone(s.Touches)
	for _, id := range slices.Sorted(maps.Keys(eng)) {
		f := eng[id]
		for _, key := range slices.Sorted(maps.Keys(f.LastResponse)) {
			if ch, ok := preference.ChannelOf(key); ok {
				s.Touches = append(s.Touches, features.Touch{Customer: id, Channel: ch, At: f.LastResponse[key], Response: true})
			}
		}
	}
	return s
}
