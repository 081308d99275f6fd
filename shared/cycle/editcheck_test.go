package cycle

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/drafting"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/strategy"
)

// TestEditChecker: a collector's edit is held to the model's guardrails.
func TestEditChecker(t *testing.T) {
	acct := account(invoice("I1", ledger.Date(2026, 2, 20), 123456))
	plan := actOn(consent.Email, strategy.ActionFirmReminder, 2, "I1")
	dec, _ := json.Marshal(plan)
	c := &EditChecker{Accounts: fakeLedger{t: t, accounts: map[string]ledger.Account{"C1": acct}}, Profiles: profiles{acmeProfile(t)}}
	f, err := Facts(acmeProfile(t), acct, plan)
	if err != nil {
		t.Fatal(err)
	}
	subject, body, _, err := drafting.Template(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, body string
		want       string // "" for none
	}{
		{"the vetted text", body, ""},
		{"an amount changed", strings.Replace(body, "1,234.56", "1,243.56", 1), "amount"},
		{"a threat added", body + "\nWe will have you arrested.", "banned"},
		{"the opt-out removed", strings.Replace(body, f.Disclosures.OptOut, "", 1), "disclosure"},
	} {
		got, err := c.Check(context.Background(), "acme", "C1", dec, subject, tc.body)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if (tc.want == "") != (len(got) == 0) || (tc.want != "" && !strings.HasPrefix(strings.Join(got, ";"), tc.want)) {
			t.Errorf("%s: violations %v, want %q", tc.name, got, tc.want)
		}
	}
	if _, err := c.Check(context.Background(), "acme", "C1", json.RawMessage(`{"route":`), subject, body); !errors.Is(err, ErrInput) {
		t.Errorf("an unreadable decision: %v", err)
	}
}
