package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/recoup-dev/recoup/infra/local/localtest"
	"github.com/recoup-dev/recoup/shared/approval"
	"github.com/recoup-dev/recoup/shared/approval/approvaltest"
	"github.com/recoup-dev/recoup/shared/ledger"
)

// integrationApprovals returns an approval store over fresh tables in
// DynamoDB Local, and the raw client to look at its items.
func integrationApprovals(t *testing.T) (*Approvals, *dynamodb.Client, string) {
	t.Helper()
	client, prefix := localtest.DynamoDB(t)
	if _, err := EnsureTables(context.Background(), client, prefix); err != nil {
		t.Fatal(err)
	}
	s, err := NewApprovals(client, prefix)
	if err != nil {
		t.Fatal(err)
	}
	return s, client, prefix
}

// TestIntegrationApprovalStoreContract runs the store contract that the
// in-memory store also passes.
func TestIntegrationApprovalStoreContract(t *testing.T) {
	s, _, _ := integrationApprovals(t)
	approvaltest.Run(t, func(*testing.T) approval.Store { return s })
}

// approvalsAPI serves the approval API over the DynamoDB store and a fake
// Step Functions.
type approvalsAPI struct {
	store   *Approvals
	client  *dynamodb.Client
	prefix  string
	resumer *approvaltest.Resumer
	svc     *approval.Service
	api     *approval.API
}

func newApprovalsAPI(t *testing.T) *approvalsAPI {
	t.Helper()
	s, client, prefix := integrationApprovals(t)
	res := approvaltest.NewResumer()
	svc, err := approval.NewService(s, res, func(_ context.Context, _ approval.Request, d approval.Draft) ([]string, error) {
		if strings.Contains(d.Body, "http") {
			return []string{"link: no links"}, nil
		}
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	api, err := approval.NewAPI(svc)
	if err != nil {
		t.Fatal(err)
	}
	return &approvalsAPI{store: s, client: client, prefix: prefix, resumer: res, svc: svc, api: api}
}

func (a *approvalsAPI) register(t *testing.T, tenant ledger.TenantID, token string) string {
	t.Helper()
	a.resumer.Wait(token)
	if err := approval.RegistrationHandler(a.svc)(context.Background(), approvaltest.Payload(tenant, token)); err != nil {
		t.Fatal(err)
	}
	return approval.IDOf(token)
}

func (a *approvalsAPI) post(t *testing.T, id, body string) (int, map[string]any) {
	t.Helper()
	resp, err := a.api.Handle(context.Background(), events.APIGatewayProxyRequest{
		HTTPMethod: http.MethodPost, Path: "/approvals/" + id + "/decision", Body: body,
		Resource: "/approvals/{id}/decision", PathParameters: map[string]string{"id": id},
	})
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &out); err != nil {
		t.Fatalf("response %d %s: %v", resp.StatusCode, resp.Body, err)
	}
	return resp.StatusCode, out
}

// items returns every approval item of the tenant, raw.
func (a *approvalsAPI) item(t *testing.T, tenant ledger.TenantID, id string) map[string]types.AttributeValue {
	t.Helper()
	out, err := a.client.Query(context.Background(), &dynamodb.QueryInput{
		TableName:              aws.String(a.prefix + ContactsTable),
		KeyConditionExpression: aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: approvalPK(tenant, id)},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 1 {
		t.Fatalf("%d items for approval %s, want 1", len(out.Items), id)
	}
	return out.Items[0]
}

func TestIntegrationApprovalRegisteredTwiceIsOneItem(t *testing.T) {
	a := newApprovalsAPI(t)
	const token = "AQCEAAAAKgAAAAMAAAAAAAAAAbcd/token-twice"
	id := a.register(t, "acme", token)
	if id2 := a.register(t, "acme", token); id2 != id {
		t.Fatalf("ids %s and %s", id, id2)
	}
	it := a.item(t, "acme", id)
	if str(it["token"]) != token || str(it["status"]) != "pending" || str(it["GSI1PK"]) != "T#acme#APPROVALS" {
		t.Errorf("item: status %q GSI1PK %q token stored %v", str(it["status"]), str(it["GSI1PK"]), str(it["token"]) == token)
	}
	for name, v := range it {
		if name != "token" && strings.Contains(fmt.Sprint(v), "token-twice") {
			t.Errorf("attribute %s holds the token", name)
		}
	}
	page, err := a.svc.Pending(context.Background(), "acme", "", 0)
	if err != nil || len(page.Requests) != 1 || page.Requests[0].ID != id {
		t.Fatalf("pending: %+v, %v", page, err)
	}
}

func TestIntegrationApprovalDecisionsThroughTheAPI(t *testing.T) {
	a := newApprovalsAPI(t)
	id := a.register(t, "acme", "token-api")
	approve := `{"tenant":"acme","verdict":"approved","by":"col-7","note":"ok"}`

	status, body := a.post(t, id, approve)
	if status != http.StatusOK || body["status"] != "decided" || body["resumed"] != true {
		t.Fatalf("first decision: %d %v", status, body)
	}
	first := body["verdict"]
	status, body = a.post(t, id, approve)
	if status != http.StatusOK || fmt.Sprint(body["verdict"]) != fmt.Sprint(first) {
		t.Errorf("identical decision: %d %v, want 200 with the first verdict %v", status, body, first)
	}
	if n := len(a.resumer.Successes()); n != 1 {
		t.Errorf("%d resumes, want 1", n)
	}
	status, body = a.post(t, id, `{"tenant":"acme","verdict":"rejected","by":"col-8"}`)
	if status != http.StatusConflict || body["verdict"] == nil {
		t.Errorf("different decision: %d %v, want 409 naming the verdict", status, body)
	}
	it := a.item(t, "acme", id)
	if _, ok := it["token"]; ok {
		t.Error("the token is kept after the execution resumed")
	}
	if _, ok := it["GSI1PK"]; ok {
		t.Error("a decided request is still on the pending index")
	}

	// Guardrails: nothing is recorded.
	id2 := a.register(t, "acme", "token-edit")
	status, body = a.post(t, id2, `{"tenant":"acme","verdict":"edited","by":"col-7","draft":{"subject":"Hi","body":"pay at http://x.example"}}`)
	if status != http.StatusUnprocessableEntity || fmt.Sprint(body["violations"]) != "[link: no links]" {
		t.Errorf("bad edit: %d %v, want 422", status, body)
	}
	if st := str(a.item(t, "acme", id2)["status"]); st != "pending" {
		t.Errorf("after a refused edit the request is %s", st)
	}
	status, body = a.post(t, id2, `{"tenant":"acme","verdict":"edited","by":"col-7","draft":{"subject":"Hi","body":"Dear Pat, please pay INV-1."}}`)
	if status != http.StatusOK {
		t.Fatalf("good edit: %d %v", status, body)
	}
	got := a.resumer.Successes()
	if last := got[len(got)-1].Output; last.Kind != approval.Edited || last.Draft == nil || last.Draft.Channel != "email" || last.Draft.Body != "Dear Pat, please pay INV-1." {
		t.Errorf("resumed with %+v", last)
	}
}

func TestIntegrationApprovalEndedExecutionIsGone(t *testing.T) {
	a := newApprovalsAPI(t)
	id := a.register(t, "acme", "token-ended")
	a.resumer.End("token-ended") // the Approval state timed out
	status, body := a.post(t, id, `{"tenant":"acme","verdict":"approved","by":"col-7"}`)
	if status != http.StatusGone {
		t.Fatalf("decision on an ended execution: %d %v, want 410", status, body)
	}
	it := a.item(t, "acme", id)
	if str(it["status"]) != "expired" || str(it["expired_at"]) == "" {
		t.Errorf("item status %q expired_at %q", str(it["status"]), str(it["expired_at"]))
	}
	for _, attr := range []string{"token", "lease", "lease_until", "GSI1PK"} {
		if _, ok := it[attr]; ok {
			t.Errorf("an expired item keeps %s", attr)
		}
	}
	if status, _ := a.post(t, id, `{"tenant":"acme","verdict":"rejected","by":"col-8"}`); status != http.StatusGone {
		t.Errorf("second decision: %d, want 410", status)
	}
}

func TestIntegrationApprovalTransientResumeIsRetried(t *testing.T) {
	a := newApprovalsAPI(t)
	id := a.register(t, "acme", "token-retry")
	var mu sync.Mutex
	fail := true
	a.resumer.Before = func(string) error {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			fail = false
			return fmt.Errorf("ThrottlingException: %w", approval.ErrTransient)
		}
		return nil
	}
	approve := `{"tenant":"acme","verdict":"approved","by":"col-7"}`
	if status, body := a.post(t, id, approve); status != http.StatusServiceUnavailable {
		t.Fatalf("throttled resume: %d %v, want 503", status, body)
	}
	it := a.item(t, "acme", id)
	if str(it["status"]) != "decided" || str(it["token"]) == "" {
		t.Fatalf("after the failure: status %q, token kept %v", str(it["status"]), str(it["token"]) != "")
	}
	if _, ok := it["lease"]; ok {
		t.Error("the failed decider's lease was not released")
	}
	if status, body := a.post(t, id, approve); status != http.StatusOK || body["resumed"] != true {
		t.Fatalf("retry: %d %v", status, body)
	}
	if n := len(a.resumer.Successes()); n != 1 {
		t.Errorf("%d resumes, want 1", n)
	}
}

func TestIntegrationApprovalConcurrentDecidesResumeOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		same bool
	}{{"same verdict", true}, {"different collectors", false}} {
		t.Run(tc.name, func(t *testing.T) {
			a := newApprovalsAPI(t)
			token := "token-race-" + strings.ReplaceAll(tc.name, " ", "-")
			id := a.register(t, "acme", token)
			a.resumer.Before = func(string) error {
				time.Sleep(100 * time.Millisecond) // the winner stays inside the resume while the others arrive
				return nil
			}
			const n = 8
			errs := make([]error, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					by := "col-7"
					if !tc.same {
						by = fmt.Sprintf("col-%d", i)
					}
					<-start
					_, errs[i] = a.svc.Decide(context.Background(), "acme", id, approval.Verdict{Kind: approval.Approved, By: by})
				})
			}
			close(start)
			wg.Wait()
			won := 0
			for _, err := range errs {
				switch {
				case err == nil:
					won++
				case tc.same && errors.Is(err, approval.ErrInProgress):
				case !tc.same && errors.Is(err, approval.ErrAlreadyDecided):
				default:
					t.Errorf("unexpected: %v", err)
				}
			}
			if won == 0 || (!tc.same && won != 1) {
				t.Errorf("%d deciders succeeded", won)
			}
			if got := len(a.resumer.Successes()); got != 1 {
				t.Errorf("%d resumes, want exactly 1", got)
			}
			r, err := a.store.Get(context.Background(), "acme", id)
			if err != nil || r.Status != approval.StatusDecided || !r.Resumed {
				t.Errorf("stored: %s resumed %v, %v", r.Status, r.Resumed, err)
			}
		})
	}
}
