package dynamo

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/shadow"
	"github.com/recoup-dev/recoup/shared/strategy"
)

// ShadowAPI is the part of the DynamoDB client the pilot store uses.
type ShadowAPI interface {
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

var (
	_ ShadowAPI  = (*dynamodb.Client)(nil)
	_ shadow.Log = (*Shadow)(nil)
)

// Shadow keeps the pilot's record in the contacts table (TABLES.md,
// H13-H14): the engine's recommendations in shadow mode and the team's
// actions beside them, in 16 partitions per tenant by customer.
//
//	| #   | access pattern | how |
//	| H13 | record a recommendation once per execution and planning instant, whatever the retries; record a team action once per who, what and when, whatever the re-imports | PutItem PK = T#t#SHADOW#<n>, SK = REC#<at>#<id> or TEAM#<at>#<id>, with attribute_not_exists(PK): a lost condition is the earlier write, kept as it is |
//	| H14 | a tenant's recommendations, or team actions, in [from, to) (the agreement report) | Query each of the 16 partitions T#t#SHADOW#<n>, SK BETWEEN REC#<from> AND REC#<to> (TEAM# likewise), strongly consistent, paged; merged and sorted by time, then id |
//
//	| item | PK | SK | GSI1PK / GSI1SK |
//	| recommendation | T#t#SHADOW#<n> | REC#<at>#<recommendation id> | |
//	| team action | T#t#SHADOW#<n> | TEAM#<at>#<team action id> | |
//
// <n> is FNV-1a of the customer id modulo 16, as the ledger's kind shards:
// a daily run plans every pilot customer within minutes, and one partition
// per tenant would take all those writes. <at> is the record's time in the
// fixed nine-digit layout, so the sort key orders by time and a range is
// one key condition. <id> ends the key because two records can share an
// instant. The recommendation id hashes the execution and the decision's
// planning instant (shadow.RecommendationID), the team action id the tenant,
// customer, time, action, channel and collector (shadow.TeamActionID).
//
// An item holds type (shadow_recommendation, shadow_team_action), tenant,
// id, customer, at and recorded_at; a recommendation also execution,
// outcome, action, step, channel, when, segment, customer_segment,
// invoices, requires_approval, approval_reasons (codes), reason, route,
// config_version, config_hash, draft_source and draft {channel, subject,
// body, template_id, model}; a team action action, channel, by, note and
// source. No TTL: the records are the pilot's evidence. Own partitions,
// not the customer's T#t#C#<customer>, because the dispatch gate's range
// query reads that one and must not read these.
type Shadow struct {
	api   ShadowAPI
	table string
	// pageSize caps the items per Query page; 0 leaves DynamoDB's 1 MB
	// pages. Tests set it to exercise the paging.
	pageSize int32
}

// NewShadow returns the pilot store over prefix+"contacts".
func NewShadow(api ShadowAPI, prefix string) (*Shadow, error) {
	if api == nil {
		return nil, errors.New("dynamo: nil DynamoDB client")
	}
	return &Shadow{api: api, table: prefix + ContactsTable}, nil
}

const (
	shadowRecType  = "shadow_recommendation"
	shadowTeamType = "shadow_team_action"
	shadowRecSK    = "REC#"
	shadowTeamSK   = "TEAM#"
)

func shadowPK(t ledger.TenantID, customer string) string { return shadowShardPK(t, shard(customer)) }

func shadowShardPK(t ledger.TenantID, n int) string { return fmt.Sprintf("T#%s#SHADOW#%d", t, n) }

type shadowDraftAV struct {
	Channel    string `dynamodbav:"channel,omitempty"`
	Subject    string `dynamodbav:"subject,omitempty"`
	Body       string `dynamodbav:"body"`
	TemplateID string `dynamodbav:"template_id,omitempty"`
	Model      string `dynamodbav:"model,omitempty"`
}

type shadowRecItem struct {
	PK               string         `dynamodbav:"PK"`
	SK               string         `dynamodbav:"SK"`
	Type             string         `dynamodbav:"type"`
	Tenant           string         `dynamodbav:"tenant"`
	ID               string         `dynamodbav:"id"`
	Customer         string         `dynamodbav:"customer"`
	Execution        string         `dynamodbav:"execution"`
	At               string         `dynamodbav:"at"`
	RecordedAt       string         `dynamodbav:"recorded_at,omitempty"`
	Outcome          string         `dynamodbav:"outcome"`
	Action           string         `dynamodbav:"action,omitempty"`
	Step             string         `dynamodbav:"step,omitempty"`
	Channel          string         `dynamodbav:"channel,omitempty"`
	When             string         `dynamodbav:"when,omitempty"`
	Segment          string         `dynamodbav:"segment,omitempty"`
	CustomerSegment  string         `dynamodbav:"customer_segment,omitempty"`
	Invoices         []string       `dynamodbav:"invoices,omitempty"`
	RequiresApproval bool           `dynamodbav:"requires_approval"`
	ApprovalReasons  []string       `dynamodbav:"approval_reasons,omitempty"`
	Reason           string         `dynamodbav:"reason,omitempty"`
	Route            string         `dynamodbav:"route,omitempty"`
	ConfigVersion    string         `dynamodbav:"config_version,omitempty"`
	ConfigHash       string         `dynamodbav:"config_hash,omitempty"`
	DraftSource      string         `dynamodbav:"draft_source,omitempty"`
	Draft            *shadowDraftAV `dynamodbav:"draft,omitempty"`
}

type shadowTeamItem struct {
	PK         string `dynamodbav:"PK"`
	SK         string `dynamodbav:"SK"`
	Type       string `dynamodbav:"type"`
	Tenant     string `dynamodbav:"tenant"`
	ID         string `dynamodbav:"id"`
	Customer   string `dynamodbav:"customer"`
	At         string `dynamodbav:"at"`
	RecordedAt string `dynamodbav:"recorded_at,omitempty"`
	Action     string `dynamodbav:"action"`
	Channel    string `dynamodbav:"channel,omitempty"`
	By         string `dynamodbav:"by"`
	Note       string `dynamodbav:"note,omitempty"`
	Source     string `dynamodbav:"source"`
}

// optionalStamp is stamp, or "" for a zero time (the attribute is left out).
func optionalStamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return stamp(t)
}

// PutRecommendation implements shadow.Store.
func (s *Shadow) PutRecommendation(ctx context.Context, r shadow.Recommendation) (bool, error) {
	if err := r.Validate(); err != nil {
		return false, fmt.Errorf("store recommendation: %w", err)
	}
	it := shadowRecItem{PK: shadowPK(r.Tenant, r.Customer), SK: shadowRecSK + stamp(r.At) + "#" + r.ID, Type: shadowRecType,
		Tenant: string(r.Tenant), ID: r.ID, Customer: r.Customer, Execution: r.Execution, At: stamp(r.At),
		RecordedAt: optionalStamp(r.RecordedAt), Outcome: string(r.Outcome), Action: string(r.Action), Step: r.Step,
		Channel: string(r.Channel), When: optionalStamp(r.When), Segment: r.Segment, CustomerSegment: r.CustomerSegment,
		Invoices: r.Invoices, RequiresApproval: r.RequiresApproval, ApprovalReasons: r.ApprovalReasons, Reason: r.Reason,
		Route: r.Route, ConfigVersion: r.ConfigVersion, ConfigHash: r.ConfigHash, DraftSource: r.DraftSource}
	if d := r.Draft; d != nil {
		it.Draft = &shadowDraftAV{Channel: string(d.Channel), Subject: d.Subject, Body: d.Body, TemplateID: d.TemplateID, Model: d.Model}
	}
	return s.putOnce(ctx, "recommendation "+r.ID, it)
}

// PutTeamAction implements shadow.Log.
func (s *Shadow) PutTeamAction(ctx context.Context, a shadow.TeamAction) (bool, error) {
	if err := a.Validate(); err != nil {
		return false, fmt.Errorf("store team action: %w", err)
	}
	it := shadowTeamItem{PK: shadowPK(a.Tenant, a.Customer), SK: shadowTeamSK + stamp(a.At) + "#" + a.ID, Type: shadowTeamType,
		Tenant: string(a.Tenant), ID: a.ID, Customer: a.Customer, At: stamp(a.At), RecordedAt: optionalStamp(a.RecordedAt),
		Action: string(a.Action), Channel: string(a.Channel), By: a.By, Note: a.Note, Source: a.Source}
	return s.putOnce(ctx, "team action "+a.ID, it)
}

// putOnce puts an item unless its key is taken; a taken key is the same
// record written before (the key holds its id), so it is not an error.
func (s *Shadow) putOnce(ctx context.Context, what string, it any) (bool, error) {
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return false, fmt.Errorf("encode %s: %w", what, err)
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return false, nil
	case err != nil:
		return false, shadowError("store "+what, err)
	}
	return true, nil
}

// Recommendations implements shadow.Log.
func (s *Shadow) Recommendations(ctx context.Context, t ledger.TenantID, from, to time.Time) ([]shadow.Recommendation, error) {
	out, err := listShadow(ctx, s, t, shadowRecSK, from, to, decodeShadowRec,
		func(r shadow.Recommendation) (time.Time, string) { return r.At, r.ID })
	if err != nil {
		return nil, fmt.Errorf("list recommendations of %s: %w", t, err)
	}
	return out, nil
}

// TeamActions implements shadow.Log.
func (s *Shadow) TeamActions(ctx context.Context, t ledger.TenantID, from, to time.Time) ([]shadow.TeamAction, error) {
	out, err := listShadow(ctx, s, t, shadowTeamSK, from, to, decodeShadowTeam,
		func(a shadow.TeamAction) (time.Time, string) { return a.At, a.ID })
	if err != nil {
		return nil, fmt.Errorf("list team actions of %s: %w", t, err)
	}
	return out, nil
}

// listShadow decodes the items of one kind in [from, to) and orders them by
// time, then id: the shards are read one after another, so their items
// arrive interleaved.
func listShadow[T any](ctx context.Context, s *Shadow, t ledger.TenantID, prefix string, from, to time.Time,
	decode func(map[string]types.AttributeValue) (T, error), key func(T) (time.Time, string)) ([]T, error) {
	var out []T
	err := s.query(ctx, t, prefix, from, to, func(av map[string]types.AttributeValue) error {
		v, err := decode(av)
		if err != nil {
			return err
		}
		out = append(out, v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b T) int {
		at, aid := key(a)
		bt, bid := key(b)
		return cmp.Or(at.Compare(bt), strings.Compare(aid, bid))
	})
	return out, nil
}

// query reads the items of one kind (sort key prefix) in [from, to) from
// every shard of the tenant, page by page.
func (s *Shadow) query(ctx context.Context, t ledger.TenantID, prefix string, from, to time.Time,
	each func(map[string]types.AttributeValue) error) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		return nil // an empty range; DynamoDB refuses BETWEEN with its bounds reversed
	}
	// "REC#<t>" sorts before every "REC#<t>#<id>" and after every earlier
	// time, so BETWEEN takes from inclusive and to exclusive; '$' follows
	// '#' and so ends the prefix when to is open.
	lo, hi := prefix, strings.TrimSuffix(prefix, "#")+"$"
	if !from.IsZero() {
		lo = prefix + stamp(from)
	}
	if !to.IsZero() {
		hi = prefix + stamp(to)
	}
	for n := range shards {
		in := &dynamodb.QueryInput{
			TableName:              aws.String(s.table),
			KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :lo AND :hi"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": &types.AttributeValueMemberS{Value: shadowShardPK(t, n)},
				":lo": &types.AttributeValueMemberS{Value: lo}, ":hi": &types.AttributeValueMemberS{Value: hi},
			},
			ConsistentRead: aws.Bool(true),
		}
		if s.pageSize > 0 {
			in.Limit = aws.Int32(s.pageSize)
		}
		p := dynamodb.NewQueryPaginator(s.api, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return shadowError(fmt.Sprintf("shard %d", n), err)
			}
			for _, av := range page.Items {
				if err := each(av); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// shadowError adds context and marks what a retry may cure as
// shadow.ErrTransient.
func shadowError(op string, err error) error {
	if transientDynamo(err) {
		return fmt.Errorf("%s: %w: %w", op, shadow.ErrTransient, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func decodeShadowRec(av map[string]types.AttributeValue) (shadow.Recommendation, error) {
	var it shadowRecItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return shadow.Recommendation{}, fmt.Errorf("decode recommendation item: %w", err)
	}
	if it.Type != shadowRecType {
		return shadow.Recommendation{}, fmt.Errorf("decode recommendation item %q %q: type %q is not a recommendation", it.PK, it.SK, it.Type)
	}
	r := shadow.Recommendation{ID: it.ID, Tenant: ledger.TenantID(it.Tenant), Customer: it.Customer, Execution: it.Execution,
		Outcome: strategy.Outcome(it.Outcome), Action: strategy.Action(it.Action), Step: it.Step, Channel: consent.Channel(it.Channel),
		Segment: it.Segment, CustomerSegment: it.CustomerSegment, Invoices: it.Invoices, RequiresApproval: it.RequiresApproval,
		ApprovalReasons: it.ApprovalReasons, Reason: it.Reason, Route: it.Route, ConfigVersion: it.ConfigVersion,
		ConfigHash: it.ConfigHash, DraftSource: it.DraftSource}
	if d := it.Draft; d != nil {
		r.Draft = &shadow.Draft{Channel: consent.Channel(d.Channel), Subject: d.Subject, Body: d.Body, TemplateID: d.TemplateID, Model: d.Model}
	}
	var errs [3]error
	r.At, errs[0] = parseInstant("at", it.At)
	r.RecordedAt, errs[1] = parseInstant("recorded_at", it.RecordedAt)
	r.When, errs[2] = parseInstant("when", it.When)
	if err := errors.Join(errs[:]...); err != nil {
		return shadow.Recommendation{}, fmt.Errorf("recommendation %s: %w", it.ID, err)
	}
	if err := r.Validate(); err != nil {
		return shadow.Recommendation{}, fmt.Errorf("stored %w", err)
	}
	return r, nil
}

func decodeShadowTeam(av map[string]types.AttributeValue) (shadow.TeamAction, error) {
	var it shadowTeamItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return shadow.TeamAction{}, fmt.Errorf("decode team action item: %w", err)
	}
	if it.Type != shadowTeamType {
		return shadow.TeamAction{}, fmt.Errorf("decode team action item %q %q: type %q is not a team action", it.PK, it.SK, it.Type)
	}
	a := shadow.TeamAction{ID: it.ID, Tenant: ledger.TenantID(it.Tenant), Customer: it.Customer, Action: strategy.Action(it.Action),
		Channel: consent.Channel(it.Channel), By: it.By, Note: it.Note, Source: it.Source}
	var errs [2]error
	a.At, errs[0] = parseInstant("at", it.At)
	a.RecordedAt, errs[1] = parseInstant("recorded_at", it.RecordedAt)
	if err := errors.Join(errs[:]...); err != nil {
		return shadow.TeamAction{}, fmt.Errorf("team action %s: %w", it.ID, err)
	}
	if err := a.Validate(); err != nil {
		return shadow.TeamAction{}, fmt.Errorf("stored %w", err)
	}
	return a, nil
}
