package cycle

import (
	"context"
	"fmt"
	"time"

	"github.com/recoup-dev/recoup/shared/drift"
	"github.com/recoup-dev/recoup/shared/engagement"
	"github.com/recoup-dev/recoup/shared/features"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/preference"
	"github.com/recoup-dev/recoup/shared/ranking"
	"github.com/recoup-dev/recoup/shared/worklist"
)

// AccountReader reads everything the ledger holds about one customer.
type AccountReader interface {
	Account(ctx context.Context, tenant ledger.TenantID, customer string) (ledger.Account, bool, error)
}

// EngagementReader reads customers' engagement features (counts per
// channel and signal, last responses).
type EngagementReader interface {
	Features(ctx context.Context, tenant ledger.TenantID, customers []string) (map[string]engagement.Features, error)
}

// ModelSource gives a tenant's champion ranking model and its version.
type ModelSource interface {
	Champion(ctx context.Context, tenant ledger.TenantID) (*ranking.Model, string, error)
}

// Score is the Score step's result ($.score): the customer's outlook in
// the currency of its largest open balance, and the channel the
// preference model recommends among those it can be reached on.
type Score struct {
	Model string    `json:"model"`
	At    time.Time `json:"at"`
	// Open is false when nothing is open: there is nothing to score.
	Open       bool      `json:"open"`
	Currency   string    `json:"currency,omitempty"`
	OpenMinor  int64     `json:"open_minor,omitempty"`
	PayWithin  []float64 `json:"pay_within,omitempty"` // ranking.Horizons
	ExpectDays float64   `json:"expected_days,omitempty"`
	// Reasons are the collector's words for what moved the score.
	Reasons []string `json:"reasons,omitempty"`
	// Channel is empty when no channel reaches the customer.
	Channel preference.Choice `json:"channel"`
	// ValueMinor is the expected value of acting now, in ValueCurrency.
	ValueMinor    int64  `json:"value_minor,omitempty"`
	ValueCurrency string `json:"value_currency,omitempty"`
}

// Scorer is the Score step.
type Scorer struct {
	Accounts   AccountReader
	Engagement EngagementReader
	Models     ModelSource
	// Profiles give the tenant's reporting currency and rates, which
	// value the balance.
	Profiles Profiles
	Now      func() time.Time
}

// Score scores one customer with the tenant's champion model.
//
// The channel prior is fitted from this customer alone, which the
// preference model answers with its default strength; the daily run's
// population prior is the better one and is to be passed in once the
// worklist is stored (see the closing note of issue 6).
func (s *Scorer) Score(ctx context.Context, ref Ref) (Score, error) {
	if err := ref.Check(); err != nil {
		return Score{}, err
	}
	now := s.Now().UTC()
	model, version, err := s.Models.Champion(ctx, ref.Tenant)
	if err != nil {
		return Score{}, fmt.Errorf("cycle: score %s: champion model: %w", ref.Customer, err)
	}
	acct, found, err := s.Accounts.Account(ctx, ref.Tenant, ref.Customer)
	if err != nil {
		return Score{}, Transient{fmt.Errorf("cycle: score %s: %w", ref.Customer, err)}
	}
	if !found {
		return Score{}, fmt.Errorf("%w: customer %s of tenant %s is not in the ledger", ErrInput, ref.Customer, ref.Tenant)
	}
	prof, err := s.Profiles.Profile(ctx, ref.Tenant)
	if err != nil {
		return Score{}, fmt.Errorf("cycle: score %s: tenant profile: %w", ref.Customer, err)
	}
	feats, err := s.Engagement.Features(ctx, ref.Tenant, []string{ref.Customer})
	if err != nil {
		return Score{}, Transient{fmt.Errorf("cycle: score %s: engagement: %w", ref.Customer, err)}
	}
	wl, err := worklist.Build(worklist.Inputs{
		Tenant: ref.Tenant, At: now, Model: model,
		Snapshot: features.Snapshot{Customers: []ledger.Customer{acct.Customer}, Invoices: acct.Invoices,
			Payments: acct.Payments, Disputes: acct.Disputes, Promises: acct.Promises},
		Contacts: acct.Contacts, Engagement: feats, Priority: prof.Priority(),
		// One customer's rows say nothing about the population's drift;
		// the daily run reports it.
		Drift: drift.Thresholds{},
	})
	if err != nil {
		return Score{}, fmt.Errorf("cycle: score %s: %w", ref.Customer, err)
	}
	out := Score{Model: version, At: now}
	var best *ranking.CustomerScore
	var choice preference.Choice
	var value int64
	var valueCur string
	for _, e := range wl.Entries {
		if best == nil || e.Score.Open.Minor > best.Open.Minor {
			best, choice, value, valueCur = &e.Score, e.Channel, e.Value.Value.Minor, e.Value.Value.Currency.Code()
		}
	}
	for _, u := range wl.Unreachable {
		if best == nil || u.Open.Minor > best.Open.Minor {
			best, choice, value, valueCur = &u, preference.Choice{}, 0, ""
		}
	}
	if best == nil {
		return out, nil
	}
	out.Open, out.Currency, out.OpenMinor = true, best.Open.Currency.Code(), best.Open.Minor
	out.PayWithin, out.ExpectDays = best.PayWithin[:], best.ExpectedDays
	for _, r := range best.Reasons {
		out.Reasons = append(out.Reasons, r.Text())
	}
	out.Channel, out.ValueMinor, out.ValueCurrency = choice, value, valueCur
	return out, nil
}
