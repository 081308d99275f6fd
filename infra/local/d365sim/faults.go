package d365sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"time"
)

// FaultKind is a failure injected into a data request that passed the
// simulator's checks. The kinds map onto the adapter's classification
// (WIRE.md): some refuse the request before it runs, some run it and then
// lose or spoil the answer, which is what the adapter's read-back must
// survive.
type FaultKind string

// Fault kinds.
const (
	// FaultError500 answers 500; nothing runs.
	FaultError500 FaultKind = "error_500"
	// FaultError500AfterCommit runs the request, then answers 500.
	FaultError500AfterCommit FaultKind = "error_500_after_commit"
	// FaultTimeoutAfterCommit runs the request, then holds the answer
	// until the client gives up or Faults.Hang passes, and closes the
	// connection without one.
	FaultTimeoutAfterCommit FaultKind = "timeout_after_commit"
	// FaultSlow waits Faults.Slow, then serves the request normally.
	FaultSlow FaultKind = "slow"
	// FaultMalformed runs the request and answers 2xx with truncated JSON.
	FaultMalformed FaultKind = "malformed"
	// FaultThrottled answers 429 with Retry-After: Faults.RetryAfter;
	// nothing runs.
	FaultThrottled FaultKind = "throttled"
	// FaultTokenExpired forgets the request's token and answers 401;
	// nothing runs. A token on its first use gets FaultError500 instead:
	// Entra never issues a token that is already expired, and an adapter
	// that fetched a new one must not be refused for good by chance.
	FaultTokenExpired FaultKind = "token_expired"
	// FaultBusinessError answers 400 with an Infolog error; nothing runs.
	FaultBusinessError FaultKind = "business_error"
	// FaultConcurrentUpdate changes the record a PATCH names just before
	// it runs, as another user would, so its If-Match fails with 412. It
	// applies to PATCH only; other requests drawing it run unharmed and
	// do not count.
	FaultConcurrentUpdate FaultKind = "concurrent_update"
)

// FaultKinds are all the kinds, the default when Faults.Kinds is empty.
var FaultKinds = []FaultKind{FaultError500, FaultError500AfterCommit, FaultTimeoutAfterCommit, FaultSlow,
	FaultMalformed, FaultThrottled, FaultTokenExpired, FaultBusinessError, FaultConcurrentUpdate}

// Faults configures fault injection for data requests (not for the token
// endpoint, the control API or /health).
type Faults struct {
	// Rate is the share of data requests that fail, 0 (off) to 1.
	Rate float64
	// Seed seeds the draws, so a run with the same requests in the same
	// order fails the same way.
	Seed uint64
	// Kinds are drawn uniformly; all of FaultKinds when empty.
	Kinds []FaultKind
	// Slow is FaultSlow's delay; 300 ms when zero.
	Slow time.Duration
	// Hang is how long FaultTimeoutAfterCommit holds the answer when the
	// client waits that long; 30 s when zero.
	Hang time.Duration
	// RetryAfter is FaultThrottled's Retry-After in seconds; 1 when zero.
	RetryAfter int
	// Limit stops injecting after this many faults; 0 means no limit.
	Limit int
	// Methods limits injection to requests with these HTTP methods, so a
	// test can fail the write and not the reads before it; all when empty.
	Methods []string
}

func (f *Faults) normalize() error {
	if f.Rate < 0 || f.Rate > 1 || math.IsNaN(f.Rate) {
		return fmt.Errorf("rate %v is not between 0 and 1", f.Rate)
	}
	if f.Slow < 0 || f.Hang < 0 || f.RetryAfter < 0 || f.Limit < 0 {
		return fmt.Errorf("slow, hang, retry_after and limit must not be negative")
	}
	for _, m := range f.Methods {
		if m != http.MethodGet && m != http.MethodPost && m != http.MethodPatch {
			return fmt.Errorf("method %q is not GET, POST or PATCH", m)
		}
	}
	for _, k := range f.Kinds {
		if !slices.Contains(FaultKinds, k) {
			return fmt.Errorf("unknown fault kind %q (want one of %v)", k, FaultKinds)
		}
	}
	if len(f.Kinds) == 0 {
		f.Kinds = FaultKinds
	}
	if f.Slow == 0 {
		f.Slow = 300 * time.Millisecond
	}
	if f.Hang == 0 {
		f.Hang = 30 * time.Second
	}
	if f.RetryAfter == 0 {
		f.RetryAfter = 1
	}
	return nil
}

// SetFaults replaces the fault injection; a zero Rate turns it off.
func (s *Server) SetFaults(f Faults) error {
	if err := f.normalize(); err != nil {
		return fmt.Errorf("d365sim: faults: %w", err)
	}
	f.Kinds, f.Methods = slices.Clone(f.Kinds), slices.Clone(f.Methods)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults, s.drawn = f, 0
	s.rng = rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))
	return nil
}

// drawn is one request's fault with what it needs, copied out under the
// lock.
type drawn struct {
	kind       FaultKind
	slow, hang time.Duration
	retryAfter int
}

// draw picks the fault for one data request; uses is how many requests
// used its token before. Called with s.mu held.
func (s *Server) draw(method string, uses int) drawn {
	f := s.faults
	if f.Rate == 0 || s.rng == nil || (f.Limit > 0 && s.drawn >= f.Limit) ||
		(len(f.Methods) > 0 && !slices.Contains(f.Methods, method)) || s.rng.Float64() >= f.Rate {
		return drawn{}
	}
	k := f.Kinds[s.rng.IntN(len(f.Kinds))]
	switch {
	case k == FaultConcurrentUpdate && method != http.MethodPatch:
		return drawn{}
	case k == FaultTokenExpired && uses == 0:
		k = FaultError500
	}
	s.drawn++
	s.injected[k]++
	return drawn{kind: k, slow: f.Slow, hang: f.Hang, retryAfter: f.RetryAfter}
}
