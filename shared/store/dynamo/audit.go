package dynamo

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/recoup-dev/recoup/shared/audit"
	"github.com/recoup-dev/recoup/shared/ledger"
)

// AuditAPI is the part of the DynamoDB client the audit store uses.
type AuditAPI interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ AuditAPI = (*dynamodb.Client)(nil)

// AuditBlock is how many consecutive entries share one partition key:
// entry n lives under T#<tenant>#LOG#<n/AuditBlock>, so a walk in sequence
// order is one Query per block (see TABLES.md).
const AuditBlock = 1000

// DefaultAuditAttempts bounds how often Append tries before giving up with
// ErrAuditContention.
const DefaultAuditAttempts = 100

// ErrAuditContention is returned (wrapped) by Append when other writers to the
// same chain won every one of its attempts.
var ErrAuditContention = errors.New("audit chain head still contended")

// ErrAuditInconsistent is returned (wrapped) by Append when the entry after
// the head already exists: the chain was written to outside Append, or the
// head was tampered with. Appending stops rather than fork the chain; run
// Verify.
var ErrAuditInconsistent = errors.New("audit chain inconsistent")

// Audit stores the hash-chained audit log (package audit) in the audit table,
// one chain per tenant. Entries are written once and never updated or
// deleted, and the table has no TTL: 12 CFR 1006.100 requires evidence of
// compliance to be kept for three years after the last collection activity on
// a debt, and an entry's chain successors depend on it forever.
type Audit struct {
	api   AuditAPI
	table string
	// MaxAttempts bounds Append's tries under contention (default
	// DefaultAuditAttempts). Set before first use.
	MaxAttempts int
	// Now stamps records appended without a time (default time.Now).
	Now func() time.Time
	// accountIndex: the table has GSI1 over GSI1PK/GSI1SK, so Query by
	// account reads the index instead of walking the chain.
	accountIndex bool

	mu    sync.Mutex
	heads map[ledger.TenantID]audit.Head // last head seen per tenant
}

// NewAudit returns a store over the table prefix+"audit".
func NewAudit(api AuditAPI, prefix string) (*Audit, error) {
	if api == nil {
		return nil, errors.New("dynamo: nil DynamoDB client")
	}
	a := &Audit{api: api, table: prefix + AuditTable, MaxAttempts: DefaultAuditAttempts, Now: time.Now,
		heads: map[ledger.TenantID]audit.Head{}}
	for _, spec := range Schema() {
		if spec.Name == AuditTable {
			for _, ix := range spec.Indexes {
				a.accountIndex = a.accountIndex || (ix.Name == GSI1 && ix.HashKey == "GSI1PK" && ix.RangeKey == "GSI1SK")
			}
		}
	}
	return a, nil
}

// auditItem is an entry as stored. Inputs and Content are kept as JSON text
// (S), never as DynamoDB maps, which would not keep key order or number
// spelling and so would not hash alike.
type auditItem struct {
	PK            string   `dynamodbav:"PK"`
	SK            string   `dynamodbav:"SK"`
	GSI1PK        string   `dynamodbav:"GSI1PK,omitempty"`
	GSI1SK        string   `dynamodbav:"GSI1SK,omitempty"`
	Tenant        string   `dynamodbav:"tenant"`
	Seq           uint64   `dynamodbav:"seq"`
	At            string   `dynamodbav:"at"`
	Kind          string   `dynamodbav:"kind"`
	Account       string   `dynamodbav:"account,omitempty"`
	Debt          string   `dynamodbav:"debt,omitempty"`
	Decision      string   `dynamodbav:"decision,omitempty"`
	Rules         []string `dynamodbav:"rules,omitempty"` // a list: order matters
	PolicyVersion string   `dynamodbav:"policy_version,omitempty"`
	Reason        string   `dynamodbav:"reason,omitempty"`
	Inputs        string   `dynamodbav:"inputs,omitempty"`
	Content       string   `dynamodbav:"content,omitempty"`
	PrevHash      string   `dynamodbav:"prev_hash"`
	Hash          string   `dynamodbav:"hash"`
}

// auditHeadItem is the chain head of one tenant.
type auditHeadItem struct {
	Tenant string `dynamodbav:"tenant"`
	Seq    uint64 `dynamodbav:"seq"`
	Hash   string `dynamodbav:"hash"`
}

func auditHeadKey(t ledger.TenantID) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "T#" + string(t) + "#HEAD"},
		"SK": &types.AttributeValueMemberS{Value: "HEAD"},
	}
}

func auditBlockPK(t ledger.TenantID, block uint64) string {
	return "T#" + string(t) + "#LOG#" + strconv.FormatUint(block, 10)
}

func auditSK(seq uint64) string { return fmt.Sprintf("%020d", seq) }

func auditAccountPK(t ledger.TenantID, account string) string {
	return "T#" + string(t) + "#ACCT#" + account
}

func auditEntryKey(t ledger.TenantID, seq uint64) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: auditBlockPK(t, seq/AuditBlock)},
		"SK": &types.AttributeValueMemberS{Value: auditSK(seq)},
	}
}

func toAuditItem(r audit.Record) auditItem {
	it := auditItem{
		PK: auditBlockPK(r.Tenant, r.Seq/AuditBlock), SK: auditSK(r.Seq),
		Tenant: string(r.Tenant), Seq: r.Seq, At: audit.FormatTime(r.At), Kind: string(r.Kind),
		Account: r.Account, Debt: r.Debt, Decision: r.Decision, Rules: r.Rules,
		PolicyVersion: r.PolicyVersion, Reason: r.Reason, Inputs: string(r.Inputs), Content: string(r.Content),
		PrevHash: r.PrevHash, Hash: r.Hash,
	}
	if r.Account != "" {
		// The account index (access pattern A4): sparse, only entries
		// about an account carry it.
		it.GSI1PK, it.GSI1SK = auditAccountPK(r.Tenant, r.Account), it.At+"#"+it.SK
	}
	return it
}

func (it auditItem) record() (audit.Record, error) {
	at, err := audit.ParseTime(it.At)
	if err != nil {
		return audit.Record{}, fmt.Errorf("stored time is not RFC 3339: %w", err)
	}
	r := audit.Record{Tenant: ledger.TenantID(it.Tenant), Seq: it.Seq, At: at, Kind: audit.Kind(it.Kind),
		Account: it.Account, Debt: it.Debt, Decision: it.Decision, Rules: it.Rules,
		PolicyVersion: it.PolicyVersion, Reason: it.Reason, PrevHash: it.PrevHash, Hash: it.Hash}
	if it.Inputs != "" {
		r.Inputs = []byte(it.Inputs)
	}
	if it.Content != "" {
		r.Content = []byte(it.Content)
	}
	return r, nil
}

// AuditDecodeError is yielded by Records for a stored entry that exists but
// does not decode (a damaged or hand-edited item); Seq comes from its key.
type AuditDecodeError struct {
	Seq uint64
	Err error
}

func (e *AuditDecodeError) Error() string {
	return fmt.Sprintf("audit entry seq %d does not decode: %v", e.Seq, e.Err)
}

func (e *AuditDecodeError) Unwrap() error { return e.Err }

// Head returns the head of a tenant's chain (strongly consistent), or
// audit.GenesisHead when the tenant has no entries.
func (a *Audit) Head(ctx context.Context, tenant ledger.TenantID) (audit.Head, error) {
	if err := tenant.Validate(); err != nil {
		return audit.Head{}, err
	}
	res, err := a.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(a.table),
		Key: auditHeadKey(tenant), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return audit.Head{}, fmt.Errorf("read audit head of tenant %s: %w", tenant, err)
	}
	h, err := decodeAuditHead(tenant, res.Item)
	if err == nil {
		a.remember(h)
	}
	return h, err
}

func decodeAuditHead(tenant ledger.TenantID, item map[string]types.AttributeValue) (audit.Head, error) {
	if item == nil {
		return audit.GenesisHead(tenant), nil
	}
	var it auditHeadItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return audit.Head{}, fmt.Errorf("%w: audit head of tenant %s does not decode: %w", ErrAuditInconsistent, tenant, err)
	}
	return audit.Head{Tenant: tenant, Seq: it.Seq, Hash: it.Hash}, nil
}

// remember keeps the latest head seen, to try the next append against it
// without reading it first; a stale one only costs a retry.
func (a *Audit) remember(h audit.Head) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if old, ok := a.heads[h.Tenant]; !ok || h.Seq >= old.Seq {
		a.heads[h.Tenant] = h
	}
}

func (a *Audit) cachedHead(tenant ledger.TenantID) (audit.Head, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	h, ok := a.heads[tenant]
	return h, ok
}

// Append adds r to the end of tenant's chain and returns it as stored, with
// Seq, PrevHash and Hash filled in (values given for them are ignored; a
// zero At becomes now). The head update (condition: still at the seq and
// hash the record follows) and the entry (condition: new) go in one
// TransactWriteItems, so concurrent appenders never share a sequence number
// or fork the chain: the loser takes the new head DynamoDB returns with the
// cancellation (or reads it, strongly consistent) and tries again after a
// jittered backoff, up to MaxAttempts times (then ErrAuditContention). The
// store remembers the last head it saw per tenant and tries that first,
// saving the read when it is the only writer; a stale one costs one retry.
//
// When the outcome of a write is unknown (a network error after DynamoDB may
// have committed it), Append reads the entry back: if it is there with the
// record's hash the append succeeded, so a retried call never records the
// same event twice because of a lost response.
func (a *Audit) Append(ctx context.Context, tenant ledger.TenantID, r audit.Record) (audit.Record, error) {
	return a.AppendWith(ctx, tenant, r)
}

// ErrWithCondition is an AppendWith whose own items' conditions failed:
// nothing was written, neither the record nor the items.
var ErrWithCondition = errors.New("dynamo: a condition of the items written with the audit record failed")

// AppendWith appends r as Append does and writes with in the same
// transaction, so a state change and the audit record of it are stored
// together or not at all. with may hold at most 98 items (DynamoDB's 100
// per transaction, less the chain's two). When a condition of with fails,
// nothing is written and the error wraps ErrWithCondition.
func (a *Audit) AppendWith(ctx context.Context, tenant ledger.TenantID, r audit.Record, with ...types.TransactWriteItem) (audit.Record, error) {
	if len(with) > 98 {
		return audit.Record{}, fmt.Errorf("dynamo: %d items written with an audit record, at most 98", len(with))
	}
	if err := tenant.Validate(); err != nil {
		return audit.Record{}, err
	}
	switch r.Tenant {
	case "":
		r.Tenant = tenant
	case tenant:
	default:
		return audit.Record{}, fmt.Errorf("%w: record of tenant %s appended to the chain of %s", audit.ErrInvalid, r.Tenant, tenant)
	}
	if r.At.IsZero() {
		now := a.Now
		if now == nil {
			now = time.Now
		}
		r.At = now()
	}
	if err := audit.Validate(r); err != nil {
		return audit.Record{}, err
	}
	maxAttempts := max(a.MaxAttempts, 1)

	head, ok := a.cachedHead(tenant)
	for attempt := 1; ; attempt++ {
		if !ok {
			var err error
			if head, err = a.Head(ctx, tenant); err != nil {
				return audit.Record{}, err
			}
		}
		if !head.CanFollow() {
			return audit.Record{}, fmt.Errorf("%w: the chain of tenant %s has no sequence numbers left", ErrAuditInconsistent, tenant)
		}
		rec := head.Next(r)
		retry, newHead, err := a.write(ctx, head, rec, with)
		switch {
		case err == nil:
			a.remember(audit.HeadOf(rec))
			return rec, nil
		case !retry:
			return audit.Record{}, err
		case attempt >= maxAttempts:
			return audit.Record{}, fmt.Errorf("%w: tenant %s, %d attempts: %w", ErrAuditContention, tenant, attempt, err)
		}
		head, ok = newHead, newHead.Hash != ""
		if err := auditBackoff(ctx, attempt); err != nil {
			return audit.Record{}, err
		}
	}
}

// write tries one append. retry says another writer moved the head (newHead
// is the head it saw, when DynamoDB returned it) or the items were busy.
func (a *Audit) write(ctx context.Context, head audit.Head, rec audit.Record, with []types.TransactWriteItem) (retry bool, newHead audit.Head, err error) {
	entry, err := attributevalue.MarshalMap(toAuditItem(rec))
	if err != nil {
		return false, audit.Head{}, fmt.Errorf("encode audit entry seq %d of tenant %s: %w", rec.Seq, rec.Tenant, err)
	}
	cond, values := "attribute_not_exists(PK)", map[string]types.AttributeValue{}
	if head.Seq > 0 {
		cond = "#seq = :prev AND #hash = :prevhash"
		values[":prev"] = &types.AttributeValueMemberN{Value: strconv.FormatUint(head.Seq, 10)}
		values[":prevhash"] = &types.AttributeValueMemberS{Value: head.Hash}
	}
	values[":seq"] = &types.AttributeValueMemberN{Value: strconv.FormatUint(rec.Seq, 10)}
	values[":hash"] = &types.AttributeValueMemberS{Value: rec.Hash}
	values[":tenant"] = &types.AttributeValueMemberS{Value: string(rec.Tenant)}
	_, err = a.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: append([]types.TransactWriteItem{
		{Update: &types.Update{
			TableName:                           aws.String(a.table),
			Key:                                 auditHeadKey(rec.Tenant),
			UpdateExpression:                    aws.String("SET #seq = :seq, #hash = :hash, #tenant = :tenant"),
			ConditionExpression:                 aws.String(cond),
			ExpressionAttributeNames:            map[string]string{"#seq": "seq", "#hash": "hash", "#tenant": "tenant"},
			ExpressionAttributeValues:           values,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}},
		{Put: &types.Put{
			TableName:           aws.String(a.table),
			Item:                entry,
			ConditionExpression: aws.String("attribute_not_exists(PK)"),
		}},
	}, with...)})
	if err == nil {
		return false, audit.Head{}, nil
	}
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) {
		reasons := canceled.CancellationReasons
		code := func(i int) string {
			if i < len(reasons) && reasons[i].Code != nil {
				return *reasons[i].Code
			}
			return ""
		}
		busy := len(reasons) == 0
		for i := range reasons {
			busy = busy || code(i) == "TransactionConflict" || code(i) == "ThrottlingError"
		}
		for i := 2; i < len(reasons); i++ {
			if code(i) == "ConditionalCheckFailed" {
				return false, audit.Head{}, fmt.Errorf("%w: item %d: %w", ErrWithCondition, i-2, err)
			}
		}
		switch {
		case code(0) == "ConditionalCheckFailed":
			// Another writer moved the head: retry after it, from the head
			// DynamoDB returned when it did.
			if len(reasons) > 0 && reasons[0].Item != nil {
				if h, derr := decodeAuditHead(rec.Tenant, reasons[0].Item); derr == nil {
					return true, h, err
				}
			}
			return true, audit.Head{}, err
		case code(1) == "ConditionalCheckFailed":
			return false, audit.Head{}, fmt.Errorf("%w: tenant %s: entry seq %d already exists but the head is at seq %d",
				ErrAuditInconsistent, rec.Tenant, rec.Seq, head.Seq)
		case busy:
			return true, audit.Head{}, err
		}
		return false, audit.Head{}, fmt.Errorf("append audit entry seq %d of tenant %s: %w", rec.Seq, rec.Tenant, err)
	}
	var conflict *types.TransactionConflictException
	if errors.As(err, &conflict) {
		return true, audit.Head{}, err
	}
	// Unknown outcome: the write may have committed before the error.
	if landed, lerr := a.landed(ctx, rec); lerr == nil && landed {
		return false, audit.Head{}, nil
	}
	return false, audit.Head{}, fmt.Errorf("append audit entry seq %d of tenant %s: %w", rec.Seq, rec.Tenant, err)
}

// landed reports whether rec is stored, with its hash. It runs even when ctx
// was cancelled (that may be why the write failed), for at most 5 seconds.
func (a *Audit) landed(ctx context.Context, rec audit.Record) (bool, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	res, err := a.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(a.table),
		Key: auditEntryKey(rec.Tenant, rec.Seq), ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String("#hash"), ExpressionAttributeNames: map[string]string{"#hash": "hash"}})
	if err != nil {
		return false, err
	}
	h, ok := res.Item["hash"].(*types.AttributeValueMemberS)
	return ok && h.Value == rec.Hash, nil
}

// auditBackoff sleeps before retry n (1-based): full jitter over an
// exponential window of 2 ms doubling to at most 128 ms, so racing writers
// spread out instead of colliding again.
func auditBackoff(ctx context.Context, n int) error {
	window := 2 * time.Millisecond << min(n-1, 6)
	d := rand.N(window) + time.Millisecond
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Range returns the entries fromSeq..toSeq (inclusive) of a tenant's chain
// in sequence order, strongly consistent. An entry that does not decode
// fails the call with an *AuditDecodeError; Records goes on past it.
func (a *Audit) Range(ctx context.Context, tenant ledger.TenantID, fromSeq, toSeq uint64) ([]audit.Record, error) {
	var out []audit.Record
	for r, err := range a.Records(ctx, tenant, fromSeq, toSeq) {
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Records yields the entries fromSeq..toSeq (inclusive) of a tenant's chain
// in sequence order, one Query per block of AuditBlock entries, strongly
// consistent. A stored entry that does not decode yields an
// *AuditDecodeError and the walk goes on; a failed Query ends it.
func (a *Audit) Records(ctx context.Context, tenant ledger.TenantID, fromSeq, toSeq uint64) iter.Seq2[audit.Record, error] {
	return func(yield func(audit.Record, error) bool) {
		if err := tenant.Validate(); err != nil {
			yield(audit.Record{}, err)
			return
		}
		fromSeq = max(fromSeq, 1)
		if fromSeq > toSeq {
			return
		}
		for block := fromSeq / AuditBlock; block <= toSeq/AuditBlock; block++ {
			lo := max(fromSeq, block*AuditBlock)
			hi := min(toSeq, block*AuditBlock+AuditBlock-1)
			p := dynamodb.NewQueryPaginator(a.api, &dynamodb.QueryInput{
				TableName:              aws.String(a.table),
				KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :lo AND :hi"),
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":pk": &types.AttributeValueMemberS{Value: auditBlockPK(tenant, block)},
					":lo": &types.AttributeValueMemberS{Value: auditSK(lo)},
					":hi": &types.AttributeValueMemberS{Value: auditSK(hi)},
				},
				ConsistentRead: aws.Bool(true),
			})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					yield(audit.Record{}, fmt.Errorf("read audit entries %d-%d of tenant %s: %w", lo, hi, tenant, err))
					return
				}
				for _, item := range page.Items {
					r, err := decodeAuditItem(item)
					if !yield(r, err) {
						return
					}
				}
			}
			if block == toSeq/AuditBlock { // the last block: block++ could wrap
				return
			}
		}
	}
}

func decodeAuditItem(item map[string]types.AttributeValue) (audit.Record, error) {
	var it auditItem
	err := attributevalue.UnmarshalMap(item, &it)
	if err == nil {
		var r audit.Record
		if r, err = it.record(); err == nil {
			return r, nil
		}
	}
	var seq uint64
	if sk, ok := item["SK"].(*types.AttributeValueMemberS); ok {
		seq, _ = strconv.ParseUint(sk.Value, 10, 64)
	}
	return audit.Record{}, &AuditDecodeError{Seq: seq, Err: err}
}

// Query yields a tenant's entries about one account (all accounts when
// account is empty) with At in [from, to) (a zero bound is open), in
// sequence order: the export's access pattern. With the account index
// (GSI1) in the schema an account's entries come from it (eventually
// consistent); otherwise, and for every account, it walks the chain up to
// the current head and filters, which is correct but reads the whole chain.
func (a *Audit) Query(ctx context.Context, tenant ledger.TenantID, account string, from, to time.Time) iter.Seq2[audit.Record, error] {
	f := audit.Filter{Account: account, From: from, To: to}
	if account != "" && a.accountIndex {
		return a.queryAccountIndex(ctx, tenant, f)
	}
	return func(yield func(audit.Record, error) bool) {
		head, err := a.Head(ctx, tenant)
		if err != nil {
			yield(audit.Record{}, err)
			return
		}
		for r, err := range a.Records(ctx, tenant, 1, head.Seq) {
			if err != nil || f.Match(r) {
				if !yield(r, err) {
					return
				}
			}
		}
	}
}

// queryAccountIndex reads one account's entries from GSI1 (GSI1PK =
// T#<t>#ACCT#<account>, GSI1SK = <at>#<seq>) and yields them by seq.
func (a *Audit) queryAccountIndex(ctx context.Context, tenant ledger.TenantID, f audit.Filter) iter.Seq2[audit.Record, error] {
	return func(yield func(audit.Record, error) bool) {
		if err := tenant.Validate(); err != nil {
			yield(audit.Record{}, err)
			return
		}
		lo, hi := "0", "~" // before and after every time string
		if !f.From.IsZero() {
			lo = audit.FormatTime(f.From)
		}
		if !f.To.IsZero() {
			hi = audit.FormatTime(f.To) // "<to>" < "<to>#seq": To is exclusive
		}
		p := dynamodb.NewQueryPaginator(a.api, &dynamodb.QueryInput{
			TableName:              aws.String(a.table),
			IndexName:              aws.String(GSI1),
			KeyConditionExpression: aws.String("GSI1PK = :pk AND GSI1SK BETWEEN :lo AND :hi"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": &types.AttributeValueMemberS{Value: auditAccountPK(tenant, f.Account)},
				":lo": &types.AttributeValueMemberS{Value: lo},
				":hi": &types.AttributeValueMemberS{Value: hi},
			},
		})
		var recs []audit.Record
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				yield(audit.Record{}, fmt.Errorf("query audit entries of one account of tenant %s: %w", tenant, err))
				return
			}
			for _, item := range page.Items {
				r, err := decodeAuditItem(item)
				if err != nil {
					if !yield(r, err) {
						return
					}
					continue
				}
				if f.Match(r) {
					recs = append(recs, r)
				}
			}
		}
		slices.SortFunc(recs, func(x, y audit.Record) int {
			switch {
			case x.Seq < y.Seq:
				return -1
			case x.Seq > y.Seq:
				return 1
			}
			return 0
		})
		for _, r := range recs {
			if !yield(r, nil) {
				return
			}
		}
	}
}

// Verify checks a tenant's whole chain against its head: it reads the head,
// walks every entry up to it and on to the end of the next block (to find
// entries written past the head), and returns the problems audit.Verify
// finds, an entry that does not decode counting as one. It returns the head
// it verified against; err is only for failing to read. Appends may go on
// meanwhile: an entry past the head is reported only if it is still past
// the head read again after the walk (head and entry are written in one
// transaction, so a real append never is).
func (a *Audit) Verify(ctx context.Context, tenant ledger.TenantID) ([]audit.Problem, audit.Head, error) {
	head, err := a.Head(ctx, tenant)
	if err != nil {
		return nil, audit.Head{}, err
	}
	v := audit.NewVerifier(tenant, audit.Options{Head: &head})
	end := head.Seq
	if b := head.Seq / AuditBlock; b < (^uint64(0))/AuditBlock-1 {
		end = (b+2)*AuditBlock - 1
	}
	for r, err := range a.Records(ctx, tenant, 1, end) {
		var bad *AuditDecodeError
		switch {
		case errors.As(err, &bad):
			v.AddUnreadable(bad.Seq, "the stored item does not decode")
		case err != nil:
			return nil, head, err
		default:
			v.Add(r)
		}
	}
	problems := v.Finish()
	for i, p := range problems {
		if p.Kind != audit.ProblemBeyondHead {
			continue
		}
		after, err := a.Head(ctx, tenant)
		if err != nil {
			return nil, head, err
		}
		switch {
		case after.Seq >= p.To: // appended during the walk
			problems = slices.Delete(problems, i, i+1)
		case after.Seq > head.Seq:
			p.Seq = after.Seq + 1
			p.Detail = fmt.Sprintf("records from seq %d to %d exist past the head at seq %d: written without advancing the head", p.Seq, p.To, after.Seq)
			problems[i] = p
		}
		break
	}
	return problems, head, nil
}
