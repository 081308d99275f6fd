package dynamo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/recoup-dev/recoup/shared/approval"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
	"github.com/recoup-dev/recoup/shared/strategy"
)

// ApprovalsAPI is the part of the DynamoDB client the approval store uses.
type ApprovalsAPI interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

var (
	_ ApprovalsAPI   = (*dynamodb.Client)(nil)
	_ approval.Store = (*Approvals)(nil)
)

// Approvals keeps approval requests in the contacts table (TABLES.md,
// H11-H12): one item per request, T#<tenant>#APPROVAL#<id> / REQUEST, every
// change conditioned on its status, verdict key and lease, so concurrent
// deciders agree on one verdict and one of them resumes the execution.
type Approvals struct {
	api   ApprovalsAPI
	table string
}

// NewApprovals returns the approval store over prefix+"contacts".
func NewApprovals(api ApprovalsAPI, prefix string) (*Approvals, error) {
	if api == nil {
		return nil, errors.New("dynamo: nil DynamoDB client")
	}
	return &Approvals{api: api, table: prefix + ContactsTable}, nil
}

const (
	approvalSK       = "REQUEST"
	approvalItemType = "approval"
)

func approvalPK(t ledger.TenantID, id string) string {
	return "T#" + string(t) + "#APPROVAL#" + id
}

// approvalsPendingPK lists a tenant's pending requests on GSI1 (sparse:
// only pending items carry GSI1), sorted by Request.Cursor, oldest first.
func approvalsPendingPK(t ledger.TenantID) string { return "T#" + string(t) + "#APPROVALS" }

type approvalDraftAV struct {
	Channel string `dynamodbav:"channel,omitempty"`
	Subject string `dynamodbav:"subject,omitempty"`
	Body    string `dynamodbav:"body"`
}

type approvalVerdictAV struct {
	Kind  string           `dynamodbav:"verdict"`
	By    string           `dynamodbav:"by"`
	At    string           `dynamodbav:"at"`
	Note  string           `dynamodbav:"note,omitempty"`
	Draft *approvalDraftAV `dynamodbav:"draft,omitempty"`
}

type approvalReasonAV struct {
	Code   string `dynamodbav:"code"`
	Detail string `dynamodbav:"detail,omitempty"`
}

type approvalAmountAV struct {
	Currency string `dynamodbav:"currency"`
	Minor    int64  `dynamodbav:"minor"`
}

type approvalItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	GSI1PK    string `dynamodbav:"GSI1PK,omitempty"`
	GSI1SK    string `dynamodbav:"GSI1SK,omitempty"`
	Type      string `dynamodbav:"type"`
	Tenant    string `dynamodbav:"tenant"`
	ID        string `dynamodbav:"id"`
	Customer  string `dynamodbav:"customer"`
	Execution string `dynamodbav:"execution"`
	// Token resumes the execution; removed once the request is finished.
	Token      string             `dynamodbav:"token,omitempty"`
	CreatedAt  string             `dynamodbav:"created_at"`
	Mode       string             `dynamodbav:"mode,omitempty"`
	Decision   string             `dynamodbav:"decision"` // JSON text, as given
	Outcome    string             `dynamodbav:"outcome,omitempty"`
	Action     string             `dynamodbav:"action,omitempty"`
	Channel    string             `dynamodbav:"channel,omitempty"`
	Reasons    []approvalReasonAV `dynamodbav:"reasons,omitempty"`
	Totals     []approvalAmountAV `dynamodbav:"totals,omitempty"`
	When       string             `dynamodbav:"when,omitempty"`
	Invoices   []string           `dynamodbav:"invoices,omitempty"`
	Reason     string             `dynamodbav:"reason,omitempty"`
	Draft      *approvalDraftAV   `dynamodbav:"draft,omitempty"`
	Status     string             `dynamodbav:"status"`
	Verdict    *approvalVerdictAV `dynamodbav:"verdict,omitempty"`
	VerdictKey string             `dynamodbav:"verdict_key,omitempty"`
	Resumed    bool               `dynamodbav:"resumed"`
	ResumedAt  string             `dynamodbav:"resumed_at,omitempty"`
	Lease      string             `dynamodbav:"lease,omitempty"`
	LeaseUntil string             `dynamodbav:"lease_until,omitempty"`
	ExpiredAt  string             `dynamodbav:"expired_at,omitempty"`
	UpdatedAt  string             `dynamodbav:"updated_at"`
}

// approvalNames aliases every attribute an expression names (DynamoDB
// reserves hundreds of words, status among them).
var approvalNames = map[string]string{
	"#status": "status", "#verdict": "verdict", "#vkey": "verdict_key", "#resumed": "resumed",
	"#resumed_at": "resumed_at", "#lease": "lease", "#until": "lease_until", "#token": "token",
	"#expired_at": "expired_at", "#updated": "updated_at",
}

func approvalAttrNames(keys ...string) map[string]string {
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		out[k] = approvalNames[k]
	}
	return out
}

func approvalS(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func checkApprovalKey(t ledger.TenantID, id string) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if !approval.ValidID(id) {
		return fmt.Errorf("%w: approval id %q is not %d hex digits", ledger.ErrInvalidID, id, approval.IDLength)
	}
	return nil
}

func draftAV(d *approval.Draft) *approvalDraftAV {
	if d == nil {
		return nil
	}
	return &approvalDraftAV{Channel: d.Channel, Subject: d.Subject, Body: d.Body}
}

func (d *approvalDraftAV) draft() *approval.Draft {
	if d == nil {
		return nil
	}
	return &approval.Draft{Channel: d.Channel, Subject: d.Subject, Body: d.Body}
}

// Put implements approval.Store: a put conditioned on no item; a lost race
// (a redelivered registration) returns the stored item from the failed
// condition itself.
func (a *Approvals) Put(ctx context.Context, r approval.Request) (approval.Request, bool, error) {
	if err := r.Validate(); err != nil {
		return approval.Request{}, false, fmt.Errorf("store approval: %w", err)
	}
	if r.Status != approval.StatusPending {
		return approval.Request{}, false, fmt.Errorf("store approval %s: only pending requests are put, not %s", r.ID, r.Status)
	}
	it := approvalItem{PK: approvalPK(r.Tenant, r.ID), SK: approvalSK,
		GSI1PK: approvalsPendingPK(r.Tenant), GSI1SK: r.Cursor(),
		Type: approvalItemType, Tenant: string(r.Tenant), ID: r.ID, Customer: r.Customer, Execution: r.Execution,
		Token: r.Token, CreatedAt: stamp(r.CreatedAt), Mode: r.Mode, Decision: string(r.Decision),
		Outcome: r.Outcome, Action: r.Action, Channel: r.Channel, Invoices: r.Invoices, Reason: r.Reason,
		Draft: draftAV(r.Draft), Status: string(r.Status), UpdatedAt: stamp(r.CreatedAt)}
	if !r.When.IsZero() {
		it.When = stamp(r.When)
	}
	for _, x := range r.Reasons {
		it.Reasons = append(it.Reasons, approvalReasonAV{Code: x.Code, Detail: x.Detail})
	}
	for _, x := range r.Totals {
		it.Totals = append(it.Totals, approvalAmountAV{Currency: x.Currency.Code(), Minor: x.Minor})
	}
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return approval.Request{}, false, fmt.Errorf("encode approval %s: %w", r.ID, err)
	}
	_, err = a.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(a.table), Item: item,
		ConditionExpression:                 aws.String("attribute_not_exists(PK)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return r, true, nil
	}
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		return approval.Request{}, false, approvalError("store approval", r.ID, err)
	}
	if len(ccf.Item) == 0 { // items are never deleted; read it
		cur, err := a.Get(ctx, r.Tenant, r.ID)
		return cur, false, err
	}
	cur, err := decodeApproval(ccf.Item)
	return cur, false, err
}

// Get implements approval.Store (strongly consistent).
func (a *Approvals) Get(ctx context.Context, t ledger.TenantID, id string) (approval.Request, error) {
	if err := checkApprovalKey(t, id); err != nil {
		return approval.Request{}, fmt.Errorf("read approval: %w", err)
	}
	out, err := a.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(a.table), Key: itemKey(approvalPK(t, id), approvalSK), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return approval.Request{}, approvalError("read approval", id, err)
	}
	if len(out.Item) == 0 {
		return approval.Request{}, approval.ErrNotFound
	}
	return decodeApproval(out.Item)
}

// Pending implements approval.Store: GSI1, sparse, eventually consistent.
func (a *Approvals) Pending(ctx context.Context, t ledger.TenantID, after string, limit int) ([]approval.Request, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, fmt.Errorf("list approvals of %s: limit %d", t, limit)
	}
	if after != "" && !approval.ValidCursor(after) {
		return nil, fmt.Errorf("list approvals of %s: malformed cursor", t)
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(a.table),
		IndexName:                 aws.String(GSI1),
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": approvalS(approvalsPendingPK(t))},
		Limit:                     aws.Int32(int32(limit)),
	}
	if after != "" {
		in.KeyConditionExpression = aws.String("GSI1PK = :pk AND GSI1SK > :after")
		in.ExpressionAttributeValues[":after"] = approvalS(after)
	}
	var out []approval.Request
	p := dynamodb.NewQueryPaginator(a.api, in)
	for p.HasMorePages() && len(out) < limit {
		page, err := p.NextPage(ctx)
		if err != nil {
			return out, approvalError("list approvals of "+string(t), "", err)
		}
		for _, av := range page.Items {
			r, err := decodeApproval(av)
			if err != nil {
				return out, err
			}
			if len(out) < limit {
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// Decide implements approval.Store with one conditional update: the verdict
// attributes are set only where none exist (if_not_exists), so a takeover
// keeps the first verdict and its time.
func (a *Approvals) Decide(ctx context.Context, t ledger.TenantID, id string, v approval.Verdict, l approval.Lease) (approval.Request, bool, error) {
	if err := checkApprovalKey(t, id); err != nil {
		return approval.Request{}, false, fmt.Errorf("decide approval: %w", err)
	}
	if err := v.Validate(); err != nil || v.At.IsZero() {
		return approval.Request{}, false, fmt.Errorf("decide approval %s: the verdict must be valid and dated (%v)", id, err)
	}
	if l.Owner == "" || !l.Until.After(l.Now) {
		return approval.Request{}, false, fmt.Errorf("decide approval %s: a lease needs an owner and a future end", id)
	}
	verdict, err := attributevalue.Marshal(approvalVerdictAV{Kind: string(v.Kind), By: v.By, At: stamp(v.At), Note: v.Note, Draft: draftAV(v.Draft)})
	if err != nil {
		return approval.Request{}, false, fmt.Errorf("encode verdict on approval %s: %w", id, err)
	}
	out, err := a.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(a.table),
		Key:       itemKey(approvalPK(t, id), approvalSK),
		ConditionExpression: aws.String("attribute_exists(PK) AND (#status = :pending OR (#status = :decided AND #resumed = :false" +
			" AND #vkey = :vkey AND (attribute_not_exists(#until) OR #until <= :now)))"),
		UpdateExpression: aws.String("SET #status = :decided, #verdict = if_not_exists(#verdict, :verdict)," +
			" #vkey = if_not_exists(#vkey, :vkey), #resumed = :false, #lease = :owner, #until = :until, #updated = :now" +
			" REMOVE GSI1PK, GSI1SK"),
		ExpressionAttributeNames: approvalAttrNames("#status", "#verdict", "#vkey", "#resumed", "#lease", "#until", "#updated"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pending": approvalS(string(approval.StatusPending)), ":decided": approvalS(string(approval.StatusDecided)),
			":false": &types.AttributeValueMemberBOOL{Value: false}, ":vkey": approvalS(v.Key()), ":verdict": verdict,
			":owner": approvalS(l.Owner), ":until": approvalS(stamp(l.Until)), ":now": approvalS(stamp(l.Now)),
		},
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf) && len(ccf.Item) == 0:
		return approval.Request{}, false, approval.ErrNotFound
	case errors.As(err, &ccf):
		cur, err := decodeApproval(ccf.Item)
		return cur, false, err
	case err != nil:
		return approval.Request{}, false, approvalError("decide approval", id, err)
	}
	cur, err := decodeApproval(out.Attributes)
	return cur, err == nil, err
}

// Resumed implements approval.Store.
func (a *Approvals) Resumed(ctx context.Context, t ledger.TenantID, id string, at time.Time) error {
	if err := checkApprovalKey(t, id); err != nil {
		return fmt.Errorf("record resume: %w", err)
	}
	_, err := a.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(a.table),
		Key:                 itemKey(approvalPK(t, id), approvalSK),
		ConditionExpression: aws.String("attribute_exists(#verdict)"),
		UpdateExpression: aws.String("SET #status = :decided, #resumed = :true, #resumed_at = :at, #updated = :at" +
			" REMOVE #token, #lease, #until, #expired_at, GSI1PK, GSI1SK"),
		ExpressionAttributeNames: approvalAttrNames("#verdict", "#status", "#resumed", "#resumed_at", "#updated", "#token", "#lease", "#until", "#expired_at"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":decided": approvalS(string(approval.StatusDecided)), ":true": &types.AttributeValueMemberBOOL{Value: true}, ":at": approvalS(stamp(at)),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf) && len(ccf.Item) == 0:
		return approval.ErrNotFound
	case errors.As(err, &ccf):
		return fmt.Errorf("record resume of approval %s: it has no verdict", id)
	case err != nil:
		return approvalError("record resume of approval", id, err)
	}
	return nil
}

// Release implements approval.Store.
func (a *Approvals) Release(ctx context.Context, t ledger.TenantID, id, owner string) error {
	if err := checkApprovalKey(t, id); err != nil {
		return fmt.Errorf("release approval: %w", err)
	}
	_, err := a.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(a.table),
		Key:                       itemKey(approvalPK(t, id), approvalSK),
		ConditionExpression:       aws.String("#lease = :owner"),
		UpdateExpression:          aws.String("REMOVE #lease, #until"),
		ExpressionAttributeNames:  approvalAttrNames("#lease", "#until"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":owner": approvalS(owner)},
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return approvalError("release approval", id, err)
	}
	return nil
}

// Expire implements approval.Store.
func (a *Approvals) Expire(ctx context.Context, t ledger.TenantID, id string, at time.Time) (approval.Request, error) {
	if err := checkApprovalKey(t, id); err != nil {
		return approval.Request{}, fmt.Errorf("expire approval: %w", err)
	}
	out, err := a.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(a.table),
		Key:                 itemKey(approvalPK(t, id), approvalSK),
		ConditionExpression: aws.String("attribute_exists(PK) AND (#status = :pending OR (#status = :decided AND #resumed = :false))"),
		UpdateExpression: aws.String("SET #status = :expired, #expired_at = :at, #updated = :at" +
			" REMOVE #token, #lease, #until, GSI1PK, GSI1SK"),
		ExpressionAttributeNames: approvalAttrNames("#status", "#resumed", "#expired_at", "#updated", "#token", "#lease", "#until"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pending": approvalS(string(approval.StatusPending)), ":decided": approvalS(string(approval.StatusDecided)),
			":expired": approvalS(string(approval.StatusExpired)), ":false": &types.AttributeValueMemberBOOL{Value: false},
			":at": approvalS(stamp(at)),
		},
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf) && len(ccf.Item) == 0:
		return approval.Request{}, approval.ErrNotFound
	case errors.As(err, &ccf):
		return decodeApproval(ccf.Item)
	case err != nil:
		return approval.Request{}, approvalError("expire approval", id, err)
	}
	return decodeApproval(out.Attributes)
}

// approvalError adds context and marks what a retry may cure as
// approval.ErrTransient: throttling, server errors, no connection.
func approvalError(op, id string, err error) error {
	if id != "" {
		op += " " + id
	}
	if transientDynamo(err) {
		return fmt.Errorf("%s: %w: %w", op, approval.ErrTransient, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func transientDynamo(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code := ae.ErrorCode()
		_, throttle := retry.DefaultThrottleErrorCodes[code]
		var re *smithyhttp.ResponseError
		status := 0
		if errors.As(err, &re) {
			status = re.HTTPStatusCode()
		}
		return throttle || code == "InternalServerError" || code == "TransactionConflictException" ||
			status == 429 || status >= 500 || ae.ErrorFault() == smithy.FaultServer
	}
	var rse *smithyhttp.RequestSendError
	var ne net.Error
	return errors.As(err, &rse) || errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded)
}

// decodeApproval reads an item back into a request.
func decodeApproval(av map[string]types.AttributeValue) (approval.Request, error) {
	var it approvalItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return approval.Request{}, fmt.Errorf("decode approval item: %w", err)
	}
	if it.Type != approvalItemType {
		return approval.Request{}, fmt.Errorf("decode approval item %q: type %q is not an approval", it.PK, it.Type)
	}
	r := approval.Request{ID: it.ID, Tenant: ledger.TenantID(it.Tenant), Customer: it.Customer, Execution: it.Execution,
		Token: it.Token, Mode: it.Mode, Decision: []byte(it.Decision), Outcome: it.Outcome, Action: it.Action,
		Channel: it.Channel, Invoices: it.Invoices, Reason: it.Reason, Draft: it.Draft.draft(),
		Status: approval.Status(it.Status), Resumed: it.Resumed}
	var errs [5]error
	r.CreatedAt, errs[0] = parseInstant("created_at", it.CreatedAt)
	r.When, errs[1] = parseInstant("when", it.When)
	r.ExpiredAt, errs[2] = parseInstant("expired_at", it.ExpiredAt)
	r.LeaseUntil, errs[3] = parseInstant("lease_until", it.LeaseUntil)
	if it.Verdict != nil {
		v := approval.Verdict{Kind: approval.Kind(it.Verdict.Kind), By: it.Verdict.By, Note: it.Verdict.Note, Draft: it.Verdict.Draft.draft()}
		v.At, errs[4] = parseInstant("verdict.at", it.Verdict.At)
		r.Verdict = &v
	}
	if err := errors.Join(errs[:]...); err != nil {
		return approval.Request{}, fmt.Errorf("approval %s: %w", it.ID, err)
	}
	for _, x := range it.Reasons {
		r.Reasons = append(r.Reasons, strategy.ApprovalReason{Code: x.Code, Detail: x.Detail})
	}
	for _, x := range it.Totals {
		cur, err := money.ParseCurrency(x.Currency)
		if err != nil {
			return approval.Request{}, fmt.Errorf("approval %s: stored total: %w", it.ID, err)
		}
		r.Totals = append(r.Totals, strategy.Amount{Amount: money.New(x.Minor, cur)})
	}
	if err := r.Validate(); err != nil {
		return approval.Request{}, fmt.Errorf("stored approval %s: %w", it.ID, err)
	}
	return r, nil
}
