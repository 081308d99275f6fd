package shadow_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/shadow"
	"github.com/recoup-dev/recoup/shared/shadow/shadowtest"
	"github.com/recoup-dev/recoup/shared/strategy"
)

var day0 = time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)

func hours(h float64) time.Time { return day0.Add(time.Duration(h * float64(time.Hour))) }

// rec is a recommendation for customer at hour h.
func rec(customer string, h float64, o strategy.Outcome, a strategy.Action, ch consent.Channel) shadow.Recommendation {
	r := shadowtest.Recommendation("acme", customer, hours(h))
	r.Outcome, r.Action, r.Channel = o, a, ch
	return r
}

func act(customer string, h float64, a strategy.Action, ch consent.Channel) shadow.TeamAction {
	return shadowtest.TeamAction("acme", customer, hours(h), a, ch, "col-7")
}

func TestCompareClassifiesEachRecommendation(t *testing.T) {
	const (
		email, sms, voice = consent.Email, consent.SMS, consent.Voice
		friendly, firm    = strategy.ActionFriendlyReminder, strategy.ActionFirmReminder
		call, none        = strategy.ActionCall, shadow.ActionNone
	)
	actNow := func(a strategy.Action, ch consent.Channel) shadow.Recommendation {
		return rec("C1", 0, strategy.OutcomeAct, a, ch)
	}
	tests := []struct {
		name string
		rec  shadow.Recommendation
		team []shadow.TeamAction
		want shadow.Class
	}{
		{"same action, same channel", actNow(friendly, email), []shadow.TeamAction{act("C1", 2, friendly, email)}, shadow.Agree},
		{"same action, other channel", actNow(friendly, email), []shadow.TeamAction{act("C1", 2, friendly, sms)}, shadow.OtherChannel},
		{"other action", actNow(friendly, email), []shadow.TeamAction{act("C1", 2, firm, email)}, shadow.OtherAction},
		{"no team actions", actNow(friendly, email), nil, shadow.TeamIdle},
		{"the team recorded none", actNow(call, voice), []shadow.TeamAction{act("C1", 1, none, "")}, shadow.TeamIdle},
		{"acted twice, one matches", actNow(call, voice),
			[]shadow.TeamAction{act("C1", 1, friendly, email), act("C1", 3, call, voice)}, shadow.Agree},
		{"acted twice, the action matches on another channel", actNow(call, voice),
			[]shadow.TeamAction{act("C1", 1, firm, email), act("C1", 3, call, consent.VoiceAI)}, shadow.OtherChannel},
		{"acted twice, neither matches", actNow(call, voice),
			[]shadow.TeamAction{act("C1", 1, firm, email), act("C1", 3, none, "")}, shadow.OtherAction},
		{"escalate is compared on its action", rec("C1", 0, strategy.OutcomeEscalate, strategy.ActionFinalNotice, consent.Letter),
			[]shadow.TeamAction{act("C1", 5, strategy.ActionFinalNotice, consent.Letter)}, shadow.Agree},
		{"follow-up", rec("C1", 0, strategy.OutcomeFollowUp, strategy.ActionPromiseFollowUp, sms),
			[]shadow.TeamAction{act("C1", 5, strategy.ActionPromiseFollowUp, email)}, shadow.OtherChannel},
		{"hold without a notice, on no channel", rec("C1", 0, strategy.OutcomeAct, strategy.ActionCreditHold, ""),
			[]shadow.TeamAction{act("C1", 5, strategy.ActionCreditHold, "")}, shadow.Agree},
		{"none, the team did nothing", rec("C1", 0, strategy.OutcomeNone, "", ""), nil, shadow.Agree},
		{"none, the team recorded none", rec("C1", 0, strategy.OutcomeNone, "", ""), []shadow.TeamAction{act("C1", 1, none, "")}, shadow.Agree},
		{"none, the team acted", rec("C1", 0, strategy.OutcomeNone, "", ""), []shadow.TeamAction{act("C1", 1, call, voice)}, shadow.OtherAction},
		// A wait names the step that is not due yet: sending it now is not
		// what the engine recommended.
		{"wait, the team did nothing", rec("C1", 0, strategy.OutcomeWait, firm, email), nil, shadow.Agree},
		{"wait, the team sent the next step early", rec("C1", 0, strategy.OutcomeWait, firm, email),
			[]shadow.TeamAction{act("C1", 1, firm, email)}, shadow.OtherAction},
		{"review, the team did nothing", rec("C1", 0, strategy.OutcomeReview, "", ""), []shadow.TeamAction{act("C1", 1, none, "")}, shadow.Agree},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := shadow.Compare([]shadow.Recommendation{tt.rec}, tt.team, shadow.Options{Tenant: "acme"})
			if len(rep.Entries) != 1 {
				t.Fatalf("%d entries, want 1", len(rep.Entries))
			}
			if got := rep.Entries[0].Class; got != tt.want {
				t.Errorf("class %s, want %s", got, tt.want)
			}
			if len(rep.Entries[0].Team) != len(tt.team) || len(rep.Unmatched) != 0 {
				t.Errorf("%d team actions paired, %d unmatched; want all %d paired", len(rep.Entries[0].Team), len(rep.Unmatched), len(tt.team))
			}
		})
	}
}

func TestCompareWindows(t *testing.T) {
	const email = consent.Email
	friendly := strategy.ActionFriendlyReminder
	tests := []struct {
		name   string
		recs   []shadow.Recommendation
		team   []shadow.TeamAction
		window time.Duration
		// paired maps an index of recs (-1: the one whose id sorts last)
		// to indexes of team; unmatched lists indexes of team.
		paired    map[int][]int
		unmatched []int
	}{
		{
			name:   "an action at the recommendation's instant is in its window",
			recs:   []shadow.Recommendation{rec("C1", 0, strategy.OutcomeAct, friendly, email)},
			team:   []shadow.TeamAction{act("C1", 0, friendly, email)},
			paired: map[int][]int{0: {0}},
		},
		{
			name:   "the window ends after 7 days by default",
			recs:   []shadow.Recommendation{rec("C1", 0, strategy.OutcomeAct, friendly, email)},
			team:   []shadow.TeamAction{act("C1", 7*24-0.5, friendly, email), act("C1", 7*24, friendly, email)},
			paired: map[int][]int{0: {0}}, unmatched: []int{1},
		},
		{
			name:   "a shorter window",
			recs:   []shadow.Recommendation{rec("C1", 0, strategy.OutcomeAct, friendly, email)},
			team:   []shadow.TeamAction{act("C1", 1, friendly, email), act("C1", 3, friendly, email)},
			window: 2 * time.Hour,
			paired: map[int][]int{0: {0}}, unmatched: []int{1},
		},
		{
			name:   "the next recommendation ends the window",
			recs:   []shadow.Recommendation{rec("C1", 0, strategy.OutcomeAct, friendly, email), rec("C1", 24, strategy.OutcomeWait, "", "")},
			team:   []shadow.TeamAction{act("C1", 23, friendly, email), act("C1", 24, friendly, email)},
			paired: map[int][]int{0: {0}, 1: {1}},
		},
		{
			name:   "before any recommendation, or for another customer",
			recs:   []shadow.Recommendation{rec("C1", 10, strategy.OutcomeAct, friendly, email)},
			team:   []shadow.TeamAction{act("C1", 9, friendly, email), act("C2", 11, friendly, email)},
			paired: map[int][]int{}, unmatched: []int{0, 1},
		},
		{
			name:   "two recommendations at one instant: the later id takes the actions",
			recs:   []shadow.Recommendation{rec("C1", 0, strategy.OutcomeAct, friendly, email), withExecution(rec("C1", 0, strategy.OutcomeAct, friendly, email), "other")},
			team:   []shadow.TeamAction{act("C1", 1, friendly, email)},
			paired: map[int][]int{-1: {0}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := shadow.Compare(tt.recs, tt.team, shadow.Options{Window: tt.window})
			got := map[string][]string{}
			for _, e := range rep.Entries {
				for _, a := range e.Team {
					got[e.Recommendation] = append(got[e.Recommendation], a.ID)
				}
			}
			wantPaired := map[string][]string{}
			for r, as := range tt.paired {
				id := ""
				if r == -1 { // the recommendation whose id sorts last
					id = slices.MaxFunc(tt.recs, func(a, b shadow.Recommendation) int { return strings.Compare(a.ID, b.ID) }).ID
				} else {
					id = tt.recs[r].ID
				}
				for _, a := range as {
					wantPaired[id] = append(wantPaired[id], tt.team[a].ID)
				}
			}
			if diff := cmp.Diff(wantPaired, got); diff != "" {
				t.Errorf("paired (-want +got):\n%s", diff)
			}
			var gotUnmatched, wantUnmatched []string
			for _, a := range rep.Unmatched {
				gotUnmatched = append(gotUnmatched, a.ID)
			}
			for _, a := range tt.unmatched {
				wantUnmatched = append(wantUnmatched, tt.team[a].ID)
			}
			if diff := cmp.Diff(wantUnmatched, gotUnmatched); diff != "" {
				t.Errorf("unmatched (-want +got):\n%s", diff)
			}
			if rep.TeamOnly != len(rep.Unmatched) {
				t.Errorf("TeamOnly %d, %d unmatched", rep.TeamOnly, len(rep.Unmatched))
			}
		})
	}
}

func withExecution(r shadow.Recommendation, exec string) shadow.Recommendation {
	r.Execution = exec
	r.ID = shadow.RecommendationID(exec, r.At)
	return r
}

// pilot is a small pilot: three customers in two segments.
func pilot() ([]shadow.Recommendation, []shadow.TeamAction) {
	c3 := rec("C3", 0, strategy.OutcomeAct, strategy.ActionCall, consent.Voice)
	c3.Segment = "enterprise"
	recs := []shadow.Recommendation{
		rec("C1", 0, strategy.OutcomeAct, strategy.ActionFriendlyReminder, consent.Email),
		rec("C1", 48, strategy.OutcomeAct, strategy.ActionFirmReminder, consent.Email),
		rec("C2", 1, strategy.OutcomeWait, strategy.ActionFirmReminder, consent.Email),
		c3,
	}
	team := []shadow.TeamAction{
		act("C1", 2, strategy.ActionFriendlyReminder, consent.Email),
		act("C1", 50, strategy.ActionFirmReminder, consent.SMS),
		act("C3", 3, strategy.ActionFirmReminder, consent.Email),
		act("C4", 5, strategy.ActionCall, consent.Voice),
	}
	return recs, team
}

func TestCompareTotalsAndGroups(t *testing.T) {
	recs, team := pilot()
	rep := shadow.Compare(recs, team, shadow.Options{Tenant: "acme"})
	wantTotals := shadow.Tally{Recommendations: 4, Agree: 2, OtherChannel: 1, OtherAction: 1, Rate: 0.5}
	if diff := cmp.Diff(wantTotals, rep.Totals); diff != "" {
		t.Errorf("totals (-want +got):\n%s", diff)
	}
	wantByAction := []shadow.Group{
		{Key: "call", Tally: shadow.Tally{Recommendations: 1, OtherAction: 1}},
		{Key: "firm_reminder", Tally: shadow.Tally{Recommendations: 1, OtherChannel: 1}},
		{Key: "friendly_reminder", Tally: shadow.Tally{Recommendations: 1, Agree: 1, Rate: 1}},
		{Key: "none", Tally: shadow.Tally{Recommendations: 1, Agree: 1, Rate: 1}},
	}
	if diff := cmp.Diff(wantByAction, rep.ByAction); diff != "" {
		t.Errorf("by action (-want +got):\n%s", diff)
	}
	wantBySegment := []shadow.Group{
		{Key: "enterprise", Tally: shadow.Tally{Recommendations: 1, OtherAction: 1}},
		{Key: "smb", Tally: shadow.Tally{Recommendations: 3, Agree: 2, OtherChannel: 1, Rate: 2.0 / 3}},
	}
	if diff := cmp.Diff(wantBySegment, rep.BySegment); diff != "" {
		t.Errorf("by segment (-want +got):\n%s", diff)
	}
	if rep.TeamOnly != 1 || rep.Unmatched[0].Customer != "C4" {
		t.Errorf("unmatched %+v, want C4's call", rep.Unmatched)
	}
	var order []string
	for _, e := range rep.Entries {
		order = append(order, e.Customer+"@"+e.At.Format("02T15"))
	}
	if diff := cmp.Diff([]string{"C1@02T09", "C1@04T09", "C2@02T10", "C3@02T09"}, order); diff != "" {
		t.Errorf("entries not sorted by customer and time (-want +got):\n%s", diff)
	}
}

func TestCompareWithoutSegmentsHasNoSegmentTally(t *testing.T) {
	r := rec("C1", 0, strategy.OutcomeAct, strategy.ActionCall, consent.Voice)
	r.Segment = ""
	if rep := shadow.Compare([]shadow.Recommendation{r}, nil, shadow.Options{}); rep.BySegment != nil {
		t.Errorf("by segment %+v, want none", rep.BySegment)
	}
}

func TestCompareEmpty(t *testing.T) {
	rep := shadow.Compare(nil, nil, shadow.Options{Tenant: "acme"})
	want := shadow.Report{Tenant: "acme", WindowSeconds: 7 * 24 * 3600, ByAction: []shadow.Group{}, Entries: []shadow.Entry{}, Unmatched: []shadow.Acted{}}
	if diff := cmp.Diff(want, rep); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	var buf bytes.Buffer
	if err := rep.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "total  0 ") || !strings.Contains(buf.String(), "  -\n") {
		t.Errorf("empty report:\n%s", buf.String())
	}
}

func TestCompareIgnoresInputOrderAndRepeats(t *testing.T) {
	recs, team := pilot()
	want := shadow.Compare(recs, team, shadow.Options{})
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		r2 := append(slices.Clone(recs), recs[1], recs[3])
		t2 := append(slices.Clone(team), team[0])
		rng.Shuffle(len(r2), func(i, j int) { r2[i], r2[j] = r2[j], r2[i] })
		rng.Shuffle(len(t2), func(i, j int) { t2[i], t2[j] = t2[j], t2[i] })
		if diff := cmp.Diff(want, shadow.Compare(r2, t2, shadow.Options{})); diff != "" {
			t.Fatalf("shuffled and repeated input changed the report (-want +got):\n%s", diff)
		}
	}
}

func TestReportText(t *testing.T) {
	recs, team := pilot()
	rep := shadow.Compare(recs, team, shadow.Options{Tenant: "acme", From: hours(-24), To: hours(96), Window: 72 * time.Hour})
	var buf bytes.Buffer
	if err := rep.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	want := `Shadow agreement for tenant acme, 2025-06-01T09:00:00Z to 2025-06-06T09:00:00Z
a recommendation is answered by the team's actions until the next one, at most 72h0m0s later

       recommendations  agree  other channel  other action  team did nothing  agreement
total  4                2      1              1             0                 50.0%

team actions without a recommendation: 1

by action          recommendations  agree  other channel  other action  team did nothing  agreement
call               1                0      0              1             0                 0.0%
firm_reminder      1                0      1              0             0                 0.0%
friendly_reminder  1                1      0              0             0                 100.0%
none               1                1      0              0             0                 100.0%

by segment  recommendations  agree  other channel  other action  team did nothing  agreement
enterprise  1                0      0              1             0                 0.0%
smb         3                2      1              0             0                 66.7%

customer  at                    outcome  recommended              team                              class
C1        2025-06-02T09:00:00Z  act      friendly_reminder/email  friendly_reminder/email by col-7  agree
C1        2025-06-04T09:00:00Z  act      firm_reminder/email      firm_reminder/sms by col-7        other_channel
C2        2025-06-02T10:00:00Z  wait     none                     -                                 agree
C3        2025-06-02T09:00:00Z  act      call/voice               firm_reminder/email by col-7      other_action

customer  at                    team action without a recommendation  by
C4        2025-06-02T14:00:00Z  call/voice                            col-7
`
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("text (-want +got):\n%s", diff)
	}
}

func TestReportJSONRoundTrips(t *testing.T) {
	recs, team := pilot()
	rep := shadow.Compare(recs, team, shadow.Options{Tenant: "acme", From: hours(-24)})
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"agreement_rate":0.5`, `"team_without_recommendation":1`, `"window_seconds":604800`,
		`"class":"other_channel"`, `"by_segment":[`, `"from":"2025-06-01T09:00:00Z"`} {
		if !bytes.Contains(data, []byte(key)) {
			t.Errorf("JSON lacks %s:\n%s", key, data)
		}
	}
	if bytes.Contains(data, []byte(`"to"`)) || bytes.Contains(data, []byte("spoke to AP")) {
		t.Errorf("JSON has a zero to or a team note:\n%s", data)
	}
	var back shadow.Report
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rep, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}
