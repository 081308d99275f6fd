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
}

var (
	_ RunsAPI            = (*dynamodb.Client)(nil)
	_ cycle.Runs         = (*Runs)(nil)
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
	var it runItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return cycle.Run{}, false, fmt.Errorf("decode the run of %s: %w", customer, err)
	}
	run := cycle.Run{Tenant: t, Customer: customer, Execution: it.Execution, Token: it.Token}
	if run.At, err = parseInstant("at", it.At); err != nil {
		return cycle.Run{}, false, fmt.Errorf("run of %s: %w", customer, err)
	}
	if it.Until != "" {
		if run.Until, err = parseInstant("until", it.Until); err != nil {
			return cycle.Run{}, false, fmt.Errorf("run of %s: %w", customer, err)
		}
	}
	return run, true, nil
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
