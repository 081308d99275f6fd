package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/recoup-dev/recoup/shared/cycle"
	"github.com/recoup-dev/recoup/shared/ledger"
)

// RunsAPI is the part of the DynamoDB client the run store uses.
type RunsAPI interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	batchGetter
}

var (
	_ RunsAPI            = (*dynamodb.Client)(nil)
	_ cycle.Runs         = (*Runs)(nil)
	_ cycle.RunLister    = (*Runs)(nil)
	_ cycle.ReplanReader = (*Engagement)(nil)
)

// Runs keeps each customer's current cycle execution and, while it is
// parked, the token that wakes it (TABLES.md, R1): one item per customer,
// T#<tenant>#RUN#<customer> / RUN in the contacts table.
type Runs struct {
	api   RunsAPI
	table string
}

// NewRuns returns the run store over prefix+"contacts".
func NewRuns(api RunsAPI, prefix string) (*Runs, error) {
	if api == nil {
		return nil, errors.New("dynamo: nil DynamoDB client")
	}
	return &Runs{api: api, table: prefix + ContactsTable}, nil
}

type runItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Type      string `dynamodbav:"type"`
	Tenant    string `dynamodbav:"tenant"`
	Customer  string `dynamodbav:"customer"`
	Execution string `dynamodbav:"execution"`
	// Token wakes the parked execution: a secret, never logged, removed
	// by the waker that sends it.
	Token string `dynamodbav:"token,omitempty"`
	Until string `dynamodbav:"until,omitempty"`
	At    string `dynamodbav:"at"`
}

func runKey(t ledger.TenantID, customer string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "T#" + string(t) + "#RUN#" + customer},
		"SK": &types.AttributeValueMemberS{Value: "RUN"},
	}
}

func checkRunKey(t ledger.TenantID, customer string) error {
	if err := t.Validate(); err != nil {
		return err
	}
	return ledger.ValidateID("customer", customer)
}

// Get reads the customer's run, strongly consistent: a waker must see the
// token a Park just stored.
func (r *Runs) Get(ctx context.Context, t ledger.TenantID, customer string) (cycle.Run, bool, error) {
	if err := checkRunKey(t, customer); err != nil {
		return cycle.Run{}, false, err
	}
	out, err := r.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(r.table), Key: runKey(t, customer), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return cycle.Run{}, false, fmt.Errorf("read the run of %s: %w", customer, err)
	}
	if len(out.Item) == 0 {
		return cycle.Run{}, false, nil
	}
	run, err := decodeRun(t, customer, out.Item)
	return run, err == nil, err
}

func decodeRun(t ledger.TenantID, customer string, item map[string]types.AttributeValue) (cycle.Run, error) {
	var it runItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return cycle.Run{}, fmt.Errorf("decode the run of %s: %w", customer, err)
	}
	if customer == "" {
		customer = it.Customer
	}
	run := cycle.Run{Tenant: t, Customer: customer, Execution: it.Execution, Token: it.Token}
	var err error
	if run.At, err = parseInstant("at", it.At); err != nil {
		return cycle.Run{}, fmt.Errorf("run of %s: %w", customer, err)
	}
	if it.Until != "" {
		if run.Until, err = parseInstant("until", it.Until); err != nil {
			return cycle.Run{}, fmt.Errorf("run of %s: %w", customer, err)
		}
	}
	return run, nil
}

// Runs implements cycle.RunLister: the runs of customers, by customer,
// in batches of 100, strongly consistent. Customers with no run are absent.
func (r *Runs) Runs(ctx context.Context, t ledger.TenantID, customers []string) (map[string]cycle.Run, error) {
	keys := make([]map[string]types.AttributeValue, 0, len(customers))
	for _, c := range customers {
		if err := checkRunKey(t, c); err != nil {
			return nil, err
		}
		keys = append(keys, runKey(t, c))
	}
	items, err := batchGet(ctx, r.api, r.table, keys, "")
	if err != nil {
		return nil, fmt.Errorf("read the runs of %s: %w", t, err)
	}
	out := make(map[string]cycle.Run, len(items))
	for _, it := range items {
		run, err := decodeRun(t, "", it)
		if err != nil {
			return nil, err
		}
		out[run.Customer] = run
	}
	return out, nil
}

// Put records the customer's current run, replacing the last.
func (r *Runs) Put(ctx context.Context, run cycle.Run) error {
	if err := checkRunKey(run.Tenant, run.Customer); err != nil {
		return err
	}
	if run.Execution == "" || run.At.IsZero() {
		return fmt.Errorf("run of %s: execution and time are required", run.Customer)
	}
	key := runKey(run.Tenant, run.Customer)
	it := runItem{PK: key["PK"].(*types.AttributeValueMemberS).Value, SK: "RUN", Type: "run", Tenant: string(run.Tenant),
		Customer: run.Customer, Execution: run.Execution, Token: run.Token, At: stamp(run.At)}
	if !run.Until.IsZero() {
		it.Until = stamp(run.Until)
	}
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return err
	}
	if _, err := r.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(r.table), Item: av}); err != nil {
		return fmt.Errorf("record the run of %s: %w", run.Customer, err)
	}
	return nil
}

// Begin implements cycle.Runs: a conditional put that leaves a record of
// the same execution alone (its Park may have written it first).
func (r *Runs) Begin(ctx context.Context, run cycle.Run) error {
	if err := checkRunKey(run.Tenant, run.Customer); err != nil {
		return err
	}
	if run.Execution == "" || run.At.IsZero() {
		return fmt.Errorf("run of %s: execution and time are required", run.Customer)
	}
	key := runKey(run.Tenant, run.Customer)
	av, err := attributevalue.MarshalMap(runItem{PK: key["PK"].(*types.AttributeValueMemberS).Value, SK: "RUN", Type: "run",
		Tenant: string(run.Tenant), Customer: run.Customer, Execution: run.Execution, At: stamp(run.At)})
	if err != nil {
		return err
	}
	_, err = r.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(r.table), Item: av,
		ConditionExpression:       aws.String("attribute_not_exists(#execution) OR #execution <> :execution"),
		ExpressionAttributeNames:  map[string]string{"#execution": "execution"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":execution": &types.AttributeValueMemberS{Value: run.Execution}},
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return fmt.Errorf("record the start of %s: %w", run.Customer, err)
	}
	return nil
}

// TakeToken removes the token if it is still token.
func (r *Runs) TakeToken(ctx context.Context, t ledger.TenantID, customer, token string) (bool, error) {
	if err := checkRunKey(t, customer); err != nil {
		return false, err
	}
	_, err := r.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(r.table), Key: runKey(t, customer),
		UpdateExpression:          aws.String("REMOVE #token"),
		ConditionExpression:       aws.String("#token = :token"),
		ExpressionAttributeNames:  map[string]string{"#token": "token"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":token": &types.AttributeValueMemberS{Value: token}},
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("take the token of %s: %w", customer, err)
	}
	return true, nil
}

// ReplansOf lists one customer's re-plan requests from since on (the
// tenant's outbox, filtered): what the Park step reads.
func (e *Engagement) ReplansOf(ctx context.Context, t ledger.TenantID, customer string, since time.Time) ([]cycle.Replan, error) {
	all, err := e.Replans(ctx, t, since)
	if err != nil {
		return nil, err
	}
	var out []cycle.Replan
	for _, r := range all {
		if r.Customer == customer {
			out = append(out, cycle.Replan{Event: r.Event, Reason: r.Reason, At: r.RequestedAt})
		}
	}
	return out, nil
}
