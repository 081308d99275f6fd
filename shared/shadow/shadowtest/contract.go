package shadowtest

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/shadow"
	"github.com/recoup-dev/recoup/shared/strategy"
)

// Execution is the ARN of a cycle execution for the customer.
func Execution(tenant ledger.TenantID, customer string) string {
	return "arn:aws:states:us-east-1:123456789012:execution:recoup-cycle:" + string(tenant) + "-" + customer
}

// Recommendation is a drafted email reminder for the customer, planned at.
func Recommendation(tenant ledger.TenantID, customer string, at time.Time) shadow.Recommendation {
	at = at.UTC()
	exec := Execution(tenant, customer)
	return shadow.Recommendation{
		ID: shadow.RecommendationID(exec, at), Tenant: tenant, Customer: customer, Execution: exec, At: at,
		RecordedAt: at.Add(2 * time.Second), Outcome: strategy.OutcomeAct, Action: strategy.ActionFriendlyReminder,
		Step: "r1", Channel: consent.Email, When: at, Segment: "smb", CustomerSegment: "retail",
		Invoices: []string{"INV-1", "INV-2"}, RequiresApproval: true, ApprovalReasons: []string{"high_balance"},
		Reason: "first reminder, 12 days past due", Route: "act", ConfigVersion: "v3", ConfigHash: "c0ffee",
		DraftSource: "template",
		Draft: &shadow.Draft{Channel: consent.Email, Subject: "Invoices INV-1 and INV-2", Body: "Dear customer, two invoices are overdue.",
			TemplateID: "friendly-email-1"},
	}
}

// TeamAction is a valid team action with its id.
func TeamAction(tenant ledger.TenantID, customer string, at time.Time, action strategy.Action, ch consent.Channel, by string) shadow.TeamAction {
	a := shadow.TeamAction{Tenant: tenant, Customer: customer, At: at.UTC(), Action: action, Channel: ch, By: by,
		Note: "spoke to AP", Source: "collector", RecordedAt: at.Add(time.Hour).UTC()}
	a.ID = shadow.TeamActionID(a)
	return a
}

var tenantSeq atomic.Int64

// freshTenant names a tenant no other subtest uses, so stores that share
// one table between subtests stay independent.
func freshTenant() ledger.TenantID {
	return ledger.TenantID(fmt.Sprintf("pilot-%d-%d", time.Now().UnixNano()%1_000_000, tenantSeq.Add(1)))
}

// Run is the contract every shadow.Log honours.
func Run(t *testing.T, newStore func(t *testing.T) shadow.Log) {
	ctx := context.Background()
	t0 := time.Date(2025, 6, 2, 9, 0, 0, 123456789, time.UTC)

	t.Run("a recommendation is stored once and round-trips", func(t *testing.T) {
		s, tenant := newStore(t), freshTenant()
		r := Recommendation(tenant, "C1", t0)
		created, err := s.PutRecommendation(ctx, r)
		if err != nil || !created {
			t.Fatalf("first put: created %v, %v", created, err)
		}
		retry := r
		retry.RecordedAt = r.RecordedAt.Add(time.Minute)
		created, err = s.PutRecommendation(ctx, retry)
		if err != nil || created {
			t.Fatalf("second put: created %v, %v; want false, nil", created, err)
		}
		got, err := s.Recommendations(ctx, tenant, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]shadow.Recommendation{r}, got); diff != "" {
			t.Errorf("stored (-put +got):\n%s", diff)
		}
	})

	t.Run("a recommendation without draft or when round-trips", func(t *testing.T) {
		s, tenant := newStore(t), freshTenant()
		r := Recommendation(tenant, "C1", t0)
		r.Outcome, r.Action, r.Channel, r.When, r.Route = strategy.OutcomeNone, "", "", time.Time{}, "close"
		r.Draft, r.DraftSource, r.Invoices, r.ApprovalReasons, r.Segment, r.RequiresApproval = nil, "", nil, nil, "", false
		if _, err := s.PutRecommendation(ctx, r); err != nil {
			t.Fatal(err)
		}
		got, err := s.Recommendations(ctx, tenant, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]shadow.Recommendation{r}, got); diff != "" {
			t.Errorf("stored (-put +got):\n%s", diff)
		}
	})

	t.Run("an invalid recommendation is refused and not stored", func(t *testing.T) {
		s, tenant := newStore(t), freshTenant()
		r := Recommendation(tenant, "C1", t0)
		r.ID = "shd-forged"
		if _, err := s.PutRecommendation(ctx, r); !errors.Is(err, shadow.ErrInvalid) {
			t.Fatalf("put of a forged id: %v, want ErrInvalid", err)
		}
		if got, _ := s.Recommendations(ctx, tenant, time.Time{}, time.Time{}); len(got) != 0 {
			t.Errorf("stored %d recommendations", len(got))
		}
	})

	t.Run("a team action is stored once and round-trips", func(t *testing.T) {
		s, tenant := newStore(t), freshTenant()
		a := TeamAction(tenant, "C1", t0, strategy.ActionCall, consent.Voice, "col-7")
		if created, err := s.PutTeamAction(ctx, a); err != nil || !created {
			t.Fatalf("first put: created %v, %v", created, err)
		}
		again := a
		again.Note, again.Source = "another note", "csv:team.csv"
		if created, err := s.PutTeamAction(ctx, again); err != nil || created {
			t.Fatalf("second put: created %v, %v; want false, nil", created, err)
		}
		none := TeamAction(tenant, "C1", t0.Add(time.Hour), shadow.ActionNone, "", "col-7")
		none.Note = ""
		none.RecordedAt = time.Time{}
		if _, err := s.PutTeamAction(ctx, none); err != nil {
			t.Fatal(err)
		}
		got, err := s.TeamActions(ctx, tenant, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]shadow.TeamAction{a, none}, got); diff != "" {
			t.Errorf("stored (-put +got):\n%s", diff)
		}
	})

	t.Run("an invalid team action is refused", func(t *testing.T) {
		s, tenant := newStore(t), freshTenant()
		a := TeamAction(tenant, "C1", t0, strategy.ActionCall, consent.Email, "col-7")
		if _, err := s.PutTeamAction(ctx, a); !errors.Is(err, shadow.ErrInvalid) {
			t.Fatalf("put of a call by email: %v, want ErrInvalid", err)
		}
	})

	t.Run("listings are a tenant's records in [from, to), sorted by time", func(t *testing.T) {
		s, tenant, other := newStore(t), freshTenant(), freshTenant()
		var recs []shadow.Recommendation
		var team []shadow.TeamAction
		// Enough customers to cover every partition a store may shard by.
		for i := range 40 {
			at := t0.Add(time.Duration(i) * time.Hour)
			customer := fmt.Sprintf("C%02d", i%23)
			r := Recommendation(tenant, customer, at)
			a := TeamAction(tenant, customer, at.Add(time.Minute), strategy.ActionFriendlyReminder, consent.Email, "col-1")
			for _, put := range []func() (bool, error){
				func() (bool, error) { return s.PutRecommendation(ctx, r) },
				func() (bool, error) { return s.PutTeamAction(ctx, a) },
				func() (bool, error) { return s.PutRecommendation(ctx, Recommendation(other, customer, at)) },
			} {
				if _, err := put(); err != nil {
					t.Fatal(err)
				}
			}
			recs, team = append(recs, r), append(team, a)
		}
		from, to := t0.Add(5*time.Hour), t0.Add(30*time.Hour)
		gotRecs, err := s.Recommendations(ctx, tenant, from, to)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(recs[5:30], gotRecs); diff != "" {
			t.Errorf("recommendations in [5h, 30h) (-want +got):\n%s", diff)
		}
		gotTeam, err := s.TeamActions(ctx, tenant, from, to)
		if err != nil {
			t.Fatal(err)
		}
		// Team actions are a minute after their recommendation: the one of
		// hour 4 is before from, the one of hour 29 inside.
		if diff := cmp.Diff(team[5:30], gotTeam); diff != "" {
			t.Errorf("team actions in [5h, 30h) (-want +got):\n%s", diff)
		}
		all, err := s.Recommendations(ctx, tenant, time.Time{}, time.Time{})
		if err != nil || len(all) != 40 {
			t.Errorf("all recommendations: %d, %v; want 40", len(all), err)
		}
		since, err := s.TeamActions(ctx, tenant, t0.Add(39*time.Hour), time.Time{})
		if err != nil || len(since) != 1 {
			t.Errorf("team actions since hour 39: %d, %v; want 1", len(since), err)
		}
	})

	t.Run("a malformed tenant is refused", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.Recommendations(ctx, "a#b", time.Time{}, time.Time{}); err == nil {
			t.Error("listing tenant a#b: no error")
		}
		if _, err := s.TeamActions(ctx, "", time.Time{}, time.Time{}); err == nil {
			t.Error("listing tenant \"\": no error")
		}
	})
}
