package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/recoup-dev/recoup/events"
	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/dispatch"
	"github.com/recoup-dev/recoup/shared/engagement"
	"github.com/recoup-dev/recoup/shared/ledger"
)

// EngagementAPI is the part of the DynamoDB client the engagement store uses.
type EngagementAPI interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ engagement.Store = (*Engagement)(nil)

// Engagement is what engagement events change in the contacts table
// (TABLES.md H4-H8): event-id claims, the person's standing (read by the
// gate with the attempts), engagement features, planned actions and the
// re-plan outbox.
type Engagement struct {
	api   EngagementAPI
	table string
}

// NewEngagement returns the engagement store over prefix+"contacts".
func NewEngagement(api EngagementAPI, prefix string) (*Engagement, error) {
	if api == nil {
		return nil, errors.New("dynamo: nil DynamoDB client")
	}
	return &Engagement{api: api, table: prefix + ContactsTable}, nil
}

// NewEngagementConsumer returns an engagement consumer over the tables at
// prefix: its engagement store, consent ledger and ledger. The caller adds
// the dead-letter queue and the logger.
func NewEngagementConsumer(db *dynamodb.Client, prefix string) (*engagement.Consumer, error) {
	store, err := NewEngagement(db, prefix)
	if err != nil {
		return nil, err
	}
	cs, err := NewConsent(db, prefix)
	if err != nil {
		return nil, err
	}
	led, err := NewLedger(db, prefix)
	if err != nil {
		return nil, err
	}
	return &engagement.Consumer{Store: store, Consent: cs, Ledger: led}, nil
}

// Sort keys and partitions of the engagement items.
const (
	claimSK    = "EVENT"
	standingSK = "STANDING" // in the person's attempt partition: between ATT# and VERSION
	featuresSK = "FEATURES"
	// lettersSK holds when the gate allowed each letter (attribute sent, a
	// list of instants), appended in the attempt's own transaction. It is
	// apart from FEATURES, which the engagement consumer puts whole under
	// a version condition, so neither writer can lose the other's writes.
	lettersSK = "LETTERS"
	actionSK  = "ACT#"
	replanSK  = "REPLAN#"
)

func claimPK(t ledger.TenantID, id string) string   { return "T#" + string(t) + "#EV#" + id }
func featuresPK(t ledger.TenantID, c string) string { return "T#" + string(t) + "#E#" + c }
func planPK(t ledger.TenantID, c string) string     { return "T#" + string(t) + "#P#" + c }
func replanIndexPK(t ledger.TenantID) string        { return "T#" + string(t) + "#REPLAN" }

type claimItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Customer  string `dynamodbav:"customer"`
	Type      string `dynamodbav:"type"`
	Hash      string `dynamodbav:"h"`
	AppliedAt string `dynamodbav:"applied_at"`
	Outcome   string `dynamodbav:"outcome"`
	ExpiresAt int64  `dynamodbav:"expires_at"` // the table's TTL attribute, epoch seconds
}

type disputeAV struct {
	Debt    string `dynamodbav:"debt,omitempty"`
	At      string `dynamodbav:"at"`
	Written bool   `dynamodbav:"written,omitempty"`
	EventID string `dynamodbav:"event_id"`
}

type standingItem struct {
	PK       string      `dynamodbav:"PK"`
	SK       string      `dynamodbav:"SK"`
	Flags    []string    `dynamodbav:"flags,omitempty"`
	Disputes []disputeAV `dynamodbav:"disputes,omitempty"`
	Version  int64       `dynamodbav:"version"`
}

type featuresItem struct {
	PK           string                    `dynamodbav:"PK"`
	SK           string                    `dynamodbav:"SK"`
	Counts       map[string]map[string]int `dynamodbav:"counts,omitempty"`
	LastResponse map[string]string         `dynamodbav:"last_response,omitempty"`
	LastEventAt  string                    `dynamodbav:"last_event_at,omitempty"`
	Events       int                       `dynamodbav:"events"`
	Version      int64                     `dynamodbav:"version"`
}

type actionItem struct {
	PK       string   `dynamodbav:"PK"`
	SK       string   `dynamodbav:"SK"`
	ID       string   `dynamodbav:"id"`
	Customer string   `dynamodbav:"customer"`
	Channel  string   `dynamodbav:"channel"`
	To       string   `dynamodbav:"to,omitempty"`
	Invoices []string `dynamodbav:"invoices,omitempty"`
	At       string   `dynamodbav:"at"`
	Status   string   `dynamodbav:"status"`
	Reason   string   `dynamodbav:"reason,omitempty"`
	Cause    string   `dynamodbav:"cause,omitempty"`
	Until    string   `dynamodbav:"until,omitempty"`
}

type replanItem struct {
	PK          string `dynamodbav:"PK"`
	SK          string `dynamodbav:"SK"`
	GSI1PK      string `dynamodbav:"GSI1PK"`
	GSI1SK      string `dynamodbav:"GSI1SK"`
	Customer    string `dynamodbav:"customer"`
	Event       string `dynamodbav:"event"`
	Reason      string `dynamodbav:"reason"`
	RequestedAt string `dynamodbav:"requested_at"`
}

// Claimed returns the claim of one event id, if any.
func (e *Engagement) Claimed(ctx context.Context, tenant ledger.TenantID, id string) (engagement.Claim, bool, error) {
	found, err := e.Claims(ctx, tenant, []string{id})
	c, ok := found[id]
	return c, ok, err
}

// Claims implements engagement.Store: one strongly consistent BatchGetItem
// per 100 ids.
func (e *Engagement) Claims(ctx context.Context, tenant ledger.TenantID, ids []string) (map[string]engagement.Claim, error) {
	keys := make([]map[string]types.AttributeValue, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if !seen[id] { // BatchGetItem refuses a key twice
			seen[id] = true
			keys = append(keys, itemKey(claimPK(tenant, id), claimSK))
		}
	}
	items, err := batchGet(ctx, e.api, e.table, keys, "")
	if err != nil {
		return nil, fmt.Errorf("read claims of %d event ids: %w", len(keys), err)
	}
	out := make(map[string]engagement.Claim, len(items))
	for _, av := range items {
		var it claimItem
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return nil, fmt.Errorf("decode an event claim: %w", err)
		}
		id, ok := strings.CutPrefix(it.PK, claimPK(tenant, ""))
		if !ok || it.SK != claimSK {
			return nil, fmt.Errorf("event claims: item %s/%s is not a claim of tenant %s", it.PK, it.SK, tenant)
		}
		at, err := parseInstant("applied_at of claim "+id, it.AppliedAt)
		if err != nil {
			return nil, err
		}
		out[id] = engagement.Claim{Tenant: tenant, EventID: id, Customer: it.Customer, Type: events.Type(it.Type), Hash: it.Hash,
			AppliedAt: at, Expires: time.Unix(it.ExpiresAt, 0).UTC(), Outcome: it.Outcome}
	}
	return out, nil
}

// Load implements engagement.Store: the standing, the features and every
// action not yet sent, all read strongly consistent.
func (e *Engagement) Load(ctx context.Context, tenant ledger.TenantID, customer string) (engagement.State, error) {
	var (
		st  engagement.State
		err error
	)
	// Standing and features in one call; the actions need a query.
	items, err := batchGet(ctx, e.api, e.table, []map[string]types.AttributeValue{
		itemKey(customerPK(tenant, customer), standingSK), itemKey(featuresPK(tenant, customer), featuresSK)}, "")
	if err != nil {
		return st, fmt.Errorf("read standing and engagement features of %s: %w", customer, err)
	}
	for _, av := range items {
		switch str(av["SK"]) {
		case standingSK:
			if st.Standing, st.StandingVersion, err = decodeStanding(av, customer); err != nil {
				return st, err
			}
		case featuresSK:
			if st.Features, err = decodeFeatures(av, customer); err != nil {
				return st, err
			}
		}
	}
	acts, err := e.Actions(ctx, tenant, customer)
	if err != nil {
		return st, err
	}
	for _, a := range acts {
		if a.Status != engagement.ActionSent {
			st.Pending = append(st.Pending, a)
		}
	}
	return st, nil
}

// Features reads the engagement features of the given customers, strongly
// consistent, in batches, with the letters sent to each; customers with
// neither engagement nor letters yet are absent.
func (e *Engagement) Features(ctx context.Context, tenant ledger.TenantID, customers []string) (map[string]engagement.Features, error) {
	keys := make([]map[string]types.AttributeValue, 0, 2*len(customers))
	for _, c := range customers {
		keys = append(keys, itemKey(featuresPK(tenant, c), featuresSK), itemKey(featuresPK(tenant, c), lettersSK))
	}
	items, err := batchGet(ctx, e.api, e.table, keys, "")
	if err != nil {
		return nil, fmt.Errorf("read engagement features of tenant %s: %w", tenant, err)
	}
	prefix := featuresPK(tenant, "")
	out := make(map[string]engagement.Features, len(items))
	letters := map[string][]time.Time{}
	for _, av := range items {
		customer := strings.TrimPrefix(str(av["PK"]), prefix)
		if str(av["SK"]) == lettersSK {
			if letters[customer], err = decodeLetters(av, customer); err != nil {
				return nil, err
			}
			continue
		}
		f, err := decodeFeatures(av, customer)
		if err != nil {
			return nil, err
		}
		out[customer] = f
	}
	for customer, sent := range letters {
		f := out[customer]
		f.Letters = sent
		out[customer] = f
	}
	return out, nil
}

type lettersItem struct {
	Sent []string `dynamodbav:"sent"`
}

// decodeLetters decodes a LETTERS item.
func decodeLetters(av map[string]types.AttributeValue, customer string) ([]time.Time, error) {
	var it lettersItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return nil, fmt.Errorf("decode letters sent to %s: %w", customer, err)
	}
	out := make([]time.Time, len(it.Sent))
	for i, s := range it.Sent {
		t, err := parseInstant("letter sent", s)
		if err == nil && t.IsZero() {
			err = errors.New("empty letter time")
		}
		if err != nil {
			return nil, fmt.Errorf("letters sent to %s, entry %d: %w", customer, i, err)
		}
		out[i] = t
	}
	return out, nil
}

// letterAppend records, in the transaction that records the attempt, that
// a letter was allowed at at.
func letterAppend(table string, tenant ledger.TenantID, customer string, at time.Time) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName:        aws.String(table),
		Key:              itemKey(featuresPK(tenant, customer), lettersSK),
		UpdateExpression: aws.String("SET sent = list_append(if_not_exists(sent, :none), :at)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":none": &types.AttributeValueMemberL{Value: []types.AttributeValue{}},
			":at":   &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberS{Value: instant(at)}}},
		},
	}}
}

// decodeFeatures decodes a FEATURES item.
func decodeFeatures(av map[string]types.AttributeValue, customer string) (engagement.Features, error) {
	var it featuresItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return engagement.Features{}, fmt.Errorf("decode engagement features of %s: %w", customer, err)
	}
	f := engagement.Features{Events: it.Events, Version: it.Version, Counts: map[string]map[engagement.Signal]int{},
		LastResponse: map[string]time.Time{}}
	for ch, m := range it.Counts {
		f.Counts[ch] = map[engagement.Signal]int{}
		for s, n := range m {
			f.Counts[ch][engagement.Signal(s)] = n
		}
	}
	var err error
	for ch, s := range it.LastResponse {
		if f.LastResponse[ch], err = parseInstant("last response on "+ch, s); err != nil {
			return f, fmt.Errorf("engagement features of %s: %w", customer, err)
		}
	}
	if f.LastEventAt, err = parseInstant("last_event_at", it.LastEventAt); err != nil {
		return f, fmt.Errorf("engagement features of %s: %w", customer, err)
	}
	return f, nil
}

func decodeStanding(av map[string]types.AttributeValue, customer string) (dispatch.Standing, int64, error) {
	var it standingItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return dispatch.Standing{}, 0, fmt.Errorf("decode standing of %s: %w", customer, err)
	}
	var s dispatch.Standing
	for _, f := range it.Flags {
		s.Flags = append(s.Flags, compliance.Flag(f))
	}
	for _, d := range it.Disputes {
		at, err := parseInstant("dispute time", d.At)
		if err != nil {
			return s, 0, fmt.Errorf("standing of %s: dispute %s: %w", customer, d.EventID, err)
		}
		s.Disputes = append(s.Disputes, dispatch.Dispute{Debt: d.Debt, At: at, Written: d.Written, EventID: d.EventID})
	}
	return s, it.Version, nil
}

// Actions lists the customer's planned actions in planned-time order.
func (e *Engagement) Actions(ctx context.Context, tenant ledger.TenantID, customer string) ([]engagement.Action, error) {
	p := dynamodb.NewQueryPaginator(e.api, &dynamodb.QueryInput{
		TableName:              aws.String(e.table),
		ConsistentRead:         aws.Bool(true),
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :a)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: planPK(tenant, customer)},
			":a":  &types.AttributeValueMemberS{Value: actionSK},
		},
	})
	var out []engagement.Action
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("read planned actions of %s: %w", customer, err)
		}
		for _, av := range page.Items {
			var it actionItem
			if err := attributevalue.UnmarshalMap(av, &it); err != nil {
				return nil, fmt.Errorf("decode planned action %s: %w", str(av["SK"]), err)
			}
			a := engagement.Action{Tenant: tenant, Customer: customer, ID: it.ID, Channel: consent.Channel(it.Channel),
				To: consent.Address(it.To), Invoices: it.Invoices, Status: engagement.ActionStatus(it.Status),
				Reason: it.Reason, Cause: it.Cause}
			var err1, err2 error
			a.At, err1 = parseInstant("at", it.At)
			a.Until, err2 = parseInstant("until", it.Until)
			if err := errors.Join(err1, err2); err != nil {
				return nil, fmt.Errorf("planned action %s: %w", it.ID, err)
			}
			out = append(out, a)
		}
	}
	slices.SortStableFunc(out, func(a, b engagement.Action) int { return a.At.Compare(b.At) })
	return out, nil
}

// PutActions stores planned actions (the planner's output). An action id
// already stored is left as it is, so re-running a plan does not revive an
// action an event cancelled.
func (e *Engagement) PutActions(ctx context.Context, acts []engagement.Action) (added int, err error) {
	for _, a := range acts {
		if err := a.Tenant.Validate(); err != nil {
			return added, fmt.Errorf("planned action %s: %w", a.ID, err)
		}
		for _, id := range []struct{ what, v string }{{"customer id", a.Customer}, {"action id", a.ID}} {
			if err := ledger.ValidateID(id.what, id.v); err != nil {
				return added, fmt.Errorf("planned action %s: %w", a.ID, err)
			}
		}
		if a.Status == "" {
			a.Status = engagement.ActionPending
		}
		item, err := attributevalue.MarshalMap(actionItem{PK: planPK(a.Tenant, a.Customer), SK: actionSK + a.ID, ID: a.ID,
			Customer: a.Customer, Channel: string(a.Channel), To: string(a.To), Invoices: a.Invoices, At: instant(a.At),
			Status: string(a.Status), Reason: a.Reason, Cause: a.Cause, Until: instant(a.Until)})
		if err != nil {
			return added, fmt.Errorf("encode planned action %s: %w", a.ID, err)
		}
		_, err = e.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(e.table), Item: item,
			ConditionExpression: aws.String("attribute_not_exists(PK)")})
		var ccf *types.ConditionalCheckFailedException
		switch {
		case errors.As(err, &ccf):
		case err != nil:
			return added, fmt.Errorf("store planned action %s: %w", a.ID, err)
		default:
			added++
		}
	}
	return added, nil
}

// ReplanRequest is one entry of the re-plan outbox.
type ReplanRequest struct {
	Customer    string
	Event       string
	Reason      string
	RequestedAt time.Time
}

// Replans lists a tenant's re-plan requests from since on, oldest first:
// the outbox the orchestration drains (GSI1, eventually consistent).
func (e *Engagement) Replans(ctx context.Context, tenant ledger.TenantID, since time.Time) ([]ReplanRequest, error) {
	p := dynamodb.NewQueryPaginator(e.api, &dynamodb.QueryInput{
		TableName:              aws.String(e.table),
		IndexName:              aws.String(GSI1),
		KeyConditionExpression: aws.String("GSI1PK = :pk AND GSI1SK >= :from"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":   &types.AttributeValueMemberS{Value: replanIndexPK(tenant)},
			":from": &types.AttributeValueMemberS{Value: stamp(since)},
		},
	})
	var out []ReplanRequest
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("read re-plan requests of tenant %s: %w", tenant, err)
		}
		for _, av := range page.Items {
			var it replanItem
			if err := attributevalue.UnmarshalMap(av, &it); err != nil {
				return nil, fmt.Errorf("decode re-plan request: %w", err)
			}
			at, err := parseInstant("requested_at", it.RequestedAt)
			if err != nil {
				return nil, fmt.Errorf("re-plan request of %s: %w", it.Customer, err)
			}
			out = append(out, ReplanRequest{Customer: it.Customer, Event: it.Event, Reason: it.Reason, RequestedAt: at})
		}
	}
	return out, nil
}

// Commit implements engagement.Store. One TransactWriteItems holds: the
// claim (attribute_not_exists), the new standing (version checked) with a
// bump of the person's history VERSION so a dispatch deciding meanwhile
// re-decides, the attempt's outcome (or the attempt itself when the gate
// never saw it), the features (version checked), each action's new status
// (checked against its old one) and the re-plan request.
func (e *Engagement) Commit(ctx context.Context, c engagement.Claim, base engagement.State, fx engagement.Effects) error {
	claim, err := attributevalue.MarshalMap(claimItem{PK: claimPK(c.Tenant, c.EventID), SK: claimSK, Customer: c.Customer,
		Type: string(c.Type), Hash: c.Hash, AppliedAt: instant(c.AppliedAt), Outcome: c.Outcome, ExpiresAt: c.Expires.Unix()})
	if err != nil {
		return fmt.Errorf("encode claim of event %s: %w", c.EventID, err)
	}
	items := []types.TransactWriteItem{{Put: &types.Put{TableName: aws.String(e.table), Item: claim,
		ConditionExpression: aws.String("attribute_not_exists(PK)")}}}
	bump := false
	if fx.Standing != nil {
		it, err := e.standingPut(c, base.StandingVersion, *fx.Standing)
		if err != nil {
			return err
		}
		items = append(items, it)
		bump = true
	}
	if fx.Outcome != nil {
		its, err := e.outcomeWrites(ctx, c, *fx.Outcome)
		if err != nil {
			return err
		}
		items = append(items, its...)
		bump = bump || len(its) > 0
	}
	if bump {
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName:        aws.String(e.table),
			Key:              itemKey(customerPK(c.Tenant, c.Customer), versionSK),
			UpdateExpression: aws.String("SET version = if_not_exists(version, :zero) + :one"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":zero": &types.AttributeValueMemberN{Value: "0"}, ":one": &types.AttributeValueMemberN{Value: "1"},
			},
		}})
	}
	if fx.Features.Events != base.Features.Events {
		it, err := e.featuresPut(c, base.Features.Version, fx.Features)
		if err != nil {
			return err
		}
		items = append(items, it)
	}
	for _, ch := range fx.Actions {
		upd := &types.Update{
			TableName:                aws.String(e.table),
			Key:                      itemKey(planPK(c.Tenant, c.Customer), actionSK+ch.ID),
			UpdateExpression:         aws.String("SET #s = :to, reason = :r, cause = :c REMOVE #u"),
			ConditionExpression:      aws.String("#s = :from"),
			ExpressionAttributeNames: map[string]string{"#s": "status", "#u": "until"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":to": &types.AttributeValueMemberS{Value: string(ch.To)}, ":from": &types.AttributeValueMemberS{Value: string(ch.From)},
				":r": &types.AttributeValueMemberS{Value: ch.Reason}, ":c": &types.AttributeValueMemberS{Value: c.EventID},
			},
		}
		if !ch.Until.IsZero() {
			upd.UpdateExpression = aws.String("SET #s = :to, reason = :r, cause = :c, #u = :u")
			upd.ExpressionAttributeValues[":u"] = &types.AttributeValueMemberS{Value: instant(ch.Until)}
		}
		items = append(items, types.TransactWriteItem{Update: upd})
	}
	if fx.Replan != nil {
		at := stamp(fx.Replan.At)
		item, err := attributevalue.MarshalMap(replanItem{PK: planPK(c.Tenant, c.Customer), SK: replanSK + at + "#" + c.EventID,
			GSI1PK: replanIndexPK(c.Tenant), GSI1SK: at + "#" + c.Customer + "#" + c.EventID, Customer: c.Customer,
			Event: c.EventID, Reason: fx.Replan.Reason, RequestedAt: instant(fx.Replan.At)})
		if err != nil {
			return fmt.Errorf("encode re-plan request of event %s: %w", c.EventID, err)
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(e.table), Item: item}})
	}
	if len(items) > 100 {
		return fmt.Errorf("event %s changes %d items, more than one DynamoDB transaction holds (100)", c.EventID, len(items))
	}
	_, err = e.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) {
		if len(canceled.CancellationReasons) > 0 && aws.ToString(canceled.CancellationReasons[0].Code) == "ConditionalCheckFailed" {
			return engagement.ErrDuplicate
		}
		for _, r := range canceled.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "", "None", "ConditionalCheckFailed", "TransactionConflict":
			default:
				return fmt.Errorf("apply event %s: %w", c.EventID, err)
			}
		}
		return fmt.Errorf("%w (event %s)", engagement.ErrConflict, c.EventID)
	}
	var conflict *types.TransactionConflictException
	if errors.As(err, &conflict) {
		return fmt.Errorf("%w (event %s)", engagement.ErrConflict, c.EventID)
	}
	if err != nil {
		return fmt.Errorf("apply event %s: %w", c.EventID, err)
	}
	return nil
}

// standingPut writes the new standing conditioned on the version Load read:
// the effects were worked out from that standing, so a newer one (another
// event committed meanwhile) fails the condition and the consumer re-decides
// rather than overwrite it.
func (e *Engagement) standingPut(c engagement.Claim, version int64, s dispatch.Standing) (types.TransactWriteItem, error) {
	it := standingItem{PK: customerPK(c.Tenant, c.Customer), SK: standingSK, Version: version + 1}
	for _, f := range s.Flags {
		it.Flags = append(it.Flags, string(f))
	}
	for _, d := range s.Disputes {
		it.Disputes = append(it.Disputes, disputeAV{Debt: d.Debt, At: instant(d.At), Written: d.Written, EventID: d.EventID})
	}
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("encode standing of %s: %w", c.Customer, err)
	}
	put := &types.Put{TableName: aws.String(e.table), Item: item}
	if version == 0 {
		put.ConditionExpression = aws.String("attribute_not_exists(PK)")
	} else {
		put.ConditionExpression = aws.String("version = :v")
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: strconv.FormatInt(version, 10)}}
	}
	return types.TransactWriteItem{Put: put}, nil
}

// outcomeWrites records how an attempt ended. The attempt-id claim the gate
// wrote names the attempt's sort key; an attempt the gate never decided (a
// collector dialled by hand) is recorded here as an attempt, so it still
// counts against the caps.
func (e *Engagement) outcomeWrites(ctx context.Context, c engagement.Claim, o engagement.OutcomeUpdate) ([]types.TransactWriteItem, error) {
	pk := customerPK(c.Tenant, c.Customer)
	out, err := e.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(e.table), Key: itemKey(pk, attemptIDSK+o.AttemptID),
		ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("look up attempt %s: %w", o.AttemptID, err)
	}
	if out.Item != nil {
		sk := str(out.Item["att_sk"])
		if sk == "" {
			// Claims written before the gate stored att_sk: find the attempt.
			if sk, err = e.findAttempt(ctx, pk, o.AttemptID); err != nil {
				return nil, err
			}
		}
		if sk == "" {
			return nil, fmt.Errorf("attempt %s is claimed but its record is missing", o.AttemptID)
		}
		return []types.TransactWriteItem{{Update: &types.Update{
			TableName:                 aws.String(e.table),
			Key:                       itemKey(pk, sk),
			UpdateExpression:          aws.String("SET outcome = :o"),
			ConditionExpression:       aws.String("attribute_exists(PK)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":o": &types.AttributeValueMemberS{Value: string(o.Outcome)}},
		}}}, nil
	}
	if o.At.IsZero() || o.Channel == "" {
		return nil, fmt.Errorf("attempt %s is unknown and the event does not say when or how it was made", o.AttemptID)
	}
	sk := attemptSK + stamp(o.At) + "#" + o.AttemptID
	it := attemptItem{PK: pk, SK: sk, ID: o.AttemptID, At: instant(o.At), Channel: string(o.Channel), Debt: o.Debt, To: o.To,
		Outcome: string(o.Outcome), Decision: string(compliance.Allow),
		Reason: "recorded from a reported outcome: this attempt was not dispatched through the gate"}
	if o.Debt != "" {
		it.GSI1PK, it.GSI1SK = "T#"+string(c.Tenant)+"#D#"+o.Debt, stamp(o.At)
	}
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return nil, fmt.Errorf("encode attempt %s: %w", o.AttemptID, err)
	}
	claim := itemKey(pk, attemptIDSK+o.AttemptID)
	claim["att_sk"] = &types.AttributeValueMemberS{Value: sk}
	return []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(e.table), Item: claim, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		{Put: &types.Put{TableName: aws.String(e.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
	}, nil
}

func (e *Engagement) findAttempt(ctx context.Context, pk, id string) (string, error) {
	p := dynamodb.NewQueryPaginator(e.api, &dynamodb.QueryInput{
		TableName:                 aws.String(e.table),
		ConsistentRead:            aws.Bool(true),
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :a)"),
		FilterExpression:          aws.String("id = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}, ":a": &types.AttributeValueMemberS{Value: attemptSK}, ":id": &types.AttributeValueMemberS{Value: id}},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("find attempt %s: %w", id, err)
		}
		for _, av := range page.Items {
			return str(av["SK"]), nil
		}
	}
	return "", nil
}

func (e *Engagement) featuresPut(c engagement.Claim, baseVersion int64, f engagement.Features) (types.TransactWriteItem, error) {
	it := featuresItem{PK: featuresPK(c.Tenant, c.Customer), SK: featuresSK, Counts: map[string]map[string]int{},
		LastResponse: map[string]string{}, LastEventAt: instant(f.LastEventAt), Events: f.Events, Version: baseVersion + 1}
	for ch, m := range f.Counts {
		it.Counts[ch] = map[string]int{}
		for s, n := range m {
			it.Counts[ch][string(s)] = n
		}
	}
	for ch, t := range f.LastResponse {
		it.LastResponse[ch] = instant(t)
	}
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("encode features of %s: %w", c.Customer, err)
	}
	put := &types.Put{TableName: aws.String(e.table), Item: item}
	if baseVersion == 0 {
		put.ConditionExpression = aws.String("attribute_not_exists(PK)")
	} else {
		put.ConditionExpression = aws.String("version = :v")
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: strconv.FormatInt(baseVersion, 10)}}
	}
	return types.TransactWriteItem{Put: put}, nil
}
