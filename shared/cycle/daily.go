package cycle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/preference"
	"github.com/recoup-dev/recoup/shared/ranking"
	"github.com/recoup-dev/recoup/shared/registry"
	"github.com/recoup-dev/recoup/shared/training"
	"github.com/recoup-dev/recoup/shared/worklist"
)

// LedgerSnapshot reads a tenant's whole ledger, as training does, and its
// contact points.
type LedgerSnapshot interface {
	training.Source
	ContactPoints(ctx context.Context, t ledger.TenantID) ([]ledger.ContactPoint, error)
}

// DailyInput is the daily run's Worklist step input.
type DailyInput struct {
	Tenant    ledger.TenantID `json:"tenant"`
	AsOf      time.Time       `json:"as_of"`
	Execution string          `json:"execution,omitempty"`
}

// DailyList is the Worklist step's result ($.worklist): the customers to
// wake or start, most valuable first.
type DailyList struct {
	Model string      `json:"model"`
	Items []WakeInput `json:"items"`
	Count int         `json:"count"`
	Left  int         `json:"left_for_tomorrow,omitempty"`
	Drift bool        `json:"drift_alarm,omitempty"`
	// Waiting counts the customers left off because their cycle waits
	// for a planned time still to come.
	Waiting int            `json:"waiting,omitempty"`
	At      time.Time      `json:"at"`
	Modes   map[string]int `json:"modes,omitempty"`
}

// DefaultDailyLimit caps the customers one daily run wakes. Step
// Functions caps an execution's document at 256 KB, and each item takes
// about 140 bytes; the rest wait for tomorrow's run, most valuable first.
const DefaultDailyLimit = 1000

// DailyBudget bounds the bytes the daily run's items may take in its
// execution document, whatever the limit: each item as listed, then as
// Wake's result replaces it, whichever is longer. The other 56 KB of
// Step Functions' 262,144 hold the rest of the document and the causes of
// a few failed items.
const DailyBudget = 200 << 10

// arnAllowance is an execution ARN's length before its name when the
// cycle's state machine is not known: partition, region, account and a
// machine name of up to 80 characters.
const arnAllowance = 140

// Lister is the daily run's Worklist step: it scores the tenant's open
// receivables and lists the customers by the value of acting now.
type Lister struct {
	Ledger     LedgerSnapshot
	Engagement EngagementReader
	Models     ModelSource
	Profiles   Profiles
	// Runs, when set, leaves off customers whose cycle waits for a time
	// still to come: its own timer wakes it, so the list (capped by the
	// execution's 256 KB) holds only the customers who need the run.
	Runs  RunLister
	Limit int
	// Machine is the cycle's state machine ARN, to size Wake's results
	// exactly; empty, they are sized for the longest ARN.
	Machine string
	// Budget is the items' bytes (0: DailyBudget).
	Budget int
	Now    func() time.Time
	// Log, when set, gets one "worklist built" line per list with the
	// model's drift (drift_level, drift_psi: the largest PSI of the score
	// and the inputs), which the deployment's drift alarm reads.
	Log *slog.Logger
}

// List builds the day's worklist.
func (l *Lister) List(ctx context.Context, in DailyInput) (DailyList, error) {
	if err := ledger.ValidateID("tenant", string(in.Tenant)); err != nil {
		return DailyList{}, fmt.Errorf("%w: %w", ErrInput, err)
	}
	at := in.AsOf
	if at.IsZero() {
		at = l.Now()
	}
	at = at.UTC()
	prof, err := l.Profiles.Profile(ctx, in.Tenant)
	if err != nil {
		return DailyList{}, fmt.Errorf("cycle: worklist of %s: tenant profile: %w", in.Tenant, err)
	}
	model, version, err := l.Models.Champion(ctx, in.Tenant)
	if err != nil {
		return DailyList{}, fmt.Errorf("cycle: worklist of %s: champion model: %w", in.Tenant, err)
	}
	snap, err := training.Snapshot(ctx, l.Ledger, in.Tenant)
	if err != nil {
		return DailyList{}, Transient{fmt.Errorf("cycle: worklist of %s: %w", in.Tenant, err)}
	}
	cps, err := l.Ledger.ContactPoints(ctx, in.Tenant)
	if err != nil {
		return DailyList{}, Transient{fmt.Errorf("cycle: worklist of %s: %w", in.Tenant, err)}
	}
	ids := make([]string, len(snap.Customers))
	segment := make(map[string]string, len(snap.Customers))
	for i, c := range snap.Customers {
		ids[i], segment[c.ID] = c.ID, c.Segment
	}
	eng, err := l.Engagement.Features(ctx, in.Tenant, ids)
	if err != nil {
		return DailyList{}, Transient{fmt.Errorf("cycle: worklist of %s: engagement: %w", in.Tenant, err)}
	}
	wl, err := worklist.Build(worklist.Inputs{Tenant: in.Tenant, At: at, Model: model, Snapshot: snap, Contacts: cps,
		Engagement: eng, Priority: prof.Priority(), Choice: preference.DefaultOptions()})
	if err != nil {
		return DailyList{}, fmt.Errorf("cycle: worklist of %s: %w", in.Tenant, err)
	}
	limit := l.Limit
	if limit <= 0 {
		limit = DefaultDailyLimit
	}
	out := DailyList{Model: version, At: at, Drift: wl.Drift.Alarm(), Modes: map[string]int{}}
	// Unreachable customers still get a cycle: its plan falls back to a
	// letter or a person, which the worklist cannot price.
	customers := make([]string, 0, len(wl.Entries)+len(wl.Unreachable))
	for _, e := range wl.Entries {
		customers = append(customers, e.Score.Customer)
	}
	for _, u := range wl.Unreachable {
		customers = append(customers, u.Customer)
	}
	if l.Runs != nil {
		runs, err := l.Runs.Runs(ctx, in.Tenant, customers)
		if err != nil {
			return DailyList{}, Transient{fmt.Errorf("cycle: worklist of %s: runs: %w", in.Tenant, err)}
		}
		kept := customers[:0]
		for _, c := range customers {
			if r, ok := runs[c]; ok && r.Token != "" && r.Until.After(at) {
				out.Waiting++
				continue
			}
			kept = append(kept, c)
		}
		customers = kept
	}
	prefix := arnAllowance
	if l.Machine != "" {
		prefix = len(strings.Replace(l.Machine, ":stateMachine:", ":execution:", 1)) + 1
	}
	budget := l.Budget
	if budget <= 0 {
		budget = DailyBudget
	}
	used := 0
	for _, c := range customers {
		mode := prof.Mode(segment[c])
		item := WakeInput{Ref: Ref{Tenant: in.Tenant, Customer: c}, Mode: mode, Reason: "daily run", AsOf: at, Start: true}
		size := itemBytes(item, prefix)
		if len(out.Items) == limit || used+size > budget {
			out.Left++
			continue
		}
		used += size
		out.Modes[mode]++
		out.Items = append(out.Items, item)
	}
	out.Count = len(out.Items)
	if l.Log != nil {
		psi := wl.Drift.Score.PSI
		if len(wl.Drift.Columns) > 0 {
			psi = max(psi, wl.Drift.Columns[0].PSI)
		}
		l.Log.Info("worklist built", "tenant", string(in.Tenant), "model", version, "count", out.Count, "left", out.Left,
			"waiting", out.Waiting, "drift_level", wl.Drift.Level.String(), "drift_psi", psi, "drift_alarm", out.Drift)
	}
	return out, nil
}

// Champions loads a tenant's champion ranking model from the registry,
// once per version per warm Lambda.
type Champions struct {
	Registry registry.Registry
	mu       sync.Mutex
	cache    map[string]*ranking.Model // tenant/version
}

// Champion implements ModelSource.
func (c *Champions) Champion(ctx context.Context, t ledger.TenantID) (*ranking.Model, string, error) {
	champ, err := c.Registry.Champion(ctx, t, training.Model)
	if errors.Is(err, registry.ErrNotFound) {
		return nil, "", fmt.Errorf("%w: tenant %s has no champion model yet: train one first", ErrInput, t)
	}
	if err != nil {
		return nil, "", Transient{err}
	}
	key := string(t) + "/" + champ.Version
	c.mu.Lock()
	m, ok := c.cache[key]
	c.mu.Unlock()
	if ok {
		return m, champ.Version, nil
	}
	b, err := c.Registry.Artifact(ctx, t, training.Model, champ.Version)
	if err != nil {
		return nil, "", Transient{err}
	}
	m = new(ranking.Model)
	if err := m.UnmarshalBinary(b); err != nil {
		return nil, "", fmt.Errorf("champion %s of tenant %s: %w", champ.Version, t, err)
	}
	c.mu.Lock()
	if c.cache == nil {
		c.cache = map[string]*ranking.Model{}
	}
	c.cache[key] = m
	c.mu.Unlock()
	return m, champ.Version, nil
}

// itemBytes is what one item takes in the daily run's document: as
// listed, or as Wake's result with an execution ARN whose part before the
// name is prefix bytes long, whichever is longer, and its comma.
func itemBytes(in WakeInput, prefix int) int {
	listed, _ := json.Marshal(in)
	name := ExecutionName(in.Tenant, in.Customer, in.AsOf)
	result, _ := json.Marshal(Woken{Action: "running", Execution: strings.Repeat("a", prefix) + name, Customer: in.Customer})
	return max(len(listed), len(result)) + 1
}
