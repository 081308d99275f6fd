package consent

import (
	"context"

	"github.com/recoup-dev/recoup/shared/ledger"
)

// Store is what callers of the consent ledger need from its storage (the
// DynamoDB adapter implements it). Nothing it offers deletes or expires an
// entry.
type Store interface {
	// Record writes the entries ev implies and the new state of each
	// (address, channel) they touch, atomically. customer names the
	// customer the address belongs to ("" when unknown, e.g. a STOP from an
	// unmatched number) so ForCustomer finds it. Recording an event id again
	// returns applied=false and changes nothing.
	Record(ctx context.Context, tenant ledger.TenantID, customer string, ev Event) (applied bool, err error)
	// Current is the consent of (address, channel) now, read strongly
	// consistently: it reflects every Record that has returned.
	Current(ctx context.Context, tenant ledger.TenantID, address Address, channel Channel) (Status, error)
	// History is every entry of address, in ledger order (see Sort).
	History(ctx context.Context, tenant ledger.TenantID, address Address) ([]Entry, error)
	// ForCustomer is the current consent of every (address, channel) with
	// entries recorded for the customer, including its customer-level address.
	ForCustomer(ctx context.Context, tenant ledger.TenantID, customer string) ([]Status, error)
}
