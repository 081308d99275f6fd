package ebssim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// FaultKind is a failure injected into a service call. The kinds map onto
// the adapter's classification (WIRE.md): some are refused before anything
// runs, some run the PL/SQL and then lose or spoil the answer, which is
// what the adapter's read-back must survive.
type FaultKind string

// Fault kinds.
const (
	// FaultError500 answers 500 ISG_DB_CONNECTION_ERROR; nothing applied.
	FaultError500 FaultKind = "error_500"
	// FaultError500AfterCommit applies the call, then answers 500.
	FaultError500AfterCommit FaultKind = "error_500_after_commit"
	// FaultTimeoutAfterCommit applies the call, then holds the answer
	// until the client gives up or Faults.Hang passes, and closes the
	// connection without one.
	FaultTimeoutAfterCommit FaultKind = "timeout_after_commit"
	// FaultSlow waits Faults.Slow, then serves the call normally.
	FaultSlow FaultKind = "slow"
	// FaultMalformed applies the call and answers 200 with truncated JSON.
	FaultMalformed FaultKind = "malformed"
	// FaultTokenExpired answers 401 to a token request and forgets the
	// token; nothing applied. A Basic request gets FaultError500 instead,
	// as it has no token to expire.
	FaultTokenExpired FaultKind = "token_expired"
	// FaultBusinessError answers X_RETURN_STATUS E (a closed GL period);
	// nothing applied.
	FaultBusinessError FaultKind = "business_error"
	// FaultUnexpectedError answers X_RETURN_STATUS U; nothing applied.
	FaultUnexpectedError FaultKind = "unexpected_error"
)

// FaultKinds are all the kinds, the default when Faults.Kinds is empty.
var FaultKinds = []FaultKind{FaultError500, FaultError500AfterCommit, FaultTimeoutAfterCommit, FaultSlow,
	FaultMalformed, FaultTokenExpired, FaultBusinessError, FaultUnexpectedError}

// Faults configures fault injection for service calls (not for login,
// logout or the control API).
type Faults struct {
	// Rate is the share of service calls that fail, 0 (off) to 1.
	Rate float64
	// Seed seeds the draws, so a run with the same calls in the same
	// order fails the same way.
	Seed uint64
	// Kinds are drawn uniformly; all of FaultKinds when empty.
	Kinds []FaultKind
	// Slow is FaultSlow's delay; 300 ms when zero.
	Slow time.Duration
	// Hang is how long FaultTimeoutAfterCommit holds the answer when the
	// client waits that long; 30 s when zero.
	Hang time.Duration
}

func (f *Faults) normalize() error {
	if f.Rate < 0 || f.Rate > 1 || math.IsNaN(f.Rate) {
		return fmt.Errorf("rate %v is not between 0 and 1", f.Rate)
	}
	if f.Slow < 0 || f.Hang < 0 {
		return fmt.Errorf("slow and hang must not be negative")
	}
	for _, k := range f.Kinds {
		if !contains(kindNames(), string(k)) {
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
	return nil
}

func kindNames() []string {
	out := make([]string, len(FaultKinds))
	for i, k := range FaultKinds {
		out[i] = string(k)
	}
	return out
}

// SetFaults replaces the fault injection; a zero Rate turns it off.
func (s *Server) SetFaults(f Faults) error {
	if err := f.normalize(); err != nil {
		return fmt.Errorf("ebssim: faults: %w", err)
	}
	f.Kinds = append([]FaultKind(nil), f.Kinds...)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
	s.rng = rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))
	return nil
}

// drawn is one call's fault with the delays it needs, copied out under
// the lock.
type drawn struct {
	kind       FaultKind
	slow, hang time.Duration
}

// draw picks the fault for one service call. Called with s.mu held.
func (s *Server) draw() drawn {
	f := s.faults
	if f.Rate == 0 || s.rng == nil || s.rng.Float64() >= f.Rate {
		return drawn{}
	}
	return drawn{kind: f.Kinds[s.rng.IntN(len(f.Kinds))], slow: f.Slow, hang: f.Hang}
}
