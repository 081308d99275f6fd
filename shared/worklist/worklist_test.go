package worklist

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/shared/engagement"
	"github.com/recoup-dev/recoup/shared/features"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
	"github.com/recoup-dev/recoup/shared/preference"
	"github.com/recoup-dev/recoup/shared/priority"
	"github.com/recoup-dev/recoup/shared/ranking"
	"github.com/recoup-dev/recoup/testdata/portfolio"
)

func TestBuild(t *testing.T) {
	end := ledger.Date(2026, 11, 1)
	b, err := portfolio.Load(portfolio.Config{Seed: 5, Customers: 500, Invoices: 3000, AsOf: end, Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	snap := features.Snapshot{Customers: b.Customers, Invoices: b.Invoices, Payments: b.Payments}
	m, err := ranking.Train(snap, end, ranking.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	// One customer answers texts and ignores email; its channel must be
	// SMS (no exploration in this test).
	custs := map[string]bool{}
	for _, inv := range b.Invoices {
		if inv.IsOpen() {
			custs[inv.Customer] = true
		}
	}
	var texter string
	for _, cp := range b.Contacts {
		if custs[cp.Customer] && cp.Kind == ledger.ContactPhone && cp.Phone.Line == ledger.LineMobile && cp.Consent != ledger.ConsentRevoked {
			texter = cp.Customer
			break
		}
	}
	// Another paid once after a letter, among ten letters sent, and
	// replied to one of two emails: counted as sent, letters read 1 in 10
	// and email is recommended; counted by responses alone, letters would
	// read 1 in 1.
	kinds := map[string]map[ledger.ContactKind]bool{}
	for _, cp := range b.Contacts {
		if cp.Consent != ledger.ConsentRevoked {
			if kinds[cp.Customer] == nil {
				kinds[cp.Customer] = map[ledger.ContactKind]bool{}
			}
			kinds[cp.Customer][cp.Kind] = true
		}
	}
	var writer string
	for _, c := range slices.Sorted(maps.Keys(custs)) {
		if k := kinds[c]; c != texter && k[ledger.ContactEmail] && k[ledger.ContactPostal] && !k[ledger.ContactPhone] {
			writer = c
			break
		}
	}
	if writer == "" {
		t.Fatal("no customer with an open balance, an email and a postal address and no phone")
	}
	var sent []time.Time
	for i := range 10 {
		sent = append(sent, end.AddDate(0, 0, -20-7*i))
	}
	eng := map[string]engagement.Features{writer: {
		Counts: map[string]map[engagement.Signal]int{
			"letter": {engagement.SignalPaid: 1},
			"email":  {engagement.SignalDelivered: 2, engagement.SignalReplied: 1},
		},
		Letters: sent,
	}, texter: {
		Counts: map[string]map[engagement.Signal]int{
			"sms":   {engagement.SignalDelivered: 3, engagement.SignalReplied: 3},
			"email": {engagement.SignalDelivered: 6},
		},
		LastResponse: map[string]time.Time{"sms": end.AddDate(0, 0, -2)},
	},
		// Letters have no receipts: two are past their reply window and
		// count as trials, the third is still in the post.
		"L1": {Letters: []time.Time{end.AddDate(0, 0, -30), end.AddDate(0, 0, -20), end.AddDate(0, 0, -3)}},
	}
	opts := preference.DefaultOptions()
	opts.ExploreShare = 0
	wl, err := Build(Inputs{Tenant: "acme", At: end, Model: m, Snapshot: snap, Contacts: b.Contacts, Engagement: eng,
		Priority: priority.Config{Currency: money.MustCurrency("USD"), Rates: map[string]string{"CAD": "0.71", "EUR": "1.08"}},
		Choice:   opts})
	if err != nil {
		t.Fatal(err)
	}
	if len(wl.Entries) == 0 {
		t.Fatal("empty worklist")
	}
	if got := len(wl.Entries) + len(wl.Unreachable); got < len(custs) {
		t.Errorf("%d entries and %d unreachable for %d customers with open invoices", len(wl.Entries), len(wl.Unreachable), len(custs))
	}
	found := false
	for i, e := range wl.Entries {
		if e.Rank != i+1 || (i > 0 && e.Value.Value.Minor > wl.Entries[i-1].Value.Value.Minor) {
			t.Fatalf("entry %d out of order: rank %d value %v after %v", i, e.Rank, e.Value.Value, wl.Entries[max(0, i-1)].Value.Value)
		}
		if e.Channel.Channel == "" || e.Channel.Reason == "" || len(e.Score.Reasons) == 0 || !strings.Contains(e.Value.Why, "respond by "+e.Channel.Channel) {
			t.Fatalf("entry %d incomplete: %+v", i, e)
		}
		if e.Score.Customer == writer && e.Channel.Channel != preference.Email {
			t.Errorf("customer %s paid after 1 of 10 letters and replied to 1 of 2 emails, recommended %s (%s)", writer, e.Channel.Channel, e.Channel.Reason)
		}
		if e.Score.Customer == texter {
			found = true
			if e.Channel.Channel != preference.SMS {
				t.Errorf("customer %s replied to 3 of 3 texts and none of 6 emails, recommended %s (%s)", texter, e.Channel.Channel, e.Channel.Reason)
			}
		}
	}
	if !found {
		t.Errorf("customer %q, who has an open balance and a mobile, is not on the worklist", texter)
	}
	if got := wl.Prior.For(preference.Letter); got.Trials != 12 || got.Customers != 2 {
		t.Errorf("letter prior from %d customers and %d trials, want 2 and the 12 letters past their window", got.Customers, got.Trials)
	}
	if wl.Drift.Rows == 0 {
		t.Error("no drift report")
	}
}

// The engagement features spell channels as the events do; the touches
// the ranking features read use the model's names, and drop channels
// that are not contacts (a payment page visit).
func TestWithTouches(t *testing.T) {
	at := ledger.Date(2026, 10, 30)
	eng := map[string]engagement.Features{
		"C2": {LastResponse: map[string]time.Time{"voice_ai": at, "web": at}},
		"C1": {LastResponse: map[string]time.Time{"sms": at.AddDate(0, 0, -1)}},
	}
	got := withTouches(features.Snapshot{Touches: []features.Touch{{Customer: "C0", Channel: "email", At: at}}}, eng).Touches
	want := []features.Touch{
		{Customer: "C0", Channel: "email", At: at},
		{Customer: "C1", Channel: "sms", At: at.AddDate(0, 0, -1), Response: true},
		{Customer: "C2", Channel: "ai_voice", At: at, Response: true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("touches (-want +got):\n%s", diff)
	}
}

// The channel is chosen net of its cost: the same customer, equally
// likely to answer a call as to reply to an email, is called about a
// large balance and emailed about a small one.
func TestChannelWeighsCost(t *testing.T) {
	eng := engagement.Features{Counts: map[string]map[engagement.Signal]int{
		"voice": {engagement.SignalAnswered: 4, engagement.SignalUnanswered: 1},
		"email": {engagement.SignalDelivered: 10, engagement.SignalReplied: 3},
	}}
	usd := money.MustCurrency("USD")
	opts := preference.DefaultOptions()
	opts.ExploreShare = 0
	in := Inputs{Engagement: map[string]engagement.Features{"C": eng}, Priority: priority.Config{Currency: usd}, Choice: opts}
	for _, tc := range []struct {
		open int64
		want string
	}{
		{50_000_00, preference.Voice}, // $50,000: the call's $5 is nothing
		{20_00, preference.Email},     // $20: a $5 call costs more than it is likely to bring
	} {
		c := ranking.CustomerScore{Customer: "C", Open: money.New(tc.open, usd)}
		c.PayWithin[Horizon] = 0.2
		got, err := channelFor(in, preference.DefaultPrior(), c, []string{preference.Email, preference.Voice}, "t/C/day")
		if err != nil {
			t.Fatal(err)
		}
		if got.Channel != tc.want {
			t.Errorf("open %v: %s (%s), want %s", c.Open, got.Channel, got.Reason, tc.want)
		}
	}
}
