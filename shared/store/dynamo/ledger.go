package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/ingest"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

// LedgerAPI is the part of the DynamoDB client the ledger store uses.
type LedgerAPI interface {
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

var (
	_ LedgerAPI             = (*dynamodb.Client)(nil)
	_ ingest.CustomerLookup = (*Ledger)(nil)
	_ ingest.InvoiceLookup  = (*Ledger)(nil)
)

// Ledger stores ledger records in the ledger table.
type Ledger struct {
	api         LedgerAPI
	table       string
	concurrency int
}

// NewLedger returns a store over the ledger table named prefix+"ledger".
func NewLedger(api LedgerAPI, prefix string) (*Ledger, error) {
	if api == nil {
		return nil, errors.New("dynamo: nil DynamoDB client")
	}
	return &Ledger{api: api, table: prefix + LedgerTable, concurrency: 4}, nil
}

type keyed struct {
	pk, sk, hash string
	item         map[string]types.AttributeValue
	// keepStored: write only when nothing is stored under the key (an
	// implied customer must not overwrite a customer master record).
	keepStored bool
}

// Upsert writes the records that are new or whose content changed and leaves
// the rest untouched, so writing the same records twice changes nothing; an
// implied customer (ledger.Customer.Implied) is written only when no customer
// is stored under its id. It
// reads each record's stored hash first (BatchGetItem, 100 keys a call) and
// writes in BatchWriteItem calls of 25, retrying unprocessed items with
// backoff.
func (l *Ledger) Upsert(ctx context.Context, recs []ledger.Record) (ledger.UpsertCounts, error) {
	items := make([]keyed, 0, len(recs))
	seen := make(map[[2]string]int, len(recs))
	for _, r := range recs {
		it, err := toItem(r)
		if err != nil {
			return ledger.UpsertCounts{}, err
		}
		av, err := attributevalue.MarshalMap(it)
		if err != nil {
			return ledger.UpsertCounts{}, fmt.Errorf("marshal %s %s: %w", r.Ref().Kind, r.Ref().ID, err)
		}
		k := keyed{pk: av["PK"].(*types.AttributeValueMemberS).Value, sk: av["SK"].(*types.AttributeValueMemberS).Value,
			hash: av["h"].(*types.AttributeValueMemberS).Value, item: av}
		if c, ok := r.(ledger.Customer); ok && c.Implied {
			k.keepStored = true
		}
		// BatchWriteItem refuses two writes to one key in a call; the last
		// version of a record in the input wins.
		if i, dup := seen[[2]string{k.pk, k.sk}]; dup {
			items[i] = k
			continue
		}
		seen[[2]string{k.pk, k.sk}] = len(items)
		items = append(items, k)
	}

	var (
		mu       sync.Mutex
		total    ledger.UpsertCounts
		firstErr error
		wg       sync.WaitGroup
		chunks   = make(chan []keyed)
	)
	for w := 0; w < l.concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for chunk := range chunks {
				c, err := l.upsertChunk(ctx, chunk)
				mu.Lock()
				total = total.Add(c)
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < len(items); i += 100 {
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed || ctx.Err() != nil {
			break
		}
		chunks <- items[i:min(i+100, len(items))]
	}
	close(chunks)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return total, firstErr
}

func (l *Ledger) upsertChunk(ctx context.Context, chunk []keyed) (ledger.UpsertCounts, error) {
	keys := make([]map[string]types.AttributeValue, len(chunk))
	for i, k := range chunk {
		keys[i] = map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: k.pk}, "SK": &types.AttributeValueMemberS{Value: k.sk}}
	}
	stored, err := batchGet(ctx, l.api, l.table, keys, "PK, SK, h")
	if err != nil {
		return ledger.UpsertCounts{}, err
	}
	have := make(map[[2]string]string, len(stored))
	for _, it := range stored {
		have[[2]string{str(it["PK"]), str(it["SK"])}] = str(it["h"])
	}
	var c ledger.UpsertCounts
	var writes []types.WriteRequest
	for _, k := range chunk {
		h, ok := have[[2]string{k.pk, k.sk}]
		switch {
		case !ok && k.keepStored:
			// A conditional put, not a batch write: a customer master record
			// stored since the read above must win.
			inserted, err := l.putIfAbsent(ctx, k.item)
			if err != nil {
				return ledger.UpsertCounts{}, err
			}
			if inserted {
				c.Inserted++
			} else {
				c.Unchanged++
			}
			continue
		case !ok:
			c.Inserted++
		case h != k.hash && !k.keepStored:
			c.Updated++
		default:
			c.Unchanged++
			continue
		}
		writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: k.item}})
	}
	for i := 0; i < len(writes); i += 25 {
		if err := l.batchWrite(ctx, writes[i:min(i+25, len(writes))]); err != nil {
			return ledger.UpsertCounts{}, err
		}
	}
	return c, nil
}

// putIfAbsent writes item unless its key is taken; inserted says which.
func (l *Ledger) putIfAbsent(ctx context.Context, item map[string]types.AttributeValue) (inserted bool, err error) {
	_, err = l.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(l.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)"),
	})
	var taken *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &taken):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("put %s %s on %s: %w", str(item["PK"]), str(item["SK"]), l.table, err)
	}
	return true, nil
}

func str(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// backoff sleeps before retry n (0-based) of unprocessed batch items.
func backoff(ctx context.Context, n int) error {
	d := time.Duration(25<<min(n, 6)) * time.Millisecond
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

const maxBatchRetries = 10

func (l *Ledger) batchWrite(ctx context.Context, writes []types.WriteRequest) error {
	req := map[string][]types.WriteRequest{l.table: writes}
	for try := 0; len(req) > 0 && len(req[l.table]) > 0; try++ {
		if try > maxBatchRetries {
			return fmt.Errorf("batch write on %s: items still unprocessed after %d retries", l.table, maxBatchRetries)
		}
		if try > 0 {
			if err := backoff(ctx, try); err != nil {
				return err
			}
		}
		res, err := l.api.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: req})
		if err != nil {
			return fmt.Errorf("batch write on %s: %w", l.table, err)
		}
		req = res.UnprocessedItems
	}
	return nil
}

// ExistingCustomers reports which of ids have a customer profile in the
// ledger of tenant.
func (l *Ledger) ExistingCustomers(ctx context.Context, tenant ledger.TenantID, ids []string) (map[string]bool, error) {
	found := make(map[string]bool, len(ids))
	for i := 0; i < len(ids); i += 100 {
		var keys []map[string]types.AttributeValue
		dedup := map[string]bool{}
		for _, id := range ids[i:min(i+100, len(ids))] {
			if dedup[id] || ledger.ValidateID("customer id", id) != nil {
				continue
			}
			dedup[id] = true
			keys = append(keys, map[string]types.AttributeValue{
				"PK": &types.AttributeValueMemberS{Value: customerPK(tenant, id)},
				"SK": &types.AttributeValueMemberS{Value: "PROFILE"},
			})
		}
		if len(keys) == 0 {
			continue
		}
		items, err := batchGet(ctx, l.api, l.table, keys, "id")
		if err != nil {
			return nil, fmt.Errorf("look up customers of tenant %s: %w", tenant, err)
		}
		for _, it := range items {
			found[str(it["id"])] = true
		}
	}
	return found, nil
}

// listKind reads every item of one kind for a tenant from the 16 GSI1 shards
// in parallel (access pattern L4) and hands each to decode.
func (l *Ledger) listKind(ctx context.Context, tenant ledger.TenantID, kind ledger.Kind, decode func(map[string]types.AttributeValue) error) error {
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	sem := make(chan struct{}, l.concurrency)
	for n := 0; n < shards; n++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			p := dynamodb.NewQueryPaginator(l.api, &dynamodb.QueryInput{
				TableName:                 aws.String(l.table),
				IndexName:                 aws.String(GSI1),
				KeyConditionExpression:    aws.String("GSI1PK = :pk"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: kindShardPK(tenant, kind, n)}},
			})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("list %ss of tenant %s: %w", kind, tenant, err)
				}
				if firstErr != nil {
					mu.Unlock()
					return
				}
				for _, it := range page.Items {
					if err := decode(it); err != nil {
						firstErr = err
						break
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// Invoices returns every invoice of a tenant, in no particular order.
func (l *Ledger) Invoices(ctx context.Context, tenant ledger.TenantID) ([]ledger.Invoice, error) {
	return listAll(ctx, l, tenant, ledger.KindInvoice, invoiceItem.invoice)
}

// Payments returns every payment of a tenant, in no particular order.
func (l *Ledger) Payments(ctx context.Context, tenant ledger.TenantID) ([]ledger.Payment, error) {
	return listAll(ctx, l, tenant, ledger.KindPayment, paymentItem.payment)
}

// Customers returns every customer of a tenant, in no particular order.
func (l *Ledger) Customers(ctx context.Context, tenant ledger.TenantID) ([]ledger.Customer, error) {
	return listAll(ctx, l, tenant, ledger.KindCustomer, customerItem.customer)
}

// ContactPoints returns every contact point of a tenant, in no particular order.
func (l *Ledger) ContactPoints(ctx context.Context, tenant ledger.TenantID) ([]ledger.ContactPoint, error) {
	return listAll(ctx, l, tenant, ledger.KindContact, contactItem.contact)
}

// Disputes returns every dispute of a tenant, in no particular order.
func (l *Ledger) Disputes(ctx context.Context, tenant ledger.TenantID) ([]ledger.Dispute, error) {
	return listAll(ctx, l, tenant, ledger.KindDispute, disputeItem.dispute)
}

// Promises returns every promise to pay of a tenant, in no particular order.
func (l *Ledger) Promises(ctx context.Context, tenant ledger.TenantID) ([]ledger.PromiseToPay, error) {
	return listAll(ctx, l, tenant, ledger.KindPromise, promiseItem.promise)
}

// Account reads everything about one customer in one query of its
// partition (access pattern L1), records of each kind in id order. found
// is false when the customer has no profile.
func (l *Ledger) Account(ctx context.Context, tenant ledger.TenantID, customer string) (acct ledger.Account, found bool, err error) {
	p := dynamodb.NewQueryPaginator(l.api, &dynamodb.QueryInput{
		TableName:                 aws.String(l.table),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: customerPK(tenant, customer)}},
		ConsistentRead:            aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return acct, false, fmt.Errorf("read account %s of tenant %s: %w", customer, tenant, err)
		}
		for _, av := range page.Items {
			sk := str(av["SK"])
			switch {
			case sk == "PROFILE":
				acct.Customer, err = decodeAs(av, customerItem.customer)
				found = err == nil
			case strings.HasPrefix(sk, sortKeyPrefix[ledger.KindContact]):
				err = appendAs(av, contactItem.contact, &acct.Contacts)
			case strings.HasPrefix(sk, sortKeyPrefix[ledger.KindInvoice]):
				err = appendAs(av, invoiceItem.invoice, &acct.Invoices)
			case strings.HasPrefix(sk, sortKeyPrefix[ledger.KindPayment]):
				err = appendAs(av, paymentItem.payment, &acct.Payments)
			case strings.HasPrefix(sk, sortKeyPrefix[ledger.KindPromise]):
				err = appendAs(av, promiseItem.promise, &acct.Promises)
			case strings.HasPrefix(sk, sortKeyPrefix[ledger.KindDispute]):
				err = appendAs(av, disputeItem.dispute, &acct.Disputes)
			}
			// Other items share the partition (the engagement standing,
			// the history version): they are not ledger records.
			if err != nil {
				return acct, false, fmt.Errorf("account %s of tenant %s, item %s: %w", customer, tenant, sk, err)
			}
		}
	}
	return acct, found, nil
}

func decodeAs[I any, R any](av map[string]types.AttributeValue, conv func(I) (R, error)) (R, error) {
	var it I
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		var zero R
		return zero, err
	}
	return conv(it)
}

func appendAs[I any, R any](av map[string]types.AttributeValue, conv func(I) (R, error), out *[]R) error {
	r, err := decodeAs(av, conv)
	if err == nil {
		*out = append(*out, r)
	}
	return err
}

// listAll lists one kind for a tenant, decoding each item into its storage
// struct I and converting that to the domain record R.
func listAll[I any, R any](ctx context.Context, l *Ledger, tenant ledger.TenantID, kind ledger.Kind, conv func(I) (R, error)) ([]R, error) {
	var out []R
	err := l.listKind(ctx, tenant, kind, func(av map[string]types.AttributeValue) error {
		if err := appendAs(av, conv, &out); err != nil {
			return fmt.Errorf("decode %s item %s: %w", kind, str(av["SK"]), err)
		}
		return nil
	})
	return out, err
}

// Count returns how many records of a kind a tenant has.
func (l *Ledger) Count(ctx context.Context, tenant ledger.TenantID, kind ledger.Kind) (int, error) {
	n := 0
	err := l.listKind(ctx, tenant, kind, func(map[string]types.AttributeValue) error { n++; return nil })
	return n, err
}

func checkpointKey(tenant ledger.TenantID, importID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "T#" + string(tenant) + "#IMPORT#" + importID},
		"SK": &types.AttributeValueMemberS{Value: "CHECKPOINT"},
	}
}

// LoadCheckpoint returns the checkpoint of an import; found is false when the
// import never started.
func (l *Ledger) LoadCheckpoint(ctx context.Context, tenant ledger.TenantID, importID string) (cp ledger.ImportCheckpoint, found bool, err error) {
	res, err := l.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(l.table), Key: checkpointKey(tenant, importID), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return ledger.ImportCheckpoint{}, false, fmt.Errorf("load checkpoint of import %s: %w", importID, err)
	}
	if res.Item == nil {
		return ledger.ImportCheckpoint{}, false, nil
	}
	if err := attributevalue.UnmarshalMap(res.Item, &cp); err != nil {
		return ledger.ImportCheckpoint{}, false, fmt.Errorf("decode checkpoint of import %s: %w", importID, err)
	}
	return cp, true, nil
}

// SaveCheckpoint records an import's progress.
func (l *Ledger) SaveCheckpoint(ctx context.Context, tenant ledger.TenantID, cp ledger.ImportCheckpoint) error {
	av, err := attributevalue.MarshalMap(cp)
	if err != nil {
		return fmt.Errorf("encode checkpoint: %w", err)
	}
	for k, v := range checkpointKey(tenant, cp.ImportID) {
		av[k] = v
	}
	if _, err := l.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(l.table), Item: av}); err != nil {
		return fmt.Errorf("save checkpoint of import %s: %w", cp.ImportID, err)
	}
	return nil
}

// InvoiceOwners reports, for the invoice numbers in ids that the tenant's
// ledger holds, which customer each belongs to and its currency. It groups
// the numbers by GSI1 shard and reads each shard once over the range
// [smallest, largest] of its numbers (access pattern L5), so a large import
// costs 16 range queries rather than one query per invoice.
func (l *Ledger) InvoiceOwners(ctx context.Context, tenant ledger.TenantID, ids []string) (map[string]ingest.InvoiceOwner, error) {
	byShard := make([][]string, shards)
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		if want[id] {
			continue
		}
		want[id] = true
		byShard[shard(id)] = append(byShard[shard(id)], id)
	}
	var (
		mu       sync.Mutex
		out      = map[string]ingest.InvoiceOwner{}
		firstErr error
		wg       sync.WaitGroup
	)
	sem := make(chan struct{}, l.concurrency)
	for n, group := range byShard {
		if len(group) == 0 {
			continue
		}
		lo, hi := group[0], group[0]
		for _, id := range group {
			lo, hi = min(lo, id), max(hi, id)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			p := dynamodb.NewQueryPaginator(l.api, &dynamodb.QueryInput{
				TableName:              aws.String(l.table),
				IndexName:              aws.String(GSI1),
				KeyConditionExpression: aws.String("GSI1PK = :pk AND GSI1SK BETWEEN :lo AND :hi"),
				// Names, not bare words: DynamoDB reserves many attribute names.
				ProjectionExpression:     aws.String("#id, #cust, #cur"),
				ExpressionAttributeNames: map[string]string{"#id": "id", "#cust": "customer", "#cur": "currency"},
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":pk": &types.AttributeValueMemberS{Value: kindShardPK(tenant, ledger.KindInvoice, n)},
					":lo": &types.AttributeValueMemberS{Value: lo},
					":hi": &types.AttributeValueMemberS{Value: hi},
				},
			})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("look up invoice numbers of tenant %s: %w", tenant, err)
				}
				if firstErr != nil {
					mu.Unlock()
					return
				}
				for _, it := range page.Items {
					id := str(it["id"])
					if !want[id] {
						continue
					}
					cur, err := money.ParseCurrency(str(it["currency"]))
					if err != nil {
						firstErr = fmt.Errorf("stored invoice %s: %w", id, err)
						break
					}
					out[id] = ingest.InvoiceOwner{Customer: str(it["customer"]), Currency: cur}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out, firstErr
}

// contactAddress is the normalised address a contact point is indexed under
// (L8): its phone or its e-mail; postal addresses are not looked up.
func contactAddress(c ledger.ContactPoint) (consent.Address, bool) {
	var (
		a   consent.Address
		err error
	)
	switch {
	case c.Phone != nil && c.Phone.E164 != "":
		a, err = consent.NormalisePhone(c.Phone.E164)
	case c.Email != nil && c.Email.Address != "":
		a, err = consent.NormaliseEmail(c.Email.Address)
	default:
		return "", false
	}
	return a, err == nil
}

func addressPK(tenant ledger.TenantID, a consent.Address) string {
	return fmt.Sprintf("T#%s#ADDR#%s", tenant, a)
}

// CustomersByAddress returns, in order and without repeats, the customers of
// the tenant who have a contact point at address ("tel:+16175550123",
// "mailto:pat@example.com", or any spelling consent.NormaliseAddress reads):
// who an inbound text or e-mail is from (access pattern L8, GSI3). A number
// shared by a household names every customer on it. GSI3 is eventually
// consistent: a contact point imported a moment ago may not be found yet.
func (l *Ledger) CustomersByAddress(ctx context.Context, tenant ledger.TenantID, address string) ([]string, error) {
	a, err := consent.NormaliseAddress(address)
	if err != nil {
		return nil, err
	}
	if a.Kind() == consent.KindCustomer {
		return nil, fmt.Errorf("look up %s: a customer address names its customer already", a)
	}
	p := dynamodb.NewQueryPaginator(l.api, &dynamodb.QueryInput{
		TableName:                 aws.String(l.table),
		IndexName:                 aws.String(GSI3),
		KeyConditionExpression:    aws.String("GSI3PK = :pk"),
		ProjectionExpression:      aws.String("#cust"),
		ExpressionAttributeNames:  map[string]string{"#cust": "customer"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: addressPK(tenant, a)}},
	})
	var out []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("look up customers of an address of tenant %s: %w", tenant, err)
		}
		for _, it := range page.Items {
			if c := str(it["customer"]); c != "" && !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	return out, nil
}
