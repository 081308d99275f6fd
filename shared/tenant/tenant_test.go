package tenant

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/drafting"
	"github.com/recoup-dev/recoup/shared/ledger"
)

func TestDemoProfile(t *testing.T) {
	p := Demo()
	if p.Tenant != "demo" || p.Collector != ledger.FirstParty || p.StrategyConfig() == nil {
		t.Fatalf("demo profile %+v", p)
	}
	if got := p.Mode("pilot"); got != "shadow" {
		t.Errorf("pilot segment mode %q", got)
	}
	if got := p.Mode("smb"); got != "live" {
		t.Errorf("smb segment mode %q", got)
	}
	req := []compliance.Disclosure{compliance.DisclosureMiniMiranda, compliance.DisclosureOptOut}
	want := drafting.Disclosures{Required: req, MiniMiranda: p.Disclosures.MiniMiranda, DebtCollector: p.Disclosures.DebtCollector,
		OptOut: p.Disclosures.OptOut, CallerIdentity: p.Disclosures.CallerIdentity, CallbackNumber: p.Disclosures.CallbackNumber}
	if diff := cmp.Diff(want, p.DraftingDisclosures(req)); diff != "" {
		t.Errorf("disclosures (-want +got):\n%s", diff)
	}
}

// TestParseRefuses: each broken profile is refused with the field named.
func TestParseRefuses(t *testing.T) {
	good := string(DemoJSON())
	for _, tc := range []struct {
		name, old, new, field string
	}{
		{"schema", `"recoup.tenant/1"`, `"recoup.tenant/2"`, "schema"},
		{"tenant", `"tenant": "demo"`, `"tenant": ""`, "tenant"},
		{"name", `"name": "Northwind Supply"`, `"name": " "`, "name"},
		{"collector", `"first_party"`, `"agency"`, "collector"},
		{"mini-Miranda", `"mini_miranda": "This is an attempt to collect a debt. Any information obtained will be used for that purpose."`, `"mini_miranda": ""`, "disclosures.mini_miranda"},
		{"callback", `"callback_number": "(800) 555-0100"`, `"callback_number": ""`, "disclosures.callback_number"},
		{"remedy", `["referral"]`, `["jail"]`, "remedies[0]"},
		{"currency", `"reporting_currency": "USD"`, `"reporting_currency": "XXY"`, "reporting_currency"},
		{"rate", `"CAD": "0.71"`, `"CAD": "-1"`, "rates"},
		{"segments", `"max_sms_segments": 3`, `"max_sms_segments": 11`, "max_sms_segments"},
		{"shadow", `["pilot"]`, `["pilot", ""]`, "shadow_segments[1]"},
		{"misspelt field", `"shadow_segments"`, `"shadow_segment"`, "shadow_segment"},
		{"strategy", `"shadow_segments"`, `"strategy": {"schema": "nope"}, "shadow_segments"`, "strategy"},
		{"trailing", `"pilot"]
}`, `"pilot"]
} {}`, "after the profile"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(good, tc.old) {
				t.Fatalf("the demo profile has no %q", tc.old)
			}
			_, err := Parse([]byte(strings.Replace(good, tc.old, tc.new, 1)))
			if !errors.Is(err, ErrProfile) || !strings.Contains(err.Error(), tc.field) {
				t.Errorf("error %v, want ErrProfile naming %q", err, tc.field)
			}
		})
	}
}

func TestParseStrategy(t *testing.T) {
	// The profile carries its own strategy config through ParseConfig.
	in := strings.Replace(string(DemoJSON()), `"shadow_segments"`, `"strategy": `+strategyJSON(t)+`, "shadow_segments"`, 1)
	p, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if p.StrategyConfig().Hash() == "" {
		t.Error("no strategy config")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(DemoJSON())
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err == nil && (p.StrategyConfig() == nil || p.Name == "") {
			t.Fatalf("accepted a profile without a strategy or name: %+v", p)
		}
		if err != nil && !errors.Is(err, ErrProfile) {
			t.Fatalf("error %v is not ErrProfile", err)
		}
	})
}

func strategyJSON(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../strategy/testdata/default.json")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
