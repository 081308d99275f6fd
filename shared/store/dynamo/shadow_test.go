package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/infra/local/localtest"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/shadow"
	"github.com/recoup-dev/recoup/shared/shadow/shadowtest"
	"github.com/recoup-dev/recoup/shared/strategy"
)

// shadowAPI is a ShadowAPI that records the queries and answers with err.
type shadowAPI struct {
	mu      sync.Mutex
	err     error
	queries []*dynamodb.QueryInput
}

func (f *shadowAPI) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return &dynamodb.PutItemOutput{}, f.err
}

func (f *shadowAPI) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, in)
	return &dynamodb.QueryOutput{}, f.err
}

func TestShadowMarksTransientFailures(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		transient bool
	}{
		{"throttled", &smithy.GenericAPIError{Code: "ThrottlingException"}, true},
		{"over capacity", &types.ProvisionedThroughputExceededException{}, true},
		{"server error", &types.InternalServerError{}, true},
		{"deadline", context.DeadlineExceeded, true},
		{"refused request", &smithy.GenericAPIError{Code: "ValidationException", Fault: smithy.FaultClient}, false},
		{"no table", &types.ResourceNotFoundException{}, false},
	}
	r := shadowtest.Recommendation("acme", "C1", time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewShadow(&shadowAPI{err: tt.err}, "recoup-")
			if err != nil {
				t.Fatal(err)
			}
			_, putErr := s.PutRecommendation(context.Background(), r)
			_, listErr := s.TeamActions(context.Background(), "acme", time.Time{}, time.Time{})
			for _, err := range []error{putErr, listErr} {
				if err == nil || errors.Is(err, shadow.ErrTransient) != tt.transient || !errors.Is(err, tt.err) {
					t.Errorf("error %v: transient %v, want %v, wrapping the SDK's", err, errors.Is(err, shadow.ErrTransient), tt.transient)
				}
			}
		})
	}
}

func TestShadowTakenKeyIsTheEarlierWrite(t *testing.T) {
	s, _ := NewShadow(&shadowAPI{err: &types.ConditionalCheckFailedException{}}, "recoup-")
	a := shadowtest.TeamAction("acme", "C1", time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC), strategy.ActionCall, consent.Voice, "col-7")
	created, err := s.PutTeamAction(context.Background(), a)
	if created || err != nil {
		t.Errorf("put over a taken key: created %v, %v; want false, nil", created, err)
	}
}

func TestShadowQueriesEveryShardWithinTheRange(t *testing.T) {
	from := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2025, 7, 1, 0, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	tests := []struct {
		name     string
		from, to time.Time
		lo, hi   string
		queries  int
	}{
		{"open range", time.Time{}, time.Time{}, "REC#", "REC$", shards},
		{"since", from, time.Time{}, "REC#2025-06-01T00:00:00.000000000Z", "REC$", shards},
		{"between, in UTC", from, to, "REC#2025-06-01T00:00:00.000000000Z", "REC#2025-06-30T22:00:00.000000000Z", shards},
		{"reversed", to, from, "", "", 0},
		{"empty", from, from, "", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &shadowAPI{}
			s, _ := NewShadow(api, "p-")
			got, err := s.Recommendations(context.Background(), "acme", tt.from, tt.to)
			if err != nil || len(got) != 0 {
				t.Fatalf("%v, %v", got, err)
			}
			if len(api.queries) != tt.queries {
				t.Fatalf("%d queries, want %d", len(api.queries), tt.queries)
			}
			pks := map[string]bool{}
			for _, q := range api.queries {
				pks[str(q.ExpressionAttributeValues[":pk"])] = true
				lo, hi := str(q.ExpressionAttributeValues[":lo"]), str(q.ExpressionAttributeValues[":hi"])
				if lo != tt.lo || hi != tt.hi || aws.ToString(q.TableName) != "p-contacts" || !aws.ToBool(q.ConsistentRead) {
					t.Errorf("query %s on %s [%s, %s], want [%s, %s] on p-contacts, consistent", str(q.ExpressionAttributeValues[":pk"]),
						aws.ToString(q.TableName), lo, hi, tt.lo, tt.hi)
				}
			}
			if tt.queries > 0 && (len(pks) != shards || !pks["T#acme#SHADOW#0"] || !pks["T#acme#SHADOW#15"]) {
				t.Errorf("partitions %v, want T#acme#SHADOW#0..15", pks)
			}
		})
	}
}

func TestNewShadowRefusesNil(t *testing.T) {
	if _, err := NewShadow(nil, "recoup-"); err == nil {
		t.Error("nil client accepted")
	}
}

// integrationShadow returns a pilot store over fresh tables in DynamoDB
// Local, paging every few items, and the raw client.
func integrationShadow(t *testing.T) (*Shadow, *dynamodb.Client, string) {
	t.Helper()
	client, prefix := localtest.DynamoDB(t)
	if _, err := EnsureTables(context.Background(), client, prefix); err != nil {
		t.Fatal(err)
	}
	s, err := NewShadow(client, prefix)
	if err != nil {
		t.Fatal(err)
	}
	s.pageSize = 3
	return s, client, prefix
}

// TestIntegrationShadowStoreContract runs the store contract that the
// in-memory store also passes, with pages of three items.
func TestIntegrationShadowStoreContract(t *testing.T) {
	s, _, _ := integrationShadow(t)
	shadowtest.Run(t, func(*testing.T) shadow.Log { return s })
}

// TestIntegrationShadowItems checks the stored keys against TABLES.md
// (H13): the customer's shard, the time in the sort key, no TTL, no index.
func TestIntegrationShadowItems(t *testing.T) {
	s, client, prefix := integrationShadow(t)
	ctx := context.Background()
	at := time.Date(2025, 6, 2, 9, 0, 0, 5, time.UTC)
	r := shadowtest.Recommendation("acme", "C1", at)
	a := shadowtest.TeamAction("acme", "C1", at.Add(time.Hour), strategy.ActionCall, consent.Voice, "col-7")
	if _, err := s.PutRecommendation(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutTeamAction(ctx, a); err != nil {
		t.Fatal(err)
	}
	out, err := client.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(prefix + ContactsTable),
		KeyConditionExpression: aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: shadowShardPK("acme", shard("C1"))},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, it := range out.Items {
		keys = append(keys, str(it["PK"])+" "+str(it["SK"])+" "+str(it["type"]))
		for _, attr := range []string{"expires_at", "GSI1PK", "GSI1SK"} {
			if _, ok := it[attr]; ok {
				t.Errorf("item %s has %s", str(it["SK"]), attr)
			}
		}
	}
	pk := "T#acme#SHADOW#" + strconv.Itoa(shard("C1"))
	want := []string{
		pk + " REC#2025-06-02T09:00:00.000000005Z#" + r.ID + " shadow_recommendation",
		pk + " TEAM#2025-06-02T10:00:00.000000005Z#" + a.ID + " shadow_team_action",
	}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
}

// TestIntegrationShadowRecorderRetried runs the Shadow step twice on one
// input, as Step Functions does when the first answer is lost: one item.
func TestIntegrationShadowRecorderRetried(t *testing.T) {
	s, _, _ := integrationShadow(t)
	ctx := context.Background()
	tenant := ledger.TenantID("acme")
	now := time.Date(2025, 6, 2, 9, 0, 3, 0, time.UTC)
	rc, err := shadow.NewRecorder(s, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	in := map[string]any{
		"tenant": tenant, "customer": "C7", "execution": shadowtest.Execution(tenant, "C7"),
		"decision": map[string]any{"tenant": tenant, "customer": "C7", "outcome": "act", "action": "call", "channel": "voice",
			"route": "act", "requires_approval": false, "reason": "call after two reminders",
			"trace": map[string]any{"facts": map[string]any{"now": "2025-06-02T09:00:00Z"}}},
		"draft": map[string]any{"channel": "voice", "body": "Call script", "source": "template"},
	}
	raw, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	first, err := rc.Handle(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(30 * time.Second)
	second, err := rc.Handle(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Recorded || second.Recorded || first.Recommendation != second.Recommendation {
		t.Errorf("first %+v, retry %+v; want one recording under one id", first, second)
	}
	got, err := s.Recommendations(ctx, tenant, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !got[0].RecordedAt.Equal(time.Date(2025, 6, 2, 9, 0, 3, 0, time.UTC)) || got[0].Draft == nil {
		t.Errorf("stored %+v; want the first try's recommendation with its draft", got)
	}
}
