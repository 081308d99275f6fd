package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/recoup-dev/recoup/shared/audit"
	"github.com/recoup-dev/recoup/shared/erp"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/writeback"
)

// WritebacksAPI is the part of the DynamoDB client the write-back store uses.
type WritebacksAPI interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

var _ writeback.Store = (*Writebacks)(nil)

// Writebacks keeps the delivery status of each ERP write-back action in the
// ledger table (TABLES.md, W1–W2): T#<tenant>#WB#<key> / ACTION, listed by
// state on GSI1 (T#<tenant>#WBSTATE#<state> / <updated>#<key>). A final
// state is written in one transaction with its audit record.
type Writebacks struct {
	api   WritebacksAPI
	audit *Audit
	table string
}

// NewWritebacks returns the store over prefix+"ledger", appending audit
// records through a (which must use the same prefix).
func NewWritebacks(api WritebacksAPI, a *Audit, prefix string) (*Writebacks, error) {
	if api == nil || a == nil {
		return nil, errors.New("dynamo: nil DynamoDB client or audit store")
	}
	return &Writebacks{api: api, audit: a, table: prefix + LedgerTable}, nil
}

type writebackItem struct {
	PK       string `dynamodbav:"PK"`
	SK       string `dynamodbav:"SK"`
	GSI1PK   string `dynamodbav:"GSI1PK"`
	GSI1SK   string `dynamodbav:"GSI1SK"`
	Type     string `dynamodbav:"type"`
	Tenant   string `dynamodbav:"tenant"`
	Key      string `dynamodbav:"key"`
	Kind     string `dynamodbav:"kind"`
	Customer string `dynamodbav:"customer"`
	State    string `dynamodbav:"state"`
	Attempts int    `dynamodbav:"attempts"`
	Ref      string `dynamodbav:"ref,omitempty"`
	// Action and Error are JSON: the action is read back whole, never
	// queried by field.
	Action string `dynamodbav:"action"`
	Error  string `dynamodbav:"error,omitempty"`
	// LeaseUntil is the instant the current delivery's lease ends.
	LeaseUntil string `dynamodbav:"lease_until,omitempty"`
	Version    int    `dynamodbav:"version"`
	Updated    string `dynamodbav:"updated"`
}

const writebackSK = "ACTION"

func writebackPK(t ledger.TenantID, key string) string { return "T#" + string(t) + "#WB#" + key }

func writebackStatePK(t ledger.TenantID, s erp.State) string {
	return "T#" + string(t) + "#WBSTATE#" + string(s)
}

func toWritebackItem(st erp.Status) (writebackItem, error) {
	a := st.Action
	action, err := json.Marshal(a)
	if err != nil {
		return writebackItem{}, fmt.Errorf("encode write-back action %s: %w", a.Key, err)
	}
	it := writebackItem{PK: writebackPK(a.Tenant, a.Key), SK: writebackSK,
		GSI1PK: writebackStatePK(a.Tenant, st.State), GSI1SK: st.Updated.UTC().Format(time.RFC3339Nano) + "#" + a.Key,
		Type: "writeback", Tenant: string(a.Tenant), Key: a.Key, Kind: string(a.Kind), Customer: a.Target.Customer,
		State: string(st.State), Attempts: st.Attempts, Ref: st.Ref, Action: string(action), Version: st.Version,
		Updated: st.Updated.UTC().Format(time.RFC3339Nano)}
	if !st.LeaseUntil.IsZero() {
		it.LeaseUntil = st.LeaseUntil.UTC().Format(time.RFC3339Nano)
	}
	if st.Error != nil {
		b, err := json.Marshal(st.Error)
		if err != nil {
			return writebackItem{}, fmt.Errorf("encode write-back error of %s: %w", a.Key, err)
		}
		it.Error = string(b)
	}
	return it, nil
}

func (it writebackItem) status() (erp.Status, error) {
	st := erp.Status{State: erp.State(it.State), Attempts: it.Attempts, Ref: it.Ref, Version: it.Version}
	if err := json.Unmarshal([]byte(it.Action), &st.Action); err != nil {
		return erp.Status{}, fmt.Errorf("decode write-back action %s: %w", it.Key, err)
	}
	if it.Error != "" {
		st.Error = new(erp.Error)
		if err := json.Unmarshal([]byte(it.Error), st.Error); err != nil {
			return erp.Status{}, fmt.Errorf("decode write-back error of %s: %w", it.Key, err)
		}
	}
	t, err := time.Parse(time.RFC3339Nano, it.Updated)
	if err != nil {
		return erp.Status{}, fmt.Errorf("decode write-back %s: updated: %w", it.Key, err)
	}
	st.Updated = t
	if it.LeaseUntil != "" {
		if st.LeaseUntil, err = time.Parse(time.RFC3339Nano, it.LeaseUntil); err != nil {
			return erp.Status{}, fmt.Errorf("decode write-back %s: lease_until: %w", it.Key, err)
		}
	}
	if !st.State.Valid() {
		return erp.Status{}, fmt.Errorf("decode write-back %s: state %q", it.Key, it.State)
	}
	return st, nil
}

// Get reads one action's status, strongly consistent: a delivery decides
// on it.
func (w *Writebacks) Get(ctx context.Context, tenant ledger.TenantID, key string) (erp.Status, bool, error) {
	out, err := w.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(w.table),
		Key: itemKey(writebackPK(tenant, key), writebackSK), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return erp.Status{}, false, fmt.Errorf("get write-back %s of tenant %s: %w", key, tenant, err)
	}
	if out.Item == nil {
		return erp.Status{}, false, nil
	}
	var it writebackItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return erp.Status{}, false, fmt.Errorf("decode write-back %s of tenant %s: %w", key, tenant, err)
	}
	st, err := it.status()
	return st, err == nil, err
}

// Put writes st over version st.Version-1 and, with rec, appends rec to
// the audit log in the same transaction.
func (w *Writebacks) Put(ctx context.Context, st erp.Status, rec *audit.Record) error {
	if st.Version < 1 {
		return fmt.Errorf("put write-back %s: version %d, want 1 or more", st.Action.Key, st.Version)
	}
	it, err := toWritebackItem(st)
	if err != nil {
		return err
	}
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return fmt.Errorf("encode write-back %s: %w", st.Action.Key, err)
	}
	cond, values := "attribute_not_exists(PK)", map[string]types.AttributeValue(nil)
	if st.Version > 1 {
		cond = "version = :prev"
		values = map[string]types.AttributeValue{":prev": &types.AttributeValueMemberN{Value: strconv.Itoa(st.Version - 1)}}
	}
	put := &types.Put{TableName: aws.String(w.table), Item: item, ConditionExpression: aws.String(cond), ExpressionAttributeValues: values}
	if rec != nil {
		_, err := w.audit.AppendWith(ctx, st.Action.Tenant, *rec, types.TransactWriteItem{Put: put})
		if errors.Is(err, ErrWithCondition) {
			return fmt.Errorf("%w: action %s at version %d", writeback.ErrConflict, st.Action.Key, st.Version-1)
		}
		return err
	}
	_, err = w.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: put.TableName, Item: item,
		ConditionExpression: put.ConditionExpression, ExpressionAttributeValues: values})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("%w: action %s at version %d", writeback.ErrConflict, st.Action.Key, st.Version-1)
	}
	if err != nil {
		return fmt.Errorf("put write-back %s of tenant %s: %w", st.Action.Key, st.Action.Tenant, err)
	}
	return nil
}

// List yields a tenant's actions in state s, oldest change first. It reads
// GSI1, so a change of the last second may be missing.
func (w *Writebacks) List(ctx context.Context, tenant ledger.TenantID, s erp.State) iter.Seq2[erp.Status, error] {
	return func(yield func(erp.Status, error) bool) {
		var start map[string]types.AttributeValue
		for {
			out, err := w.api.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(w.table), IndexName: aws.String(GSI1),
				KeyConditionExpression:    aws.String("GSI1PK = :pk"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: writebackStatePK(tenant, s)}},
				ExclusiveStartKey:         start})
			if err != nil {
				yield(erp.Status{}, fmt.Errorf("list %s write-backs of tenant %s: %w", s, tenant, err))
				return
			}
			for _, raw := range out.Items {
				var it writebackItem
				if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
					if !yield(erp.Status{}, fmt.Errorf("decode write-back of tenant %s: %w", tenant, err)) {
						return
					}
					continue
				}
				st, err := it.status()
				if !yield(st, err) {
					return
				}
			}
			if len(out.LastEvaluatedKey) == 0 {
				return
			}
			start = out.LastEvaluatedKey
		}
	}
}
