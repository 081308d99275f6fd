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

	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/sender"
)

// SendsAPI is the part of the DynamoDB client the send ledger uses.
type SendsAPI interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

var (
	_ SendsAPI      = (*dynamodb.Client)(nil)
	_ sender.Ledger = (*Sends)(nil)
)

// Sends is the send ledger in the contacts table (TABLES.md, H9-H10): one
// item per attempt, T#<tenant>#SEND#<attempt id> / STATE, written only with
// conditions on its state and claim token, so concurrent deliveries of one
// attempt agree on who sends and a retried task never sends twice.
type Sends struct {
	api   SendsAPI
	table string
	now   func() time.Time
}

// NewSends returns the send ledger over prefix+"contacts".
func NewSends(api SendsAPI, prefix string) (*Sends, error) {
	if api == nil {
		return nil, errors.New("dynamo: nil DynamoDB client")
	}
	return &Sends{api: api, table: prefix + ContactsTable, now: time.Now}, nil
}

const sendSK = "STATE"

func sendPK(t ledger.TenantID, attemptID string) string {
	return "T#" + string(t) + "#SEND#" + attemptID
}

// sendingIndexPK lists a tenant's sends still in state sending (GSI1,
// sparse): deliveries in progress and, once older than the lease, sends in
// doubt that a person must reconcile.
func sendingIndexPK(t ledger.TenantID) string { return "T#" + string(t) + "#SENDING" }

type sendItem struct {
	PK             string `dynamodbav:"PK"`
	SK             string `dynamodbav:"SK"`
	GSI1PK         string `dynamodbav:"GSI1PK,omitempty"`
	GSI1SK         string `dynamodbav:"GSI1SK,omitempty"`
	Type           string `dynamodbav:"type"`
	Tenant         string `dynamodbav:"tenant"`
	Attempt        string `dynamodbav:"attempt"`
	Customer       string `dynamodbav:"customer,omitempty"`
	Channel        string `dynamodbav:"channel,omitempty"`
	State          string `dynamodbav:"state"`
	Token          string `dynamodbav:"token"`
	ClaimedAt      string `dynamodbav:"claimed_at"`
	FirstClaimedAt string `dynamodbav:"first_claimed_at"`
	Provider       string `dynamodbav:"provider,omitempty"`
	ProviderID     string `dynamodbav:"provider_id,omitempty"`
	SentAt         string `dynamodbav:"sent_at,omitempty"`
	Reason         string `dynamodbav:"reason,omitempty"`
	FailedAt       string `dynamodbav:"failed_at,omitempty"`
	UpdatedAt      string `dynamodbav:"updated_at"`
}

const sendItemType = "send"

func checkSendKey(t ledger.TenantID, attemptID string) error {
	if err := t.Validate(); err != nil {
		return err
	}
	return ledger.ValidateID("attempt id", attemptID)
}

// Claim implements sender.Ledger: a put conditioned on no item, or on the
// item still sending under takeOver. A lost race returns the item that won,
// read from the failed condition itself.
func (s *Sends) Claim(ctx context.Context, r sender.Record, takeOver string) (sender.Record, bool, error) {
	if err := checkSendKey(r.Tenant, r.AttemptID); err != nil {
		return sender.Record{}, false, fmt.Errorf("claim send: %w", err)
	}
	if r.State != sender.StateSending || r.Token == "" || r.ClaimedAt.IsZero() || r.FirstClaimedAt.IsZero() {
		return sender.Record{}, false, fmt.Errorf("claim send %s: a claim must be sending, with a token and claim times", r.AttemptID)
	}
	it := sendItem{PK: sendPK(r.Tenant, r.AttemptID), SK: sendSK,
		GSI1PK: sendingIndexPK(r.Tenant), GSI1SK: stamp(r.ClaimedAt) + "#" + r.AttemptID,
		Type: sendItemType, Tenant: string(r.Tenant), Attempt: r.AttemptID, Customer: r.Customer, Channel: string(r.Channel),
		State: string(r.State), Token: r.Token, ClaimedAt: stamp(r.ClaimedAt), FirstClaimedAt: stamp(r.FirstClaimedAt),
		UpdatedAt: stamp(s.now())}
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return sender.Record{}, false, fmt.Errorf("encode send claim %s: %w", r.AttemptID, err)
	}
	in := &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item,
		ConditionExpression:                 aws.String("attribute_not_exists(PK)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	if takeOver != "" {
		in.ConditionExpression = aws.String("attribute_not_exists(PK) OR (#state = :sending AND #token = :prev)")
		in.ExpressionAttributeNames = map[string]string{"#state": "state", "#token": "token"}
		in.ExpressionAttributeValues = map[string]types.AttributeValue{
			":sending": &types.AttributeValueMemberS{Value: string(sender.StateSending)},
			":prev":    &types.AttributeValueMemberS{Value: takeOver},
		}
	}
	// A lost race whose winner then released its claim leaves nothing to
	// return; claim again (bounded: each pass follows another writer).
	for range 4 {
		_, err = s.api.PutItem(ctx, in)
		if err == nil {
			return r, true, nil
		}
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			return sender.Record{}, false, fmt.Errorf("claim send %s: %w", r.AttemptID, err)
		}
		if len(ccf.Item) > 0 {
			cur, err := decodeSend(ccf.Item)
			return cur, false, err
		}
		cur, found, err := s.Get(ctx, r.Tenant, r.AttemptID)
		if err != nil || found {
			return cur, false, err
		}
	}
	return sender.Record{}, false, fmt.Errorf("claim send %s: the record kept changing", r.AttemptID)
}

// finish updates a claim held under token: the state change and the
// removal from the sending index, or ErrClaimLost. set names attributes
// #state and #a0, #a1... for attrs (every name aliased: DynamoDB reserves
// hundreds of words).
func (s *Sends) finish(ctx context.Context, t ledger.TenantID, attemptID, token, set string, attrs []string, values map[string]types.AttributeValue) error {
	if err := checkSendKey(t, attemptID); err != nil {
		return err
	}
	values[":sending"] = &types.AttributeValueMemberS{Value: string(sender.StateSending)}
	values[":token"] = &types.AttributeValueMemberS{Value: token}
	values[":now"] = &types.AttributeValueMemberS{Value: stamp(s.now())}
	names := map[string]string{"#state": "state", "#token": "token", "#updated": "updated_at"}
	for i, a := range attrs {
		names[fmt.Sprintf("#a%d", i)] = a
	}
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       itemKey(sendPK(t, attemptID), sendSK),
		UpdateExpression:          aws.String("SET " + set + ", #updated = :now REMOVE GSI1PK, GSI1SK"),
		ConditionExpression:       aws.String("#state = :sending AND #token = :token"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return sender.ErrClaimLost
	}
	return err
}

// Complete implements sender.Ledger.
func (s *Sends) Complete(ctx context.Context, t ledger.TenantID, attemptID, token string, rc sender.Receipt) error {
	err := s.finish(ctx, t, attemptID, token, "#state = :sent, #a0 = :p, #a1 = :id, #a2 = :at",
		[]string{"provider", "provider_id", "sent_at"}, map[string]types.AttributeValue{
			":sent": &types.AttributeValueMemberS{Value: string(sender.StateSent)},
			":p":    &types.AttributeValueMemberS{Value: rc.Provider},
			":id":   &types.AttributeValueMemberS{Value: rc.ProviderID},
			":at":   &types.AttributeValueMemberS{Value: stamp(rc.At)},
		})
	if err != nil {
		return fmt.Errorf("record send %s as sent: %w", attemptID, err)
	}
	return nil
}

// Fail implements sender.Ledger.
func (s *Sends) Fail(ctx context.Context, t ledger.TenantID, attemptID, token, reason string, at time.Time) error {
	err := s.finish(ctx, t, attemptID, token, "#state = :failed, #a0 = :r, #a1 = :at",
		[]string{"reason", "failed_at"}, map[string]types.AttributeValue{
			":failed": &types.AttributeValueMemberS{Value: string(sender.StateFailed)},
			":r":      &types.AttributeValueMemberS{Value: reason},
			":at":     &types.AttributeValueMemberS{Value: stamp(at)},
		})
	if err != nil {
		return fmt.Errorf("record send %s as failed: %w", attemptID, err)
	}
	return nil
}

// Release implements sender.Ledger.
func (s *Sends) Release(ctx context.Context, t ledger.TenantID, attemptID, token string) error {
	if err := checkSendKey(t, attemptID); err != nil {
		return fmt.Errorf("release send: %w", err)
	}
	_, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                aws.String(s.table),
		Key:                      itemKey(sendPK(t, attemptID), sendSK),
		ConditionExpression:      aws.String("#state = :sending AND #token = :token"),
		ExpressionAttributeNames: map[string]string{"#state": "state", "#token": "token"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":sending": &types.AttributeValueMemberS{Value: string(sender.StateSending)},
			":token":   &types.AttributeValueMemberS{Value: token},
		},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		err = sender.ErrClaimLost
	}
	if err != nil {
		return fmt.Errorf("release send %s: %w", attemptID, err)
	}
	return nil
}

// Get implements sender.Ledger (strongly consistent).
func (s *Sends) Get(ctx context.Context, t ledger.TenantID, attemptID string) (sender.Record, bool, error) {
	if err := checkSendKey(t, attemptID); err != nil {
		return sender.Record{}, false, fmt.Errorf("read send: %w", err)
	}
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: itemKey(sendPK(t, attemptID), sendSK), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return sender.Record{}, false, fmt.Errorf("read send %s: %w", attemptID, err)
	}
	if len(out.Item) == 0 {
		return sender.Record{}, false, nil
	}
	r, err := decodeSend(out.Item)
	return r, err == nil, err
}

// Sending lists the tenant's sends still in state sending whose claim was
// taken before claimedBefore, oldest first: with claimedBefore = now minus
// the lease, the sends in doubt to reconcile against the providers' events.
// The index is eventually consistent; read each with Get before acting.
func (s *Sends) Sending(ctx context.Context, t ledger.TenantID, claimedBefore time.Time) ([]sender.Record, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	p := dynamodb.NewQueryPaginator(s.api, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		IndexName:              aws.String(GSI1),
		KeyConditionExpression: aws.String("GSI1PK = :pk AND GSI1SK < :before"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":     &types.AttributeValueMemberS{Value: sendingIndexPK(t)},
			":before": &types.AttributeValueMemberS{Value: stamp(claimedBefore)},
		},
	})
	var out []sender.Record
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return out, fmt.Errorf("list sends in progress of %s: %w", t, err)
		}
		for _, av := range page.Items {
			r, err := decodeSend(av)
			if err != nil {
				return out, err
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// decodeSend reads a send item back into a record.
func decodeSend(av map[string]types.AttributeValue) (sender.Record, error) {
	var it sendItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return sender.Record{}, fmt.Errorf("decode send item: %w", err)
	}
	if it.Type != sendItemType {
		return sender.Record{}, fmt.Errorf("decode send item %q: type %q is not a send", it.PK, it.Type)
	}
	r := sender.Record{Tenant: ledger.TenantID(it.Tenant), AttemptID: it.Attempt, Customer: it.Customer,
		Channel: compliance.Channel(it.Channel), State: sender.State(it.State), Token: it.Token, Reason: it.Reason}
	switch r.State {
	case sender.StateSending, sender.StateSent, sender.StateFailed:
	default:
		return sender.Record{}, fmt.Errorf("send %s: stored state %q is unknown", it.Attempt, it.State)
	}
	var errs [4]error
	r.ClaimedAt, errs[0] = parseInstant("claimed_at", it.ClaimedAt)
	r.FirstClaimedAt, errs[1] = parseInstant("first_claimed_at", it.FirstClaimedAt)
	r.FailedAt, errs[2] = parseInstant("failed_at", it.FailedAt)
	var sentAt time.Time
	sentAt, errs[3] = parseInstant("sent_at", it.SentAt)
	if err := errors.Join(errs[:]...); err != nil {
		return sender.Record{}, fmt.Errorf("send %s: %w", it.Attempt, err)
	}
	if r.State == sender.StateSent {
		r.Receipt = sender.Receipt{Provider: it.Provider, ProviderID: it.ProviderID, At: sentAt}
	}
	return r, nil
}
