// Package dynamo is the DynamoDB adapter for Recoup's ledger, consent,
// contact-history and audit tables. The table design and its access patterns
// are written down in shared/store/TABLES.md; the definitions below are the
// single source used by `recoup tables create` and the CDK app.
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Table names, without the deployment prefix.
const (
	LedgerTable   = "ledger"
	ConsentTable  = "consent"
	ContactsTable = "contacts"
	AuditTable    = "audit"
)

// DefaultPrefix is prepended to every table name unless configured otherwise.
const DefaultPrefix = "recoup-"

// Index names.
const (
	GSI1 = "GSI1"
	GSI2 = "GSI2"
	GSI3 = "GSI3"
)

// TableSpec describes one table: keys, indexes and TTL attribute.
type TableSpec struct {
	Name    string // without prefix
	Indexes []IndexSpec
	TTLAttr string // "" when items never expire
}

// IndexSpec is a global secondary index with string hash and range keys.
type IndexSpec struct {
	Name, HashKey, RangeKey string
}

// Schema lists every table. Every table has string keys PK and SK.
func Schema() []TableSpec {
	return []TableSpec{
		{Name: LedgerTable, Indexes: []IndexSpec{
			{GSI1, "GSI1PK", "GSI1SK"},
			{GSI2, "GSI2PK", "GSI2SK"},
			{GSI3, "GSI3PK", "GSI3SK"},
		}},
		{Name: ConsentTable, Indexes: []IndexSpec{{GSI1, "GSI1PK", "GSI1SK"}}},
		{Name: ContactsTable, Indexes: []IndexSpec{{GSI1, "GSI1PK", "GSI1SK"}}, TTLAttr: "expires_at"},
		{Name: AuditTable, Indexes: []IndexSpec{{GSI1, "GSI1PK", "GSI1SK"}}},
	}
}

// CreateTableInput builds the CreateTable request for a spec.
func (s TableSpec) CreateTableInput(prefix string) *dynamodb.CreateTableInput {
	attrs := map[string]bool{"PK": true, "SK": true}
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(prefix + s.Name),
		BillingMode: types.BillingModePayPerRequest,
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("PK"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("SK"), KeyType: types.KeyTypeRange},
		},
	}
	for _, ix := range s.Indexes {
		attrs[ix.HashKey], attrs[ix.RangeKey] = true, true
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName: aws.String(ix.Name),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(ix.HashKey), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(ix.RangeKey), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		})
	}
	for _, name := range []string{"PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK"} {
		if attrs[name] {
			in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
				AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS,
			})
		}
	}
	return in
}

// TableAPI is the part of the DynamoDB client that table management needs.
type TableAPI interface {
	ListTables(context.Context, *dynamodb.ListTablesInput, ...func(*dynamodb.Options)) (*dynamodb.ListTablesOutput, error)
	UpdateTable(context.Context, *dynamodb.UpdateTableInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateTableOutput, error)
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTimeToLive(context.Context, *dynamodb.DescribeTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error)
	UpdateTimeToLive(context.Context, *dynamodb.UpdateTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
}

// EnsureResult says what EnsureTables did to one table.
type EnsureResult struct {
	Table   string
	Created bool
}

// EnsureTables creates every table in Schema that does not exist and turns on
// TTL where the spec has one. Running it again changes nothing, so `make up`
// and deployments can both call it.
func EnsureTables(ctx context.Context, api TableAPI, prefix string) ([]EnsureResult, error) {
	// ListTables rather than DescribeTable per table: a missing table is then
	// not an error response, which the SDK logs about when closing its body.
	existing := map[string]bool{}
	p := dynamodb.NewListTablesPaginator(api, &dynamodb.ListTablesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		for _, n := range page.TableNames {
			existing[n] = true
		}
	}
	var out []EnsureResult
	for _, spec := range Schema() {
		name := prefix + spec.Name
		created := false
		if !existing[name] {
			_, err := api.CreateTable(ctx, spec.CreateTableInput(prefix))
			var inUse *types.ResourceInUseException
			switch {
			case errors.As(err, &inUse): // a concurrent creator won the race
			case err != nil:
				return out, fmt.Errorf("create table %s: %w", name, err)
			default:
				created = true
			}
		}
		if err := waitActive(ctx, api, name); err != nil {
			return out, err
		}
		if !created {
			if err := ensureIndexes(ctx, api, spec, prefix); err != nil {
				return out, err
			}
		}
		if spec.TTLAttr != "" {
			if err := ensureTTL(ctx, api, name, spec.TTLAttr); err != nil {
				return out, err
			}
		}
		out = append(out, EnsureResult{Table: name, Created: created})
	}
	return out, nil
}

// ensureIndexes adds the spec's global secondary indexes that an existing
// table lacks (a table made before an index joined the schema). DynamoDB
// backfills a new index; UpdateTable takes one index at a time.
func ensureIndexes(ctx context.Context, api TableAPI, spec TableSpec, prefix string) error {
	name := prefix + spec.Name
	d, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		return fmt.Errorf("describe table %s: %w", name, err)
	}
	have := map[string]bool{}
	for _, g := range d.Table.GlobalSecondaryIndexes {
		have[aws.ToString(g.IndexName)] = true
	}
	full := spec.CreateTableInput(prefix)
	for _, g := range full.GlobalSecondaryIndexes {
		if have[aws.ToString(g.IndexName)] {
			continue
		}
		_, err := api.UpdateTable(ctx, &dynamodb.UpdateTableInput{
			TableName:            aws.String(name),
			AttributeDefinitions: full.AttributeDefinitions,
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
				IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection,
			}}},
		})
		if err != nil {
			return fmt.Errorf("add index %s to table %s: %w", aws.ToString(g.IndexName), name, err)
		}
		if err := waitActive(ctx, api, name); err != nil {
			return err
		}
	}
	return nil
}

func waitActive(ctx context.Context, api TableAPI, name string) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		d, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("describe table %s: %w", name, err)
		}
		if d.Table.TableStatus == types.TableStatusActive && indexesActive(d.Table.GlobalSecondaryIndexes) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("table %s still %s after 2m", name, d.Table.TableStatus)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func indexesActive(gs []types.GlobalSecondaryIndexDescription) bool {
	for _, g := range gs {
		if g.IndexStatus != "" && g.IndexStatus != types.IndexStatusActive {
			return false
		}
	}
	return true
}

func ensureTTL(ctx context.Context, api TableAPI, name, attr string) error {
	d, err := api.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		return fmt.Errorf("describe TTL of %s: %w", name, err)
	}
	if s := d.TimeToLiveDescription; s != nil && s.AttributeName != nil && *s.AttributeName == attr &&
		(s.TimeToLiveStatus == types.TimeToLiveStatusEnabled || s.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		return nil
	}
	_, err = api.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(attr), Enabled: aws.Bool(true)},
	})
	if err != nil {
		return fmt.Errorf("enable TTL on %s.%s: %w", name, attr, err)
	}
	return nil
}
