package sender

import (
	"context"
	"errors"
	"time"

	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/ledger"
)

// State is where a send stands in the send ledger.
type State string

// States of a send. An attempt with no record has not been claimed.
const (
	// StateSending: claimed; the provider has not answered yet, or the
	// delivery died before recording the answer.
	StateSending State = "sending"
	// StateSent: the provider accepted the message (Record.Receipt).
	StateSent State = "sent"
	// StateFailed: the provider refused for good (Record.Reason).
	StateFailed State = "failed"
)

// Record is the send ledger's entry for one attempt.
type Record struct {
	Tenant    ledger.TenantID
	AttemptID string
	Customer  string
	Channel   compliance.Channel
	State     State
	// Token identifies the current claim: only its holder may complete,
	// fail or release it, so a delivery whose claim was taken over cannot
	// overwrite the one that took it.
	Token string
	// ClaimedAt is when the current claim was taken (a takeover renews it);
	// FirstClaimedAt when the attempt was first claimed, which bounds a
	// provider's deduplication window.
	ClaimedAt      time.Time
	FirstClaimedAt time.Time
	// Receipt is set once sent.
	Receipt Receipt
	// Reason and FailedAt are set once failed: the provider's error code and
	// class, never its message (it can quote the address).
	Reason   string
	FailedAt time.Time
}

// ErrClaimLost is returned by Complete, Fail and Release when the attempt is
// no longer sending under the given token: another delivery took the claim
// over or finished it.
var ErrClaimLost = errors.New("sender: send claim no longer held")

// Ledger is the send ledger: one record per (tenant, attempt id), written
// with conditions so that concurrent deliveries of one attempt agree on who
// sends. The DynamoDB implementation is shared/store/dynamo.Sends.
type Ledger interface {
	// Claim stores r, which is in StateSending, when the attempt has no
	// record, or when its record is still sending under the token takeOver
	// (a stale claim taken over; "" never takes over). It returns the
	// stored record and true, or the record found, unchanged, and false.
	Claim(ctx context.Context, r Record, takeOver string) (Record, bool, error)
	// Complete marks the attempt sent with rc if it is sending under token;
	// ErrClaimLost otherwise.
	Complete(ctx context.Context, tenant ledger.TenantID, attemptID, token string, rc Receipt) error
	// Fail marks the attempt failed with reason if it is sending under
	// token; ErrClaimLost otherwise.
	Fail(ctx context.Context, tenant ledger.TenantID, attemptID, token, reason string, at time.Time) error
	// Release removes the claim if it is sending under token, so that a
	// retry can claim the attempt again; ErrClaimLost otherwise.
	Release(ctx context.Context, tenant ledger.TenantID, attemptID, token string) error
	// Get reads the attempt's record, strongly consistent; false when none.
	Get(ctx context.Context, tenant ledger.TenantID, attemptID string) (Record, bool, error)
}
