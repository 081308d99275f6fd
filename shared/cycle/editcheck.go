package cycle

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/recoup-dev/recoup/shared/drafting"
	"github.com/recoup-dev/recoup/shared/ledger"
)

// EditChecker vets a collector's edited draft with the same guardrails as
// a model's: every amount, date, invoice number and name must match the
// facts, the disclosures must be there, no banned phrase, no link.
type EditChecker struct {
	Accounts AccountReader
	Profiles Profiles
}

// Check returns the guardrail failures of an edit in a collector's words
// ("amount: ..."); none when it may be sent. Its arguments are those of
// approval.Checker: the decision as the execution gave it.
func (c *EditChecker) Check(ctx context.Context, tenant ledger.TenantID, customer string, decision json.RawMessage, subject, body string) ([]string, error) {
	var plan Plan
	if err := json.Unmarshal(decision, &plan); err != nil {
		return nil, fmt.Errorf("%w: the approval's decision: %w", ErrInput, err)
	}
	prof, err := c.Profiles.Profile(ctx, tenant)
	if err != nil {
		return nil, err
	}
	acct, found, err := c.Accounts.Account(ctx, tenant, customer)
	if err != nil {
		return nil, Transient{err}
	}
	if !found {
		return nil, fmt.Errorf("%w: customer %s of tenant %s is not in the ledger", ErrInput, customer, tenant)
	}
	f, err := Facts(prof, acct, plan)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, v := range drafting.CheckDraft(f, subject, body) {
		out = append(out, v.String())
	}
	return out, nil
}
