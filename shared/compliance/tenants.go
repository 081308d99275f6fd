package compliance

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/recoup-dev/recoup/shared/ledger"
)

// Engines holds one engine per tenant policy: the default policy's engine
// for tenants without an override, and an engine over the default policy
// with the tenant's override applied for the others. Engines are built once
// at load; a broken override refuses to load rather than leave a tenant on a
// policy it did not ask for.
type Engines struct {
	def      *Engine
	byTenant map[ledger.TenantID]*Engine
}

// NewEngines builds the engines for the default policy and each override.
func NewEngines(def *Policy, overrides []Override) (*Engines, error) {
	e, err := NewEngine(def)
	if err != nil {
		return nil, err
	}
	out := &Engines{def: e, byTenant: map[ledger.TenantID]*Engine{}}
	for _, o := range overrides {
		t := ledger.TenantID(o.Tenant)
		if _, dup := out.byTenant[t]; dup {
			return nil, fmt.Errorf("%w: two overrides for tenant %q", ErrPolicy, o.Tenant)
		}
		p, err := def.Apply(o)
		if err != nil {
			return nil, err
		}
		if out.byTenant[t], err = NewEngine(p); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// LoadEngines reads every *.json override in dir of fsys (none is fine) on
// top of the embedded default policy. Each file's tenant must match its
// name (<tenant>.json), so a copied file cannot silently govern another
// tenant.
func LoadEngines(fsys fs.FS, dir string) (*Engines, error) {
	def, err := DefaultPolicy()
	if err != nil {
		return nil, err
	}
	var overrides []Override
	if fsys != nil {
		files, err := fs.Glob(fsys, path.Join(dir, "*.json"))
		if err != nil {
			return nil, err
		}
		for _, name := range files {
			f, err := fsys.Open(name)
			if err != nil {
				return nil, err
			}
			o, err := ReadOverride(f)
			f.Close()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			if want := strings.TrimSuffix(path.Base(name), ".json"); o.Tenant != want {
				return nil, fmt.Errorf("%w: %s: override is for tenant %q, the file name says %q", ErrPolicy, name, o.Tenant, want)
			}
			overrides = append(overrides, o)
		}
	}
	return NewEngines(def, overrides)
}

// ErrNoEngine is returned by For on a zero Engines.
var ErrNoEngine = errors.New("compliance: no engines loaded")

// For returns the engine that decides for tenant.
func (e *Engines) For(tenant ledger.TenantID) (*Engine, error) {
	if e == nil || e.def == nil {
		return nil, ErrNoEngine
	}
	if en, ok := e.byTenant[tenant]; ok {
		return en, nil
	}
	return e.def, nil
}
