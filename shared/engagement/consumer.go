package engagement

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/recoup-dev/recoup/events"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/deadletter"
	"github.com/recoup-dev/recoup/shared/erp"
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
	// Claims returns the claims of those event ids that are claimed, read
	// strongly consistent; ids not in the map are unclaimed.
	Claims(ctx context.Context, tenant ledger.TenantID, eventIDs []string) (map[string]Claim, error)
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
	// Concurrency is how many partition keys of a batch are applied at
	// once (default DefaultConcurrency). Records of one key are always
	// applied one after another, in order.
	Concurrency int
	// Replanner, when set, is told of each applied event that asks for a
	// re-plan, so a waiting collection cycle plans again within seconds.
	// Its failure is logged, not retried: the request stays in the
	// re-plan outbox, which the cycle reads when it next parks.
	Replanner Replanner
	// ERP, when set, queues the event's ERP actions (Effects.ERP) for the
	// write-back before the event is committed: a commit that fails is
	// retried and queues the same actions again, which the write-back
	// keeps as one.
	ERP ERPWriter
}

// ERPWriter queues actions for the tenant's ERP (writeback.Submitter).
type ERPWriter interface {
	Submit(ctx context.Context, actions []erp.Action) (int, error)
}

// Replanner wakes a customer's waiting collection cycle.
type Replanner interface {
	Replan(ctx context.Context, tenant ledger.TenantID, customer, reason string) error
}

// DefaultConcurrency is the default Consumer.Concurrency. Nearly all of a
// record's time is spent waiting on DynamoDB, so the consumer keeps several
// customers in flight, as Lambda's parallelization factor would across
// invocations, without giving up the order of each customer's events.
const DefaultConcurrency = 16

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
	b := c.prepare(ctx, in)

	// One worker per partition key at a time: a key's records go to one
	// worker in order, different keys run side by side.
	var keys []string
	byKey := map[string][]int{}
	for i, rec := range in.Records {
		k := rec.Kinesis.PartitionKey
		if _, ok := byKey[k]; !ok {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], i)
	}
	outcomes := make([]recordOutcome, len(in.Records))
	work := make(chan []int)
	var wg sync.WaitGroup
	for range min(c.concurrency(), len(keys)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for idx := range work {
				c.applyKey(ctx, in.Records, idx, b, outcomes)
			}
		}()
	}
	for _, k := range keys {
		work <- byKey[k]
	}
	close(work)
	wg.Wait()

	var (
		resp lambdaevents.KinesisEventResponse
		res  Result
	)
	for i, o := range outcomes {
		switch {
		case o.deferred:
			res.Deferred++
		case o.err != nil:
			res.Failed++
		case o.kind == "duplicate":
			res.Duplicates++
		case o.kind == "applied":
			res.Applied++
		default:
			res.DeadLettered++
		}
		if o.deferred || o.err != nil {
			resp.BatchItemFailures = append(resp.BatchItemFailures,
				lambdaevents.KinesisBatchItemFailure{ItemIdentifier: in.Records[i].Kinesis.SequenceNumber})
		}
	}
	c.log().Info("engagement batch", "records", len(in.Records), "partition_keys", len(keys), "applied", res.Applied,
		"duplicates", res.Duplicates, "dead_lettered", res.DeadLettered, "failed", res.Failed, "deferred", res.Deferred)
	return resp, res
}

// applyKey applies the records of one partition key in order. Once one
// fails, the key's later records are deferred: applying them would reorder
// the customer's events.
func (c *Consumer) applyKey(ctx context.Context, recs []lambdaevents.KinesisEventRecord, idx []int, b *batch, out []recordOutcome) {
	failed := false
	for _, i := range idx {
		if failed {
			out[i].deferred = true
			continue
		}
		rec := recs[i]
		out[i].kind, out[i].err = c.record(ctx, rec, b.decoded[i], b)
		if out[i].err != nil {
			failed = true
			c.log().Error("engagement record failed; it will be retried", "sequence", rec.Kinesis.SequenceNumber,
				"event_source", rec.EventSourceArn, "error", redact(out[i].err))
		}
	}
}

// recordOutcome is what became of one record: kind is "applied",
// "duplicate" or a dead-letter kind; err or deferred send it back for retry.
type recordOutcome struct {
	kind     string
	err      error
	deferred bool
}

// batch is what a batch needs read once rather than once per record.
type batch struct {
	decoded []decodedRecord
	known   map[ledger.TenantID]customerLookup
	claims  map[ledger.TenantID]claimLookup
}

// prepare decodes every record, then reads the customers they name and the
// claims of their event ids with one batched read per tenant each, rather
// than two calls per record.
func (c *Consumer) prepare(ctx context.Context, in lambdaevents.KinesisEvent) *batch {
	b := &batch{decoded: make([]decodedRecord, len(in.Records)), known: map[ledger.TenantID]customerLookup{},
		claims: map[ledger.TenantID]claimLookup{}}
	customers := map[ledger.TenantID][]string{}
	ids := map[ledger.TenantID][]string{}
	seen := map[string]int{}
	for i, rec := range in.Records {
		d := &b.decoded[i]
		d.ev, d.err = events.DecodeKinesisRecord(rec)
		if d.err != nil {
			continue
		}
		t := d.ev.Tenant
		customers[t] = append(customers[t], d.ev.Customer)
		k := string(t) + "\x00" + d.ev.ID
		if j, ok := seen[k]; ok {
			// The same id twice in a batch: the prefetched claim is stale
			// once the first copy commits, so both read it when applied.
			b.decoded[j].recheck, d.recheck = true, true
			continue
		}
		seen[k] = i
		ids[t] = append(ids[t], d.ev.ID)
	}
	for t, cs := range customers {
		found, err := c.Ledger.ExistingCustomers(ctx, t, cs)
		b.known[t] = customerLookup{found, err}
	}
	for t, list := range ids {
		found, err := c.Store.Claims(ctx, t, list)
		b.claims[t] = claimLookup{found, err}
	}
	return b
}

// decodedRecord is a record's event, or why it does not decode.
type decodedRecord struct {
	ev  events.Event
	err error
	// recheck: the event id occurs more than once in the batch.
	recheck bool
}

// customerLookup is which customers of one tenant the ledger holds; err
// fails (and so retries) every record of the tenant in the batch.
type customerLookup struct {
	found map[string]bool
	err   error
}

// claimLookup is the claims of one tenant's event ids in the batch, read
// before any record was applied.
type claimLookup struct {
	found map[string]Claim
	err   error
}

// priorClaim is the claim of the record's event id, if any.
func (c *Consumer) priorClaim(ctx context.Context, d decodedRecord, b *batch) (Claim, bool, error) {
	if d.recheck {
		found, err := c.Store.Claims(ctx, d.ev.Tenant, []string{d.ev.ID})
		if err != nil {
			return Claim{}, false, fmt.Errorf("event %s: read its claim: %w", d.ev.ID, err)
		}
		p, ok := found[d.ev.ID]
		return p, ok, nil
	}
	l := b.claims[d.ev.Tenant]
	if l.err != nil {
		return Claim{}, false, fmt.Errorf("read the batch's event claims: %w", l.err)
	}
	p, ok := l.found[d.ev.ID]
	return p, ok, nil
}

// settled classifies an event whose id is claimed: a duplicate when the
// claim's content is the event's, otherwise a reused id, refused.
func (c *Consumer) settled(ctx context.Context, rec lambdaevents.KinesisEventRecord, ev events.Event, prior, claim Claim) (string, error) {
	if prior.Hash != claim.Hash {
		return deadletter.KindRejected, c.letter(ctx, rec, &ev, deadletter.KindRejected, "id",
			fmt.Errorf("event %s was applied before with other content (type %s, customer %s); this copy is not applied",
				ev.ID, prior.Type, prior.Customer))
	}
	return "duplicate", nil
}

// record applies one record. It returns "applied", "duplicate" or the kind
// of dead letter written; an error means nothing is settled and the record
// must be retried.
func (c *Consumer) record(ctx context.Context, rec lambdaevents.KinesisEventRecord, d decodedRecord, b *batch) (string, error) {
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

	prior, found, err := c.priorClaim(ctx, d, b)
	if err != nil {
		return "", err
	}
	if found {
		return c.settled(ctx, rec, ev, prior, claim)
	}

	lookup := b.known[ev.Tenant]
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
		if len(fx.ERP) > 0 && c.ERP != nil {
			_, err := c.ERP.Submit(ctx, fx.ERP)
			switch {
			case errors.Is(err, erp.ErrInvalid):
				// The event is good; only what it would write to the ERP
				// is not. The event is applied, and the action is kept
				// in the dead-letter queue with its reason.
				if lerr := c.letter(ctx, rec, &ev, deadletter.KindRejected, "erp",
					fmt.Errorf("event %s: ERP action not queued: %w", ev.ID, err)); lerr != nil {
					return "", lerr
				}
			case err != nil:
				return "", fmt.Errorf("event %s: queue for the ERP: %w", ev.ID, err)
			}
		}
		err = c.Store.Commit(ctx, claim, st, fx)
		switch {
		case err == nil:
			optOuts := 0
			for _, ce := range fx.Consent {
				if consent.Restricts(ce) {
					optOuts++
				}
			}
			c.log().Info("engagement event applied", "tenant", string(ev.Tenant), "event", ev.ID, "type", string(ev.Type()),
				"note", fx.Note, "actions_changed", len(fx.Actions), "replan", fx.Replan != nil, "opt_outs", optOuts)
			if fx.Replan != nil && c.Replanner != nil {
				if err := c.Replanner.Replan(ctx, ev.Tenant, ev.Customer, fx.Replan.Reason); err != nil {
					c.log().Warn("re-plan not delivered; the cycle reads it when it next parks", "tenant", string(ev.Tenant),
						"event", ev.ID, "err", err)
				}
			}
			return "applied", nil
		case errors.Is(err, ErrDuplicate):
			// Claimed since the batch's claims were read: by another
			// delivery of this event, or by another event reusing its id.
			found, err := c.Store.Claims(ctx, ev.Tenant, []string{ev.ID})
			if err != nil {
				return "", fmt.Errorf("event %s: read the claim that won: %w", ev.ID, err)
			}
			if p, ok := found[ev.ID]; ok {
				return c.settled(ctx, rec, ev, p, claim)
			}
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

func (c *Consumer) concurrency() int {
	if c.Concurrency <= 0 {
		return DefaultConcurrency
	}
	return c.Concurrency
}

func (c *Consumer) maxConflicts() int {
	if c.MaxConflicts <= 0 {
		return 50
	}
	return c.MaxConflicts
}
