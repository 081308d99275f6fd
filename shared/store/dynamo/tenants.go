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

	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/tenant"
)

// ErrNoProfile is returned for a tenant without a stored profile.
var ErrNoProfile = errors.New("dynamo: the tenant has no profile; store one with `recoup tenant put`")

// TenantsAPI is the part of the DynamoDB client the profile store uses.
type TenantsAPI interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

// Tenants keeps each tenant's profile (TABLES.md, P1) in the ledger
// table: T#<tenant>#TENANT / PROFILE, the profile's JSON as given, so what
// was stored is what is read.
type Tenants struct {
	api   TenantsAPI
	table string
}

// NewTenants returns the profile store over prefix+"ledger".
func NewTenants(api TenantsAPI, prefix string) (*Tenants, error) {
	if api == nil {
		return nil, errors.New("dynamo: nil DynamoDB client")
	}
	return &Tenants{api: api, table: prefix + LedgerTable}, nil
}

type tenantItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Type      string `dynamodbav:"type"`
	Tenant    string `dynamodbav:"tenant"`
	Profile   string `dynamodbav:"profile"`
	UpdatedAt string `dynamodbav:"updated_at"`
}

func tenantKey(t ledger.TenantID) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "T#" + string(t) + "#TENANT"},
		"SK": &types.AttributeValueMemberS{Value: "PROFILE"},
	}
}

// Put checks and stores a profile (tenant.Parse), replacing the last.
func (s *Tenants) Put(ctx context.Context, data []byte, at time.Time) (*tenant.Profile, error) {
	p, err := tenant.Parse(data)
	if err != nil {
		return nil, err
	}
	av, err := attributevalue.MarshalMap(tenantItem{PK: "T#" + string(p.Tenant) + "#TENANT", SK: "PROFILE", Type: "tenant",
		Tenant: string(p.Tenant), Profile: string(data), UpdatedAt: stamp(at)})
	if err != nil {
		return nil, err
	}
	if _, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: av}); err != nil {
		return nil, fmt.Errorf("store the profile of tenant %s: %w", p.Tenant, err)
	}
	return p, nil
}

// Profile reads and checks a tenant's profile.
func (s *Tenants) Profile(ctx context.Context, t ledger.TenantID) (*tenant.Profile, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: tenantKey(t)})
	if err != nil {
		return nil, fmt.Errorf("read the profile of tenant %s: %w", t, err)
	}
	if len(out.Item) == 0 {
		return nil, fmt.Errorf("%w (tenant %s)", ErrNoProfile, t)
	}
	var it tenantItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return nil, fmt.Errorf("decode the profile of tenant %s: %w", t, err)
	}
	p, err := tenant.Parse([]byte(it.Profile))
	if err != nil {
		return nil, fmt.Errorf("stored profile of tenant %s: %w", t, err)
	}
	if p.Tenant != t {
		return nil, fmt.Errorf("stored profile of tenant %s names tenant %s", t, p.Tenant)
	}
	return p, nil
}
