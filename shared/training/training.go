// Package training is the weekly training job of the ranking model: read
// a tenant's ledger, train a challenger, score it and the champion on the
// same held-out weeks, promote the challenger only when it is better, and
// keep both the artifact and the reasons in the registry. The Lambda
// (functions/train) and `recoup model train` both run it.
package training

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/recoup-dev/recoup/shared/features"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/ranking"
	"github.com/recoup-dev/recoup/shared/registry"
	"github.com/recoup-dev/recoup/shared/scoring"
)

// Model is the registry name of the ranking model.
const Model = "ranking"

// Source reads one tenant's ledger.
type Source interface {
	Customers(ctx context.Context, tenant ledger.TenantID) ([]ledger.Customer, error)
	Invoices(ctx context.Context, tenant ledger.TenantID) ([]ledger.Invoice, error)
	Payments(ctx context.Context, tenant ledger.TenantID) ([]ledger.Payment, error)
	Disputes(ctx context.Context, tenant ledger.TenantID) ([]ledger.Dispute, error)
	Promises(ctx context.Context, tenant ledger.TenantID) ([]ledger.PromiseToPay, error)
}

// Snapshot reads a tenant's ledger as the features need it.
func Snapshot(ctx context.Context, src Source, tenant ledger.TenantID) (features.Snapshot, error) {
	var s features.Snapshot
	var err error
	if s.Customers, err = src.Customers(ctx, tenant); err != nil {
		return s, fmt.Errorf("read customers of %s: %w", tenant, err)
	}
	if s.Invoices, err = src.Invoices(ctx, tenant); err != nil {
		return s, fmt.Errorf("read invoices of %s: %w", tenant, err)
	}
	if s.Payments, err = src.Payments(ctx, tenant); err != nil {
		return s, fmt.Errorf("read payments of %s: %w", tenant, err)
	}
	if s.Disputes, err = src.Disputes(ctx, tenant); err != nil {
		return s, fmt.Errorf("read disputes of %s: %w", tenant, err)
	}
	if s.Promises, err = src.Promises(ctx, tenant); err != nil {
		return s, fmt.Errorf("read promises of %s: %w", tenant, err)
	}
	return s, nil
}

// Job trains and registers.
type Job struct {
	Source   Source
	Registry registry.Registry
	Config   ranking.Config
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Report is what one run did and why; it is stored beside the artifact.
type Report struct {
	Tenant     ledger.TenantID `json:"tenant"`
	Version    string          `json:"version"`
	DataEnd    time.Time       `json:"data_end"`
	Invoices   int             `json:"invoices"`
	Challenger ranking.Metrics `json:"challenger"`
	// Comparison scores challenger and champion on the rows neither
	// trained on; absent when there is no usable champion or too few such
	// rows yet.
	Comparison      *ranking.Comparison `json:"comparison,omitempty"`
	ChampionVersion string              `json:"champion_version,omitempty"`
	Promoted        bool                `json:"promoted"`
	Reason          string              `json:"reason"`
	Seconds         float64             `json:"seconds"`
}

// Run trains a challenger on the tenant's ledger as exported at end.
func (j Job) Run(ctx context.Context, tenant ledger.TenantID, end time.Time) (Report, error) {
	now := time.Now
	if j.Now != nil {
		now = j.Now
	}
	start := now()
	rep := Report{Tenant: tenant, DataEnd: end}
	snap, err := Snapshot(ctx, j.Source, tenant)
	if err != nil {
		return rep, err
	}
	rep.Invoices = len(snap.Invoices)
	champion, unusable, err := j.champion(ctx, tenant, &rep)
	if err != nil {
		return rep, err
	}
	m, cmp, err := ranking.TrainAgainst(snap, end, j.Config, champion)
	if err != nil {
		return rep, fmt.Errorf("train the ranking model of %s: %w", tenant, err)
	}
	m.TrainedAt = now().UTC()
	rep.Challenger = m.Validation
	rep.Comparison = cmp
	artifact, err := m.MarshalBinary()
	if err != nil {
		return rep, err
	}
	rep.Version = registry.Version(m.TrainedAt, artifact)
	switch {
	case champion == nil:
		rep.Promoted, rep.Reason = firstModel(m.Validation)
		if unusable != "" {
			rep.Reason = unusable + "; " + rep.Reason
		}
	case cmp == nil:
		rep.Reason = fmt.Sprintf("champion kept: it trained on data to %s, and fewer than %d held-out rows are new to it; compared again at the next run",
			champion.DataEnd.Format(time.DateOnly), scoring.MinRows)
	case cmp.Challenger.Score() < cmp.Champion.Score():
		rep.Promoted = true
		rep.Reason = fmt.Sprintf("challenger's mean Brier score %.4f beats the champion's %.4f on the %d held-out rows neither trained on",
			cmp.Challenger.Score(), cmp.Champion.Score(), cmp.Rows)
	default:
		rep.Reason = fmt.Sprintf("champion kept: its mean Brier score %.4f is no worse than the challenger's %.4f on the %d held-out rows neither trained on",
			cmp.Champion.Score(), cmp.Challenger.Score(), cmp.Rows)
	}
	rep.Seconds = now().Sub(start).Seconds()
	report, err := json.MarshalIndent(rep, "", " ")
	if err != nil {
		return rep, err
	}
	if err := j.Registry.Save(ctx, tenant, Model, rep.Version, artifact, report); err != nil {
		return rep, err
	}
	if rep.Promoted {
		if err := j.Registry.Promote(ctx, tenant, Model, registry.Champion{Version: rep.Version, PromotedAt: now().UTC(), Reason: rep.Reason}); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// firstModel promotes a tenant's first model only if it ranks better than
// the rule a team would use without one.
func firstModel(v ranking.Metrics) (bool, string) {
	auc := v.Within[len(ranking.Horizons)-1].AUC
	if auc > v.Baseline {
		return true, fmt.Sprintf("first model: 30-day AUC %.3f beats the customer's on-time share (%.3f) on the newest weeks", auc, v.Baseline)
	}
	return false, fmt.Sprintf("first model not promoted: 30-day AUC %.3f does not beat the customer's on-time share (%.3f)", auc, v.Baseline)
}

// champion loads the current champion: nil when there is none, or when
// this build cannot read it (older features), which the second result
// explains.
func (j Job) champion(ctx context.Context, tenant ledger.TenantID, rep *Report) (*ranking.Model, string, error) {
	c, err := j.Registry.Champion(ctx, tenant, Model)
	if errors.Is(err, registry.ErrNotFound) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	rep.ChampionVersion = c.Version
	b, err := j.Registry.Artifact(ctx, tenant, Model, c.Version)
	if err != nil {
		return nil, "", fmt.Errorf("load champion %s: %w", c.Version, err)
	}
	var m ranking.Model
	if err := m.UnmarshalBinary(b); err != nil {
		return nil, fmt.Sprintf("champion %s is unusable (%v)", c.Version, err), nil
	}
	return &m, "", nil
}
