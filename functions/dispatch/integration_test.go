package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/recoup-dev/recoup/infra/local/localtest"
	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/dispatch"
	"github.com/recoup-dev/recoup/shared/ledger"
)

// TestIntegrationDispatchBootstrap invokes the real bootstrap through the
// local Lambda host with an email dated now to Columbus, Ohio: the gate's
// own clock decides, so the expected answer is computed from the same
// clock (allowed from 08:00 to 21:00 local, else blocked until 08:00). An
// attempt dated an hour ago is refused.
func TestIntegrationDispatchBootstrap(t *testing.T) {
	localtest.Require(t, "AWS_ENDPOINT_URL_LAMBDA")
	tenant := ledger.TenantID(fmt.Sprintf("fn%d", time.Now().UnixNano()))
	invoke := func(id string, at time.Time) (dispatch.Outcome, string) {
		req := dispatch.Request{Tenant: tenant, AttemptID: id, Collector: ledger.ThirdParty, Customer: "C1",
			Consumer: compliance.Consumer{ID: "C1", State: "OH", ZIP: "43215",
				Emails: []compliance.EmailAddress{{Address: "pat@example.com"}}},
			Debts: []compliance.Debt{{ID: "A"}},
			Attempt: compliance.Attempt{At: at, Channel: compliance.ChannelEmail, Debt: "A", To: "pat@example.com",
				Purpose: compliance.PurposeCollection, Disclosures: []compliance.Disclosure{
					compliance.DisclosureMiniMiranda, compliance.DisclosureDebtCollector, compliance.DisclosureOptOut}}}
		var o dispatch.Outcome
		fnErr := localtest.Invoke(t, "dispatch", req, &o)
		return o, fnErr
	}
	now := time.Now().UTC().Truncate(time.Second)
	o, fnErr := invoke("mail-now", now)
	if fnErr != "" {
		t.Fatalf("dispatch failed: %s", fnErr)
	}
	ny, _ := time.LoadLocation("America/New_York")
	local := now.In(ny)
	if h := local.Hour(); h >= 8 && h < 21 {
		if o.Result.Decision != compliance.Allow {
			t.Errorf("email at %s in Columbus: %+v, want allow", local.Format("15:04"), o.Result)
		}
	} else {
		next := time.Date(local.Year(), local.Month(), local.Day(), 8, 0, 0, 0, ny)
		if !next.After(local) {
			next = time.Date(local.Year(), local.Month(), local.Day()+1, 8, 0, 0, 0, ny)
		}
		if o.Result.Decision != compliance.Block || o.Result.EarliestAllowedAt == nil || !o.Result.EarliestAllowedAt.Equal(next) {
			t.Errorf("email at %s in Columbus: %+v, want blocked until %s", local.Format("15:04"), o.Result, next)
		}
	}
	if _, fnErr := invoke("mail-old", now.Add(-time.Hour)); !strings.Contains(fnErr, "from the gate's clock") {
		t.Errorf("an attempt dated an hour ago gave %q, want it refused for clock skew", fnErr)
	}
}
