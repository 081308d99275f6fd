package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/dispatch"
	"github.com/recoup-dev/recoup/shared/ledger"
)

// ContactsAPI is the part of the DynamoDB client the contact history uses.
type ContactsAPI interface {
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ dispatch.History = (*Contacts)(nil)

// Contacts is the contact history (table "contacts", TABLES.md H1-H3): every
// attempt per person, and a per-person version item that makes recording an
// attempt conditional on nobody else having recorded one since the history
// was read.
type Contacts struct {
	api     ContactsAPI
	table   string
	consent *Consent // builds the consent condition checks; nil: none
}

// NewContacts returns the contact history over prefix+"contacts". Each
// commit also checks, in the same transaction, that the consent states the
// decision read are unchanged, so the consent store is required.
func NewContacts(api ContactsAPI, prefix string, consentStore *Consent) (*Contacts, error) {
	if api == nil {
		return nil, errors.New("dynamo: nil DynamoDB client")
	}
	if consentStore == nil {
		return nil, errors.New("dynamo: the contact history needs the consent store to check consent at commit")
	}
	return &Contacts{api: api, table: prefix + ContactsTable, consent: consentStore}, nil
}

type attemptItem struct {
	PK            string   `dynamodbav:"PK"`
	SK            string   `dynamodbav:"SK"`
	GSI1PK        string   `dynamodbav:"GSI1PK,omitempty"`
	GSI1SK        string   `dynamodbav:"GSI1SK,omitempty"`
	ID            string   `dynamodbav:"id"`
	At            string   `dynamodbav:"at"`
	Channel       string   `dynamodbav:"channel"`
	Debt          string   `dynamodbav:"debt,omitempty"`
	To            string   `dynamodbav:"to,omitempty"`
	Step          string   `dynamodbav:"step,omitempty"`
	Outcome       string   `dynamodbav:"outcome,omitempty"`
	WithConsent   bool     `dynamodbav:"with_consent,omitempty"`
	Decision      string   `dynamodbav:"decision"`
	Rules         []string `dynamodbav:"rules,omitempty"`
	Reason        string   `dynamodbav:"reason,omitempty"`
	PolicyVersion string   `dynamodbav:"policy_version,omitempty"`
	AuditSeq      uint64   `dynamodbav:"audit_seq,omitempty"`
}

// Sort keys in a person's partition: "AID#" (attempt-id claims) sorts before
// "ATT#" and "VERSION" after it, so Load's one range query reads attempts
// and the version but never the ever-growing id claims.
const (
	versionSK   = "VERSION"
	attemptSK   = "ATT#"
	attemptIDSK = "AID#"
)

// stamp formats instants with a fixed nine-digit fraction so sort keys order
// by time.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

// Load reads the person's version item and attempts since the given instant.
func (c *Contacts) Load(ctx context.Context, tenant ledger.TenantID, customer string, since time.Time) (dispatch.Snapshot, error) {
	pk := customerPK(tenant, customer)
	var snap dispatch.Snapshot
	// The version item sorts after every ATT# key ("V" > "A"), so one range
	// query from the window's start reads both.
	p := dynamodb.NewQueryPaginator(c.api, &dynamodb.QueryInput{
		TableName:              aws.String(c.table),
		ConsistentRead:         aws.Bool(true),
		KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":   &types.AttributeValueMemberS{Value: pk},
			":from": &types.AttributeValueMemberS{Value: attemptSK + stamp(since)},
			":to":   &types.AttributeValueMemberS{Value: versionSK},
		},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return snap, fmt.Errorf("read contact history of %s: %w", customer, err)
		}
		for _, av := range page.Items {
			sk := str(av["SK"])
			switch {
			case sk == versionSK:
				n, ok := av["version"].(*types.AttributeValueMemberN)
				if !ok {
					return snap, fmt.Errorf("contact history of %s: version item has no number", customer)
				}
				v, err := strconv.ParseInt(n.Value, 10, 64)
				if err != nil {
					return snap, fmt.Errorf("contact history of %s: version %q: %w", customer, n.Value, err)
				}
				snap.Version = v
			case sk == standingSK:
				st, _, err := decodeStanding(av, customer)
				if err != nil {
					return snap, err
				}
				snap.Standing = st
			case len(sk) > len(attemptSK) && sk[:len(attemptSK)] == attemptSK:
				var it attemptItem
				if err := attributevalue.UnmarshalMap(av, &it); err != nil {
					return snap, fmt.Errorf("decode attempt %s: %w", sk, err)
				}
				a, err := it.attempt()
				if err != nil {
					return snap, err
				}
				snap.Attempts = append(snap.Attempts, a)
			}
		}
	}
	return snap, nil
}

func (it attemptItem) attempt() (dispatch.Attempt, error) {
	at, err := time.Parse(time.RFC3339Nano, it.At)
	if err != nil {
		return dispatch.Attempt{}, fmt.Errorf("attempt %s: time %q: %w", it.ID, it.At, err)
	}
	return dispatch.Attempt{ID: it.ID, At: at.UTC(), Channel: compliance.Channel(it.Channel), Debt: it.Debt, To: it.To, Step: it.Step,
		Outcome: compliance.Outcome(it.Outcome), WithConsent: it.WithConsent, Decision: compliance.Decision(it.Decision),
		Rules: it.Rules, Reason: it.Reason, PolicyVersion: it.PolicyVersion, AuditSeq: it.AuditSeq}, nil
}

// Commit records rec in one transaction: bump the person's version from
// base.Version (fails if another commit came first), claim the attempt id
// (fails if already recorded), put the attempt, append an allowed letter's
// time to the customer's LETTERS item, and check every consent state in
// checks is at the version read.
func (c *Contacts) Commit(ctx context.Context, tenant ledger.TenantID, customer string, base dispatch.Snapshot, rec dispatch.Attempt, checks []consent.Status) error {
	pk := customerPK(tenant, customer)
	key := func(sk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: sk}}
	}
	version := &types.Update{
		TableName:        aws.String(c.table),
		Key:              key(versionSK),
		UpdateExpression: aws.String("SET version = :next"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":next": &types.AttributeValueMemberN{Value: strconv.FormatInt(base.Version+1, 10)},
		},
	}
	if base.Version == 0 {
		version.ConditionExpression = aws.String("attribute_not_exists(PK)")
	} else {
		version.ConditionExpression = aws.String("version = :base")
		version.ExpressionAttributeValues[":base"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(base.Version, 10)}
	}
	it := attemptItem{PK: pk, SK: attemptSK + stamp(rec.At) + "#" + rec.ID, ID: rec.ID, At: rec.At.UTC().Format(time.RFC3339Nano),
		Channel: string(rec.Channel), Debt: rec.Debt, To: rec.To, Step: rec.Step, Outcome: string(rec.Outcome), WithConsent: rec.WithConsent,
		Decision: string(rec.Decision), Rules: rec.Rules, Reason: rec.Reason, PolicyVersion: rec.PolicyVersion}
	if rec.Debt != "" {
		it.GSI1PK, it.GSI1SK = "T#"+string(tenant)+"#D#"+rec.Debt, stamp(rec.At)
	}
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return fmt.Errorf("encode attempt %s: %w", rec.ID, err)
	}
	// The id claim names the attempt's sort key, so an outcome reported
	// later finds the attempt with one read.
	claim := key(attemptIDSK + rec.ID)
	claim["att_sk"] = &types.AttributeValueMemberS{Value: it.SK}
	items := []types.TransactWriteItem{
		{Update: version},
		{Put: &types.Put{TableName: aws.String(c.table), Item: claim, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		{Put: &types.Put{TableName: aws.String(c.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
	}
	// A letter has no delivery receipt: its sending is recorded where the
	// channel model reads engagement (preference.WithLetters), with the
	// attempt, so a duplicate or lost race records neither.
	if rec.Channel == compliance.ChannelLetter && rec.Decision == compliance.Allow {
		items = append(items, letterAppend(c.table, tenant, customer, rec.At))
	}
	for _, st := range checks {
		cc, err := c.consent.StateCheck(tenant, st)
		if err != nil {
			return err
		}
		items = append(items, cc)
	}
	_, err = c.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) {
		reasons := canceled.CancellationReasons
		code := func(i int) string {
			if i < len(reasons) {
				return aws.ToString(reasons[i].Code)
			}
			return ""
		}
		if code(1) == "ConditionalCheckFailed" {
			return dispatch.ErrDuplicate
		}
		// Only a lost race is retried: a condition that failed because
		// someone else wrote first, or a transaction conflict. Anything
		// else (a validation error) would fail the same way every time.
		for i := range reasons {
			switch code(i) {
			case "", "None", "ConditionalCheckFailed", "TransactionConflict":
			default:
				return fmt.Errorf("record attempt %s: %w", rec.ID, err)
			}
		}
		return fmt.Errorf("%w (customer %s)", dispatch.ErrConflict, customer)
	}
	var conflict *types.TransactionConflictException
	if errors.As(err, &conflict) {
		return fmt.Errorf("%w (customer %s)", dispatch.ErrConflict, customer)
	}
	if err != nil {
		return fmt.Errorf("record attempt %s: %w", rec.ID, err)
	}
	return nil
}

// MarkAudited stores on a recorded attempt the sequence number of its audit
// entry, so a repeated dispatch can tell an audited decision from one whose
// audit append failed.
func (c *Contacts) MarkAudited(ctx context.Context, tenant ledger.TenantID, customer string, rec dispatch.Attempt, seq uint64) error {
	_, err := c.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(c.table),
		Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: customerPK(tenant, customer)},
			"SK": &types.AttributeValueMemberS{Value: attemptSK + stamp(rec.At) + "#" + rec.ID},
		},
		UpdateExpression:          aws.String("SET audit_seq = :s"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": &types.AttributeValueMemberN{Value: strconv.FormatUint(seq, 10)}},
	})
	if err != nil {
		return fmt.Errorf("note audit entry %d on attempt %s: %w", seq, rec.ID, err)
	}
	return nil
}

// GateAPI is what the dispatch gate's stores need of the DynamoDB client.
type GateAPI interface {
	ContactsAPI
	ConsentAPI
	AuditAPI
}

// NewGate wires the dispatch gate to its DynamoDB stores: contact history,
// consent ledger and audit log, all under one table prefix.
func NewGate(api GateAPI, prefix string, engines dispatch.Policies) (*dispatch.Gate, error) {
	cs, err := NewConsent(api, prefix)
	if err != nil {
		return nil, err
	}
	hist, err := NewContacts(api, prefix, cs)
	if err != nil {
		return nil, err
	}
	log, err := NewAudit(api, prefix)
	if err != nil {
		return nil, err
	}
	return dispatch.New(engines, hist, cs, log)
}
