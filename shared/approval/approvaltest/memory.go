// Package approvaltest holds test doubles for the approval service: an
// in-memory Store that passes the same contract suite (Run) as the DynamoDB
// store, so it cannot drift from it, and a Resumer that behaves like Step
// Functions' task tokens. Both refuse malformed input with an error, so a
// caller's mistake fails the test that made it.
package approvaltest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/recoup-dev/recoup/shared/approval"
	"github.com/recoup-dev/recoup/shared/ledger"
)

// Memory is an in-memory approval.Store.
type Memory struct {
	mu     sync.Mutex
	items  map[key]approval.Request
	owners map[key]string // lease holders
	calls  map[string]int
}

type key struct {
	tenant ledger.TenantID
	id     string
}

var _ approval.Store = (*Memory)(nil)

// NewMemory returns an empty store.
func NewMemory() *Memory {
	return &Memory{items: map[key]approval.Request{}, owners: map[key]string{}, calls: map[string]int{}}
}

// Calls returns how often a method was called.
func (m *Memory) Calls(method string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls[method]
}

// Len returns the number of stored requests.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.items)
}

func checkKey(tenant ledger.TenantID, id string) error {
	if err := tenant.Validate(); err != nil {
		return fmt.Errorf("approvaltest: %w", err)
	}
	if !approval.ValidID(id) {
		return fmt.Errorf("approvaltest: malformed id %q", id)
	}
	return nil
}

// Put implements approval.Store.
func (m *Memory) Put(_ context.Context, r approval.Request) (approval.Request, bool, error) {
	if err := r.Validate(); err != nil {
		return approval.Request{}, false, fmt.Errorf("approvaltest: put: %w", err)
	}
	if r.Status != approval.StatusPending || r.Token == "" {
		return approval.Request{}, false, errors.New("approvaltest: put: only new pending requests with their token are put")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls["Put"]++
	k := key{r.Tenant, r.ID}
	if cur, ok := m.items[k]; ok {
		return clone(cur), false, nil
	}
	m.items[k] = clone(r)
	return clone(r), true, nil
}

// Get implements approval.Store.
func (m *Memory) Get(_ context.Context, tenant ledger.TenantID, id string) (approval.Request, error) {
	if err := checkKey(tenant, id); err != nil {
		return approval.Request{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls["Get"]++
	cur, ok := m.items[key{tenant, id}]
	if !ok {
		return approval.Request{}, approval.ErrNotFound
	}
	return clone(cur), nil
}

// Pending implements approval.Store.
func (m *Memory) Pending(_ context.Context, tenant ledger.TenantID, after string, limit int) ([]approval.Request, error) {
	if err := tenant.Validate(); err != nil {
		return nil, fmt.Errorf("approvaltest: %w", err)
	}
	if limit <= 0 {
		return nil, fmt.Errorf("approvaltest: pending: limit %d", limit)
	}
	if after != "" && !approval.ValidCursor(after) {
		return nil, fmt.Errorf("approvaltest: pending: malformed cursor %q", after)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls["Pending"]++
	var out []approval.Request
	for k, r := range m.items {
		if k.tenant == tenant && r.Status == approval.StatusPending && r.Cursor() > after {
			out = append(out, clone(r))
		}
	}
	slices.SortFunc(out, func(a, b approval.Request) int {
		switch ca, cb := a.Cursor(), b.Cursor(); {
		case ca < cb:
			return -1
		case ca > cb:
			return 1
		}
		return 0
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Decide implements approval.Store.
func (m *Memory) Decide(_ context.Context, tenant ledger.TenantID, id string, v approval.Verdict, l approval.Lease) (approval.Request, bool, error) {
	if err := checkKey(tenant, id); err != nil {
		return approval.Request{}, false, err
	}
	if err := checkVerdict(v); err != nil {
		return approval.Request{}, false, err
	}
	if l.Owner == "" || l.Now.IsZero() || !l.Until.After(l.Now) {
		return approval.Request{}, false, fmt.Errorf("approvaltest: decide: malformed lease %+v", l)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls["Decide"]++
	k := key{tenant, id}
	cur, ok := m.items[k]
	switch {
	case !ok:
		return approval.Request{}, false, approval.ErrNotFound
	case cur.Status == approval.StatusPending:
		vv := v
		if v.Draft != nil {
			d := *v.Draft
			vv.Draft = &d
		}
		vv.At = v.At.UTC()
		cur.Status, cur.Verdict, cur.Resumed = approval.StatusDecided, &vv, false
	case cur.Status == approval.StatusDecided && !cur.Resumed && cur.Verdict.Key() == v.Key() && !cur.LeaseUntil.After(l.Now):
	default:
		return clone(cur), false, nil
	}
	cur.LeaseUntil = l.Until.UTC()
	m.owners[k] = l.Owner
	m.items[k] = cur
	return clone(cur), true, nil
}

func checkVerdict(v approval.Verdict) error {
	if err := v.Validate(); err != nil {
		return fmt.Errorf("approvaltest: decide: %w", err)
	}
	if v.At.IsZero() {
		return errors.New("approvaltest: decide: the verdict has no time")
	}
	if v.Draft != nil && v.Draft.Channel == "" {
		return errors.New("approvaltest: decide: the edited draft has no channel")
	}
	return nil
}

// Resumed implements approval.Store.
func (m *Memory) Resumed(_ context.Context, tenant ledger.TenantID, id string, at time.Time) error {
	if err := checkKey(tenant, id); err != nil {
		return err
	}
	if at.IsZero() {
		return errors.New("approvaltest: resumed: no time")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls["Resumed"]++
	k := key{tenant, id}
	cur, ok := m.items[k]
	switch {
	case !ok:
		return approval.ErrNotFound
	case cur.Verdict == nil:
		return fmt.Errorf("approvaltest: resumed: approval %s has no verdict", id)
	}
	cur.Status, cur.Resumed, cur.Token, cur.LeaseUntil, cur.ExpiredAt = approval.StatusDecided, true, "", time.Time{}, time.Time{}
	delete(m.owners, k)
	m.items[k] = cur
	return nil
}

// Release implements approval.Store.
func (m *Memory) Release(_ context.Context, tenant ledger.TenantID, id, owner string) error {
	if err := checkKey(tenant, id); err != nil {
		return err
	}
	if owner == "" {
		return errors.New("approvaltest: release: no owner")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls["Release"]++
	k := key{tenant, id}
	if cur, ok := m.items[k]; ok && m.owners[k] == owner {
		cur.LeaseUntil = time.Time{}
		delete(m.owners, k)
		m.items[k] = cur
	}
	return nil
}

// Expire implements approval.Store.
func (m *Memory) Expire(_ context.Context, tenant ledger.TenantID, id string, at time.Time) (approval.Request, error) {
	if err := checkKey(tenant, id); err != nil {
		return approval.Request{}, err
	}
	if at.IsZero() {
		return approval.Request{}, errors.New("approvaltest: expire: no time")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls["Expire"]++
	k := key{tenant, id}
	cur, ok := m.items[k]
	if !ok {
		return approval.Request{}, approval.ErrNotFound
	}
	if cur.Expirable() {
		cur.Status, cur.ExpiredAt, cur.Token, cur.LeaseUntil = approval.StatusExpired, at.UTC(), "", time.Time{}
		delete(m.owners, k)
		m.items[k] = cur
	}
	return clone(cur), nil
}

// clone copies a request so callers never share its pointers and slices
// with the store.
func clone(r approval.Request) approval.Request {
	r.Decision = append(json.RawMessage(nil), r.Decision...)
	r.Reasons = slices.Clone(r.Reasons)
	r.Totals = slices.Clone(r.Totals)
	r.Invoices = slices.Clone(r.Invoices)
	if r.Draft != nil {
		d := *r.Draft
		r.Draft = &d
	}
	if r.Verdict != nil {
		v := *r.Verdict
		if v.Draft != nil {
			d := *v.Draft
			v.Draft = &d
		}
		r.Verdict = &v
	}
	return r
}
