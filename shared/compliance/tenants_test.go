package compliance

import (
	"errors"
	"testing"
	"testing/fstest"
	"time"

	"github.com/recoup-dev/recoup/shared/ledger"
)

func TestLoadEnginesAppliesEachTenantsOverride(t *testing.T) {
	strict := []byte(`{"tenant":"acme","version":"3","params":{"REGF-TIME":{"earliest":"09:00","latest":"20:00"}}}`)
	engines, err := LoadEngines(fstest.MapFS{"policies/acme.json": {Data: strict}}, "policies")
	if err != nil {
		t.Fatal(err)
	}
	// 08:30 in Columbus: lawful under the default 08:00, not under acme's 09:00.
	c := Case{Collector: ledger.ThirdParty, Consumer: Consumer{ID: "C1", State: "OH", ZIP: "43215",
		Emails: []EmailAddress{{Address: "pat@example.com"}}}, Debts: []Debt{{ID: "A"}},
		History: []Event{{Kind: EventValidationNoticeSent, At: time.Date(2026, 3, 1, 15, 0, 0, 0, time.UTC), Debt: "A"}},
		Attempt: Attempt{At: time.Date(2026, 4, 14, 12, 30, 0, 0, time.UTC), Channel: ChannelEmail, Debt: "A", To: "pat@example.com",
			Purpose: PurposeCollection, Disclosures: []Disclosure{DisclosureMiniMiranda, DisclosureDebtCollector, DisclosureOptOut}}}
	for tenant, want := range map[ledger.TenantID]Decision{"acme": Block, "globex": Allow} {
		e, err := engines.For(tenant)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.Decide(c); got.Decision != want {
			t.Errorf("tenant %s at 08:30: %s (%s), want %s", tenant, got.Decision, got.Reason, want)
		}
	}
}

func TestLoadEnginesRefusesMisfiledOrBrokenOverrides(t *testing.T) {
	tests := map[string]fstest.MapFS{
		"tenant does not match the file": {"p/globex.json": {Data: []byte(`{"tenant":"acme","version":"1"}`)}},
		"an override that loosens":       {"p/acme.json": {Data: []byte(`{"tenant":"acme","version":"1","disable":["REGF-TIME"]}`)}},
		"not JSON":                       {"p/acme.json": {Data: []byte(`{`)}},
	}
	for name, fsys := range tests {
		if _, err := LoadEngines(fsys, "p"); !errors.Is(err, ErrPolicy) {
			t.Errorf("%s: LoadEngines = %v, want ErrPolicy", name, err)
		}
	}
	var none *Engines
	if _, err := none.For("acme"); !errors.Is(err, ErrNoEngine) {
		t.Errorf("For on nil Engines = %v, want ErrNoEngine", err)
	}
}
