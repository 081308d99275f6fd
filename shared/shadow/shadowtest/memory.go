// Package shadowtest holds test doubles for the pilot record: an in-memory
// shadow.Log that passes the same contract suite (Run) as the DynamoDB
// store, so it cannot drift from it, and sample records.
package shadowtest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/shadow"
)

// Memory is an in-memory shadow.Log. Fail, when set, is returned by every
// put (to play a store that is down).
type Memory struct {
	mu    sync.Mutex
	recs  map[key]shadow.Recommendation
	team  map[key]shadow.TeamAction
	calls map[string]int
	Fail  error
}

type key struct {
	tenant ledger.TenantID
	id     string
}

var _ shadow.Log = (*Memory)(nil)

// NewMemory returns an empty store.
func NewMemory() *Memory {
	return &Memory{recs: map[key]shadow.Recommendation{}, team: map[key]shadow.TeamAction{}, calls: map[string]int{}}
}

// Calls returns how often a method was called.
func (m *Memory) Calls(method string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls[method]
}

// PutRecommendation implements shadow.Store.
func (m *Memory) PutRecommendation(_ context.Context, r shadow.Recommendation) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls["PutRecommendation"]++
	if m.Fail != nil {
		return false, m.Fail
	}
	if err := r.Validate(); err != nil {
		return false, fmt.Errorf("shadowtest: %w", err)
	}
	k := key{r.Tenant, r.ID}
	if _, ok := m.recs[k]; ok {
		return false, nil
	}
	m.recs[k] = clone(r)
	return true, nil
}

// PutTeamAction implements shadow.Log.
func (m *Memory) PutTeamAction(_ context.Context, a shadow.TeamAction) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls["PutTeamAction"]++
	if m.Fail != nil {
		return false, m.Fail
	}
	if err := a.Validate(); err != nil {
		return false, fmt.Errorf("shadowtest: %w", err)
	}
	k := key{a.Tenant, a.ID}
	if _, ok := m.team[k]; ok {
		return false, nil
	}
	m.team[k] = a
	return true, nil
}

// Recommendations implements shadow.Log.
func (m *Memory) Recommendations(_ context.Context, tenant ledger.TenantID, from, to time.Time) ([]shadow.Recommendation, error) {
	if err := tenant.Validate(); err != nil {
		return nil, fmt.Errorf("shadowtest: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []shadow.Recommendation
	for k, r := range m.recs {
		if k.tenant == tenant && inRange(r.At, from, to) {
			out = append(out, clone(r))
		}
	}
	slices.SortFunc(out, func(a, b shadow.Recommendation) int {
		return cmp.Or(a.At.Compare(b.At), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// TeamActions implements shadow.Log.
func (m *Memory) TeamActions(_ context.Context, tenant ledger.TenantID, from, to time.Time) ([]shadow.TeamAction, error) {
	if err := tenant.Validate(); err != nil {
		return nil, fmt.Errorf("shadowtest: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []shadow.TeamAction
	for k, a := range m.team {
		if k.tenant == tenant && inRange(a.At, from, to) {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b shadow.TeamAction) int {
		return cmp.Or(a.At.Compare(b.At), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

func inRange(t, from, to time.Time) bool {
	return (from.IsZero() || !t.Before(from)) && (to.IsZero() || t.Before(to))
}

// clone copies what a caller could change after the put.
func clone(r shadow.Recommendation) shadow.Recommendation {
	r.Invoices = slices.Clone(r.Invoices)
	r.ApprovalReasons = slices.Clone(r.ApprovalReasons)
	if r.Draft != nil {
		d := *r.Draft
		r.Draft = &d
	}
	return r
}
