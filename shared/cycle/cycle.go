// Package cycle holds the steps of the collection cycle state machine
// (infra/statemachine/cycle.asl.json): what each Task state receives, what
// it returns into the execution document, and the handler behind it. The
// Lambda functions only wire stores and clients to these handlers.
//
// The steps keep the document small (Step Functions caps it at 256 KB):
// each loads what it needs by the execution's tenant and customer and
// returns a summary, never the customer's ledger.
package cycle

import (
	"errors"
	"fmt"

	"github.com/recoup-dev/recoup/shared/ledger"
)

// Ref names the customer an execution collects from. Every step's input
// carries it.
type Ref struct {
	Tenant    ledger.TenantID `json:"tenant"`
	Customer  string          `json:"customer"`
	Execution string          `json:"execution,omitempty"`
}

// Check refuses a reference that names no tenant or customer, or ids the
// ledger would refuse.
func (r Ref) Check() error {
	if err := ledger.ValidateID("tenant", string(r.Tenant)); err != nil {
		return fmt.Errorf("%w: %w", ErrInput, err)
	}
	if err := ledger.ValidateID("customer", r.Customer); err != nil {
		return fmt.Errorf("%w: %w", ErrInput, err)
	}
	return nil
}

// Modes of an execution.
const (
	ModeLive   = "live"   // plans are sent after the gate allows them
	ModeShadow = "shadow" // pilot: plans are recorded beside what the team did, never sent
)

// ErrInput marks a step input that is not what the state machine sends:
// a bug in the definition or a hand-started execution, never worth a
// retry.
var ErrInput = errors.New("cycle: invalid input")

// Transient is a failure worth retrying: a throttled or unavailable
// store or service. The state machine's Retry matches its name (the
// Lambda runtime reports an error's type name as its errorType).
type Transient struct{ Err error }

func (t Transient) Error() string { return "transient: " + t.Err.Error() }
func (t Transient) Unwrap() error { return t.Err }
