package shadow

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/strategy"
)

// DefaultWindow bounds how long after a recommendation the team's actions
// answer it when no later recommendation comes first: a week later the
// account is in another situation.
const DefaultWindow = 7 * 24 * time.Hour

// Class is how the team's actions compare with one recommendation.
type Class string

// Classes.
const (
	// Agree: the team did the recommended action on the recommended
	// channel; for a recommendation to do nothing now, the team did
	// nothing (or recorded none).
	Agree Class = "agree"
	// OtherChannel: the recommended action, on another channel.
	OtherChannel Class = "other_channel"
	// OtherAction: the team did something else (or acted when the engine
	// would have done nothing).
	OtherAction Class = "other_action"
	// TeamIdle: the engine would have acted and the team did nothing (or
	// recorded none).
	TeamIdle Class = "team_did_nothing"
	// TeamOnly: a team action in no recommendation's window.
	TeamOnly Class = "team_without_recommendation"
)

// Options shape the comparison.
type Options struct {
	// Tenant, From and To say what the records were read for; they head
	// the report and filter nothing.
	Tenant   ledger.TenantID
	From, To time.Time
	// Window is the longest a recommendation waits for the team (default
	// DefaultWindow).
	Window time.Duration
}

// Tally counts recommendations by class.
type Tally struct {
	Recommendations int `json:"recommendations"`
	Agree           int `json:"agree"`
	OtherChannel    int `json:"other_channel"`
	OtherAction     int `json:"other_action"`
	TeamIdle        int `json:"team_did_nothing"`
	// Rate is Agree / Recommendations, 0 when there are none.
	Rate float64 `json:"agreement_rate"`
}

func (t *Tally) add(c Class) {
	t.Recommendations++
	switch c {
	case Agree:
		t.Agree++
	case OtherChannel:
		t.OtherChannel++
	case OtherAction:
		t.OtherAction++
	case TeamIdle:
		t.TeamIdle++
	}
	t.Rate = float64(t.Agree) / float64(t.Recommendations)
}

// Group is the tally of the recommendations sharing a key (an action, a
// segment).
type Group struct {
	Key string `json:"key"`
	Tally
}

// Acted is a team action as the report lists it. The note is left out:
// the report is shared more widely than the records it is made from.
type Acted struct {
	ID       string          `json:"id"`
	Customer string          `json:"customer"`
	At       time.Time       `json:"at"`
	Action   strategy.Action `json:"action"`
	Channel  consent.Channel `json:"channel,omitempty"`
	By       string          `json:"by"`
}

// Entry is one recommendation with what the team did in its window.
type Entry struct {
	Recommendation string           `json:"recommendation"`
	Customer       string           `json:"customer"`
	At             time.Time        `json:"at"`
	Until          time.Time        `json:"until"` // end of the window, exclusive
	Outcome        strategy.Outcome `json:"outcome"`
	// Action and Channel are what the team is compared with
	// (Recommendation.Expected).
	Action  strategy.Action `json:"action"`
	Channel consent.Channel `json:"channel,omitempty"`
	Segment string          `json:"segment,omitempty"`
	Class   Class           `json:"class"`
	Team    []Acted         `json:"team"`
}

// Report is the agreement between the engine's recommendations and the
// team's actions.
type Report struct {
	Tenant        ledger.TenantID `json:"tenant"`
	From          time.Time       `json:"from,omitzero"`
	To            time.Time       `json:"to,omitzero"`
	WindowSeconds int64           `json:"window_seconds"`
	Totals        Tally           `json:"totals"`
	// TeamOnly counts the team actions in no recommendation's window.
	TeamOnly int `json:"team_without_recommendation"`
	// ByAction groups by the action the team is compared with; BySegment
	// by the strategy segment, and is empty when no recommendation names
	// one.
	ByAction  []Group `json:"by_action"`
	BySegment []Group `json:"by_segment,omitempty"`
	// Entries are sorted by customer, time and id; Unmatched likewise.
	Entries   []Entry `json:"entries"`
	Unmatched []Acted `json:"unmatched"`
}

// Compare pairs each recommendation with the same customer's team actions
// from its time until the next recommendation for that customer or Window
// later, whichever comes first, and classifies the pair. Records repeated
// (same id) count once. The result does not depend on the order of the
// inputs.
func Compare(recs []Recommendation, team []TeamAction, opts Options) Report {
	window := opts.Window
	if window <= 0 {
		window = DefaultWindow
	}
	rep := Report{Tenant: opts.Tenant, From: opts.From, To: opts.To, WindowSeconds: int64(window / time.Second),
		ByAction: []Group{}, Entries: []Entry{}, Unmatched: []Acted{}}

	recsBy := map[string][]Recommendation{}
	seenRec := map[string]bool{}
	for _, r := range sortedRecs(recs) {
		if !seenRec[r.ID] {
			seenRec[r.ID] = true
			recsBy[r.Customer] = append(recsBy[r.Customer], r)
		}
	}
	teamBy := map[string][]TeamAction{}
	seenTeam := map[string]bool{}
	for _, a := range sortedTeam(team) {
		if !seenTeam[a.ID] {
			seenTeam[a.ID] = true
			teamBy[a.Customer] = append(teamBy[a.Customer], a)
		}
	}

	byAction, bySegment := map[string]*Tally{}, map[string]*Tally{}
	segments := false
	for _, customer := range sortedKeys(recsBy, teamBy) {
		rs, ts := recsBy[customer], teamBy[customer]
		entries := make([]Entry, len(rs))
		for i, r := range rs {
			until := r.At.Add(window)
			if i+1 < len(rs) && rs[i+1].At.Before(until) {
				until = rs[i+1].At
			}
			action, channel := r.Expected()
			entries[i] = Entry{Recommendation: r.ID, Customer: r.Customer, At: r.At, Until: until, Outcome: r.Outcome,
				Action: action, Channel: channel, Segment: r.Segment, Team: []Acted{}}
		}
		for _, a := range ts {
			// The last recommendation at or before the action is the only
			// one whose window can hold it: windows end where the next
			// one starts.
			i := sortSearchLast(rs, a.At)
			if i >= 0 && a.At.Before(entries[i].Until) {
				entries[i].Team = append(entries[i].Team, acted(a))
				continue
			}
			rep.Unmatched = append(rep.Unmatched, acted(a))
		}
		for i := range entries {
			e := &entries[i]
			e.Class = classify(e.Action, e.Channel, e.Team)
			rep.Totals.add(e.Class)
			tallyOf(byAction, string(e.Action)).add(e.Class)
			tallyOf(bySegment, e.Segment).add(e.Class)
			segments = segments || e.Segment != ""
		}
		rep.Entries = append(rep.Entries, entries...)
	}
	rep.TeamOnly = len(rep.Unmatched)
	rep.ByAction = groups(byAction)
	if segments {
		rep.BySegment = groups(bySegment)
	}
	return rep
}

// classify compares the team's actions in a window with the expected
// action. When the team acted more than once the best match counts: a
// reminder sent as recommended and a call on top of it agree.
func classify(action strategy.Action, channel consent.Channel, team []Acted) Class {
	acted := slices.ContainsFunc(team, func(a Acted) bool { return a.Action != ActionNone })
	if action == ActionNone {
		if acted {
			return OtherAction
		}
		return Agree
	}
	switch {
	case slices.ContainsFunc(team, func(a Acted) bool { return a.Action == action && a.Channel == channel }):
		return Agree
	case slices.ContainsFunc(team, func(a Acted) bool { return a.Action == action }):
		return OtherChannel
	case acted:
		return OtherAction
	}
	return TeamIdle
}

func acted(a TeamAction) Acted {
	return Acted{ID: a.ID, Customer: a.Customer, At: a.At, Action: a.Action, Channel: a.Channel, By: a.By}
}

// sortSearchLast returns the index of the last recommendation at or before
// t, or -1.
func sortSearchLast(rs []Recommendation, t time.Time) int {
	i, _ := slices.BinarySearchFunc(rs, t, func(r Recommendation, t time.Time) int {
		if r.At.After(t) {
			return 1
		}
		return -1 // equal times sort before t, so the search lands after them
	})
	return i - 1
}

func sortedRecs(recs []Recommendation) []Recommendation {
	out := slices.Clone(recs)
	slices.SortFunc(out, func(a, b Recommendation) int {
		return cmp.Or(strings.Compare(a.Customer, b.Customer), a.At.Compare(b.At), strings.Compare(a.ID, b.ID))
	})
	return out
}

func sortedTeam(team []TeamAction) []TeamAction {
	out := slices.Clone(team)
	slices.SortFunc(out, func(a, b TeamAction) int {
		return cmp.Or(strings.Compare(a.Customer, b.Customer), a.At.Compare(b.At), strings.Compare(a.ID, b.ID))
	})
	return out
}

func sortedKeys[A, B any](a map[string]A, b map[string]B) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

func tallyOf(m map[string]*Tally, key string) *Tally {
	t := m[key]
	if t == nil {
		t = &Tally{}
		m[key] = t
	}
	return t
}

func groups(m map[string]*Tally) []Group {
	out := make([]Group, 0, len(m))
	for k, t := range m {
		out = append(out, Group{Key: k, Tally: *t})
	}
	slices.SortFunc(out, func(a, b Group) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// WriteText writes the report for a person: the totals, the tallies by
// action and segment, then every recommendation and every team action
// without one.
func (r Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	period := "all time"
	switch {
	case !r.From.IsZero() && !r.To.IsZero():
		period = stamp(r.From) + " to " + stamp(r.To)
	case !r.From.IsZero():
		period = "since " + stamp(r.From)
	case !r.To.IsZero():
		period = "until " + stamp(r.To)
	}
	fmt.Fprintf(tw, "Shadow agreement for tenant %s, %s\n", r.Tenant, period)
	fmt.Fprintf(tw, "a recommendation is answered by the team's actions until the next one, at most %s later\n\n",
		time.Duration(r.WindowSeconds)*time.Second)
	tallies := func(title string, gs []Group) {
		fmt.Fprintf(tw, "%s\trecommendations\tagree\tother channel\tother action\tteam did nothing\tagreement\n", title)
		for _, g := range gs {
			key := g.Key
			if key == "" {
				key = "(none)"
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\n", key, g.Recommendations, g.Agree, g.OtherChannel, g.OtherAction, g.TeamIdle, rate(g.Tally))
		}
		fmt.Fprintln(tw)
	}
	tallies("", []Group{{Key: "total", Tally: r.Totals}})
	fmt.Fprintf(tw, "team actions without a recommendation: %d\n\n", r.TeamOnly)
	if len(r.ByAction) > 0 {
		tallies("by action", r.ByAction)
	}
	if len(r.BySegment) > 0 {
		tallies("by segment", r.BySegment)
	}
	if len(r.Entries) > 0 {
		fmt.Fprintln(tw, "customer\tat\toutcome\trecommended\tteam\tclass")
		for _, e := range r.Entries {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Customer, stamp(e.At), e.Outcome, did(e.Action, e.Channel), teamText(e.Team), e.Class)
		}
		fmt.Fprintln(tw)
	}
	if len(r.Unmatched) > 0 {
		fmt.Fprintln(tw, "customer\tat\tteam action without a recommendation\tby")
		for _, a := range r.Unmatched {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.Customer, stamp(a.At), did(a.Action, a.Channel), a.By)
		}
	}
	return tw.Flush()
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func rate(t Tally) string {
	if t.Recommendations == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*t.Rate)
}

func did(a strategy.Action, ch consent.Channel) string {
	if ch == "" {
		return string(a)
	}
	return string(a) + "/" + string(ch)
}

func teamText(team []Acted) string {
	if len(team) == 0 {
		return "-"
	}
	parts := make([]string, len(team))
	for i, a := range team {
		parts[i] = did(a.Action, a.Channel) + " by " + a.By
	}
	return strings.Join(parts, ", ")
}
