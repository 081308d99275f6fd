package engagement

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/recoup-dev/recoup/events"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/deadletter"
	"github.com/recoup-dev/recoup/shared/ledger"
)

// ErrDuplicate is returned by Store.Commit when the event id is already
// claimed: another delivery applied it first.
var ErrDuplicate = errors.New("engagement: event already applied")

// ErrConflict is returned by Store.Commit when the customer's state changed
// since it was loaded; the consumer loads and decides again.
var ErrConflict = errors.New("engagement: customer state changed since it was read")

// Claim is the idempotency record of one applied event. It outlives the
// stream's retention (Expires), so no re-delivery can apply an event twice.
type Claim struct {
	Tenant   ledger.TenantID
	EventID  string
	Customer string
	Type     events.Type
	// Hash is the SHA-256 of the event's canonical encoding: the same id
	// with other content is a producer bug, not a duplicate.
	Hash      string
	AppliedAt time.Time
	Expires   time.Time
	// Outcome says what became of the event: "applied" or a dead-letter
	// kind, so a re-delivery of a refused event is not refused twice.
	Outcome string
}

// Store holds what events change, per customer.
type Store interface {
	// Claimed returns the claim of an event id, if any.
	Claimed(ctx context.Context, tenant ledger.TenantID, eventID string) (Claim, bool, error)
	// Load reads the customer's standing, features and open actions.
	Load(ctx context.Context, tenant ledger.TenantID, customer string) (State, error)
	// Commit writes the claim and the effects on state in one transaction:
	// ErrDuplicate when the id is claimed, ErrConflict when the state is
	// no longer base.
	Commit(ctx context.Context, c Claim, base State, fx Effects) error
}

// ConsentRecorder records consent events (idempotent by event id).
type ConsentRecorder interface {
	Record(ctx context.Context, tenant ledger.TenantID, customer string, ev consent.Event) (applied bool, err error)
}

// Ledger is the part of the ledger store events write to.
type Ledger interface {
	Upsert(ctx context.Context, recs []ledger.Record) (ledger.UpsertCounts, error)
	ExistingCustomers(ctx context.Context, tenant ledger.TenantID, ids []string) (map[string]bool, error)
}

// Consumer applies engagement events from Kinesis.
type Consumer struct {
	Store   Store
	Consent ConsentRecorder
	Ledger  Ledger
	DLQ     deadletter.Sink
	Log     *slog.Logger
	Now     func() time.Time
	// ClaimTTL is how long an applied event id is remembered. It must be
	// longer than the stream's retention; the default is 8 days, one more
	// than the 7-day retention the CDK issue plans for the stream (AWS allows up to 365).
	ClaimTTL time.Duration
	// MaxConflicts bounds the re-decisions of one event before the record
	// is failed (and so retried by Lambda).
	MaxConflicts int
}

// DefaultClaimTTL is the default ClaimTTL.
const DefaultClaimTTL = 8 * 24 * time.Hour

// Result counts what one batch did.
type Result struct {
	Applied, Duplicates, DeadLettered, Failed, Deferred int
}

// Source is the dead-letter source of the consumer.
const Source = "engagement"

// poison marks an error that will fail the same way on every delivery.
type poison struct {
	kind string
	err  error
}

func (p *poison) Error() string { return p.err.Error() }
func (p *poison) Unwrap() error { return p.err }

// Handle applies a batch in order and returns the records to retry.
// Records of one customer (one partition key) are applied in order: after a
// record fails, the customer's later records in the batch are not applied
// and are returned for retry too. Lambda then re-delivers from the first
// failure; records applied after it are recognised by their claims.
func (c *Consumer) Handle(ctx context.Context, in lambdaevents.KinesisEvent) (lambdaevents.KinesisEventResponse, error) {
	resp, _ := c.HandleBatch(ctx, in)
	return resp, nil
}

// HandleBatch is Handle with the batch's counts.
func (c *Consumer) HandleBatch(ctx context.Context, in lambdaevents.KinesisEvent) (lambdaevents.KinesisEventResponse, Result) {
	var (
		resp    lambdaevents.KinesisEventResponse
		res     Result
		blocked = map[string]bool{}
	)
	// Decode every record first, so the customers they name are looked up
	// with one BatchGetItem per tenant rather than one call per record.
	decoded := make([]decodedRecord, len(in.Records))
	byTenant := map[ledger.TenantID][]string{}
	for i, rec := range in.Records {
		decoded[i].ev, decoded[i].err = events.DecodeKinesisRecord(rec)
		if decoded[i].err == nil {
			byTenant[decoded[i].ev.Tenant] = append(byTenant[decoded[i].ev.Tenant], decoded[i].ev.Customer)
		}
	}
	known := make(map[ledger.TenantID]customerLookup, len(byTenant))
	for t, ids := range byTenant {
		found, err := c.Ledger.ExistingCustomers(ctx, t, ids)
		known[t] = customerLookup{found, err}
	}
	for i, rec := range in.Records {
		key := rec.Kinesis.PartitionKey
		fail := func() {
			resp.BatchItemFailures = append(resp.BatchItemFailures,
				lambdaevents.KinesisBatchItemFailure{ItemIdentifier: rec.Kinesis.SequenceNumber})
		}
		if blocked[key] {
			res.Deferred++
			fail()
			continue
		}
		outcome, err := c.record(ctx, rec, decoded[i], known)
		switch {
		case err != nil:
			res.Failed++
			blocked[key] = true
			c.log().Error("engagement record failed; it will be retried", "sequence", rec.Kinesis.SequenceNumber,
				"event_source", rec.EventSourceArn, "error", redact(err))
			fail()
		case outcome == "duplicate":
			res.Duplicates++
		case outcome == "applied":
			res.Applied++
		default:
			res.DeadLettered++
		}
	}
	c.log().Info("engagement batch", "records", len(in.Records), "applied", res.Applied, "duplicates", res.Duplicates,
		"dead_lettered", res.DeadLettered, "failed", res.Failed, "deferred", res.Deferred)
	return resp, res
}

// decodedRecord is a record's event, or why it does not decode.
type decodedRecord struct {
	ev  events.Event
	err error
}

// customerLookup is which customers of one tenant the ledger holds; err
// fails (and so retries) every record of the tenant in the batch.
type customerLookup struct {
	found map[string]bool
	err   error
}

// record applies one record. It returns "applied", "duplicate" or the kind
// of dead letter written; an error means nothing is settled and the record
// must be retried.
func (c *Consumer) record(ctx context.Context, rec lambdaevents.KinesisEventRecord, d decodedRecord, known map[ledger.TenantID]customerLookup) (string, error) {
	ev := d.ev
	if d.err != nil {
		kind, field := classify(d.err)
		return kind, c.letter(ctx, rec, nil, kind, field, d.err)
	}
	canon, err := events.Encode(ev)
	if err != nil {
		return deadletter.KindInvalid, c.letter(ctx, rec, &ev, deadletter.KindInvalid, "", err)
	}
	sum := sha256.Sum256(canon)
	claim := Claim{Tenant: ev.Tenant, EventID: ev.ID, Customer: ev.Customer, Type: ev.Type(),
		Hash: hex.EncodeToString(sum[:]), AppliedAt: c.now(), Outcome: "applied"}
	claim.Expires = claim.AppliedAt.Add(c.ttl())

	prior, found, err := c.Store.Claimed(ctx, ev.Tenant, ev.ID)
	if err != nil {
		return "", err
	}
	if found {
		if prior.Hash != claim.Hash {
			return deadletter.KindRejected, c.letter(ctx, rec, &ev, deadletter.KindRejected, "id",
				fmt.Errorf("event %s was applied before with other content (type %s, customer %s); this copy is not applied",
					ev.ID, prior.Type, prior.Customer))
		}
		return "duplicate", nil
	}

	lookup := known[ev.Tenant]
	if lookup.err != nil {
		return "", lookup.err
	}
	if !lookup.found[ev.Customer] {
		return c.unknownCustomer(ctx, rec, ev, claim)
	}

	for attempt := 0; ; attempt++ {
		st, err := c.Store.Load(ctx, ev.Tenant, ev.Customer)
		if err != nil {
			return "", err
		}
		fx, err := st.Effects(ev)
		if err != nil {
			return c.refuse(ctx, rec, ev, claim, deadletter.KindRejected, err)
		}
		if err := c.applyIdempotent(ctx, ev, fx); err != nil {
			var p *poison
			if errors.As(err, &p) {
				return c.refuse(ctx, rec, ev, claim, p.kind, err)
			}
			return "", err
		}
		err = c.Store.Commit(ctx, claim, st, fx)
		switch {
		case err == nil:
			c.log().Info("engagement event applied", "tenant", string(ev.Tenant), "event", ev.ID, "type", string(ev.Type()),
				"note", fx.Note, "actions_changed", len(fx.Actions), "replan", fx.Replan != nil)
			return "applied", nil
		case errors.Is(err, ErrDuplicate):
			return "duplicate", nil
		case errors.Is(err, ErrConflict) && attempt < c.maxConflicts():
			continue
		default:
			return "", err
		}
	}
}

// applyIdempotent writes the consent events and ledger records, each keyed
// by the event id, so a retry after a failed commit rewrites nothing.
func (c *Consumer) applyIdempotent(ctx context.Context, ev events.Event, fx Effects) error {
	for _, ce := range fx.Consent {
		if _, err := c.Consent.Record(ctx, ev.Tenant, ev.Customer, ce); err != nil {
			if errors.Is(err, consent.ErrInvalid) || errors.Is(err, consent.ErrEventConflict) {
				return &poison{kind: deadletter.KindRejected, err: fmt.Errorf("event %s: consent: %w", ev.ID, err)}
			}
			return fmt.Errorf("event %s: record consent: %w", ev.ID, err)
		}
	}
	if len(fx.Ledger) > 0 {
		if _, err := c.Ledger.Upsert(ctx, fx.Ledger); err != nil {
			if errors.Is(err, ledger.ErrInvalidID) {
				return &poison{kind: deadletter.KindRejected, err: fmt.Errorf("event %s: ledger: %w", ev.ID, err)}
			}
			return fmt.Errorf("event %s: write ledger: %w", ev.ID, err)
		}
	}
	return nil
}

// unknownCustomer handles an event naming a customer the ledger does not
// hold. A revocation is still recorded on the address: consent belongs to
// the number, and a STOP must never wait for the ledger to catch up. The
// event then goes to the dead-letter queue for a person to match it.
func (c *Consumer) unknownCustomer(ctx context.Context, rec lambdaevents.KinesisEventRecord, ev events.Event, claim Claim) (string, error) {
	reason := fmt.Errorf("event %s: customer %s is not in tenant %s's ledger", ev.ID, ev.Customer, ev.Tenant)
	fx, err := State{}.Effects(ev)
	if err == nil {
		for _, ce := range fx.Consent {
			if _, ok := ce.(consent.Cease); ok {
				continue // a cease is about the customer, who is unknown
			}
			if _, err := c.Consent.Record(ctx, ev.Tenant, "", ce); err != nil && !errors.Is(err, consent.ErrInvalid) {
				return "", fmt.Errorf("event %s: record consent of an unknown customer's address: %w", ev.ID, err)
			}
			reason = fmt.Errorf("%w; the consent change was recorded on the address %s", reason, redactAddress(ev.ContactPoint))
		}
	}
	return c.refuse(ctx, rec, ev, claim, deadletter.KindUnknownCustomer, reason)
}

// refuse dead-letters a decoded event and claims its id, so a re-delivered
// batch does not write the letter again.
func (c *Consumer) refuse(ctx context.Context, rec lambdaevents.KinesisEventRecord, ev events.Event, claim Claim, kind string, reason error) (string, error) {
	if err := c.letter(ctx, rec, &ev, kind, "", reason); err != nil {
		return "", err
	}
	claim.Outcome = kind
	if err := c.Store.Commit(ctx, claim, State{}, Effects{}); err != nil && !errors.Is(err, ErrDuplicate) {
		return "", err
	}
	return kind, nil
}

func (c *Consumer) letter(ctx context.Context, rec lambdaevents.KinesisEventRecord, ev *events.Event, kind, field string, reason error) error {
	if c.DLQ == nil {
		return fmt.Errorf("no dead-letter queue configured for a %s record: %w", kind, reason)
	}
	l := deadletter.New(Source, kind, reason.Error(), rec.Kinesis.Data, c.now())
	l.Field = field
	l.Origin = map[string]string{
		"event_source_arn": rec.EventSourceArn,
		"event_id":         rec.EventID,
		"partition_key":    rec.Kinesis.PartitionKey,
		"sequence_number":  rec.Kinesis.SequenceNumber,
	}
	if !rec.Kinesis.ApproximateArrivalTimestamp.IsZero() {
		l.Origin["approximate_arrival"] = rec.Kinesis.ApproximateArrivalTimestamp.UTC().Format(time.RFC3339Nano)
	}
	if ev != nil {
		l.RecordID, l.Tenant = ev.ID, string(ev.Tenant)
	}
	if err := c.DLQ.Put(ctx, []deadletter.Letter{l}); err != nil {
		return fmt.Errorf("dead-letter a %s record: %w", kind, err)
	}
	c.log().Warn("engagement record dead-lettered", "kind", kind, "field", field, "sequence", rec.Kinesis.SequenceNumber,
		"event", l.RecordID, "tenant", l.Tenant)
	return nil
}

// classify maps a decoding error to a dead-letter kind and field.
func classify(err error) (kind, field string) {
	var fe *events.FieldError
	if errors.As(err, &fe) {
		field = fe.Field
	}
	switch {
	case errors.Is(err, events.ErrTooLarge):
		return deadletter.KindTooLarge, field
	case errors.Is(err, events.ErrUnknownType):
		return deadletter.KindUnknownType, field
	case errors.Is(err, events.ErrUnsupportedVersion):
		return deadletter.KindUnsupported, field
	case field == "tenant":
		return deadletter.KindUnknownTenant, field
	}
	return deadletter.KindInvalid, field
}

// redact keeps error text out of logs when it may quote a contact point;
// the dead letter keeps the full reason.
func redact(err error) string {
	s := err.Error()
	if strings.ContainsAny(s, "@+") {
		return "(error text withheld from logs: it may name a contact point)"
	}
	return s
}

func redactAddress(s string) string {
	if len(s) <= 4 {
		return "(contact point)"
	}
	return "ending " + s[len(s)-4:]
}

func (c *Consumer) log() *slog.Logger {
	if c.Log == nil {
		return slog.Default()
	}
	return c.Log
}

func (c *Consumer) now() time.Time {
	if c.Now == nil {
		return time.Now().UTC()
	}
	return c.Now().UTC()
}

func (c *Consumer) ttl() time.Duration {
	if c.ClaimTTL <= 0 {
		return DefaultClaimTTL
	}
	return c.ClaimTTL
}

func (c *Consumer) maxConflicts() int {
	if c.MaxConflicts <= 0 {
		return 50
	}
	return c.MaxConflicts
}
