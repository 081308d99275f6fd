package approval_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/shared/approval"
	"github.com/recoup-dev/recoup/shared/approval/approvaltest"
	"github.com/recoup-dev/recoup/shared/ledger"
)

// request is what a REST API's Lambda proxy integration passes: the
// resource template and path parameters as well as the actual path, which
// the API routes on.
func request(method, path string, query map[string]string, body string) events.APIGatewayProxyRequest {
	req := events.APIGatewayProxyRequest{HTTPMethod: method, Path: path, QueryStringParameters: query, Body: body}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if len(segs) >= 2 && segs[0] == "approvals" {
		req.PathParameters = map[string]string{"id": segs[1]}
		req.Resource = "/approvals/{id}" + strings.TrimPrefix(path, "/approvals/"+segs[1])
	} else {
		req.Resource = path
	}
	return req
}

type apiFixture struct {
	*fixture
	api  *approval.API
	logs *bytes.Buffer
}

func newAPI(t *testing.T) *apiFixture {
	t.Helper()
	f := newFixture(t)
	logs := &bytes.Buffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.svc.Log = log
	api, err := approval.NewAPI(f.svc)
	if err != nil {
		t.Fatal(err)
	}
	api.Log = log
	return &apiFixture{fixture: f, api: api, logs: logs}
}

func (a *apiFixture) do(t *testing.T, req events.APIGatewayProxyRequest) (int, map[string]any, events.APIGatewayProxyResponse) {
	t.Helper()
	resp, err := a.api.Handle(context.Background(), req)
	if err != nil {
		t.Fatalf("Handle returned an error: %v", err)
	}
	if ct := resp.Headers["Content-Type"]; ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		t.Fatalf("body %q: %v", resp.Body, err)
	}
	return resp.StatusCode, body, resp
}

func TestAPIListsAndShowsPendingApprovals(t *testing.T) {
	a := newAPI(t)
	first := a.register(t, "acme", "token-1")
	a.clock.Advance(time.Minute)
	second := a.register(t, "acme", "token-2")
	a.register(t, "other", "token-3")

	status, body, resp := a.do(t, request(http.MethodGet, "/approvals", map[string]string{"tenant": "acme"}, ""))
	if status != http.StatusOK {
		t.Fatalf("list: %d %v", status, body)
	}
	var ids []string
	for _, r := range body["approvals"].([]any) {
		ids = append(ids, r.(map[string]any)["id"].(string))
	}
	if diff := cmp.Diff([]string{first.ID, second.ID}, ids); diff != "" {
		t.Errorf("listed (-want +got):\n%s", diff)
	}
	if strings.Contains(resp.Body, "token-") {
		t.Error("the listing shows task tokens")
	}
	item := body["approvals"].([]any)[0].(map[string]any)
	for _, field := range []string{"customer", "execution", "created_at", "action", "channel", "reasons", "totals", "when", "decision", "draft", "status"} {
		if _, ok := item[field]; !ok {
			t.Errorf("a listed approval lacks %s", field)
		}
	}

	status, body, _ = a.do(t, request(http.MethodGet, "/approvals", map[string]string{"tenant": "acme", "limit": "1"}, ""))
	if status != http.StatusOK || len(body["approvals"].([]any)) != 1 || body["next"] == nil {
		t.Fatalf("first page: %d %v", status, body)
	}
	status, body, _ = a.do(t, request(http.MethodGet, "/approvals", map[string]string{"tenant": "acme", "limit": "1", "after": body["next"].(string)}, ""))
	if status != http.StatusOK || body["approvals"].([]any)[0].(map[string]any)["id"] != second.ID {
		t.Errorf("second page: %d %v", status, body)
	}

	// Behind a stage or base path, with the id from the path.
	status, body, resp = a.do(t, request(http.MethodGet, "/prod/approvals/"+first.ID, map[string]string{"tenant": "acme"}, ""))
	if status != http.StatusOK || body["id"] != first.ID || body["status"] != "pending" {
		t.Errorf("one: %d %v", status, body)
	}
	if strings.Contains(resp.Body, "token-1") {
		t.Error("the approval shows its task token")
	}
}

func TestAPIStatusCodes(t *testing.T) {
	approve := `{"tenant":"acme","verdict":"approved","by":"col-7"}`
	tests := []struct {
		name   string
		setup  func(t *testing.T, a *apiFixture, id string)
		req    func(id string) events.APIGatewayProxyRequest
		status int
		field  string // named in a 400
		want   string // in the body
	}{
		{name: "approve", req: decision(approve), status: 200, want: `"resumed":true`},
		{name: "approve, base64 body", req: func(id string) events.APIGatewayProxyRequest {
			r := decision(approve)(id)
			r.Body, r.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(approve)), true
			return r
		}, status: 200},
		{name: "the same verdict twice", setup: decided(approve), req: decision(approve), status: 200, want: `"verdict":"approved"`},
		{name: "another verdict", setup: decided(approve), req: decision(`{"tenant":"acme","verdict":"rejected","by":"col-8"}`),
			status: 409, want: `"by":"col-7"`},
		{name: "execution ended", setup: func(_ *testing.T, a *apiFixture, _ string) { a.resumer.End("token-1") },
			req: decision(approve), status: 410},
		{name: "edit fails the guardrails",
			req:    decision(`{"tenant":"acme","verdict":"edited","by":"col-7","draft":{"subject":"S","body":"Pay or face arrest."}}`),
			status: 422, want: `"violations":["banned_phrase: threat of arrest"]`},
		{name: "edit passes", req: decision(`{"tenant":"acme","verdict":"edited","by":"col-7","draft":{"subject":"S","body":"Dear Pat"}}`),
			status: 200, want: `"draft":{"channel":"email","subject":"S","body":"Dear Pat"}`},
		{name: "throttled", setup: func(_ *testing.T, a *apiFixture, _ string) {
			a.resumer.Before = func(string) error { return fmt.Errorf("throttled: %w", approval.ErrTransient) }
		}, req: decision(approve), status: 503},
		{name: "bad JSON", req: decision(`{"tenant":`), status: 400, field: "body"},
		{name: "not an object", req: decision(`["approved"]`), status: 400, field: "body"},
		{name: "unknown verdict", req: decision(`{"tenant":"acme","verdict":"ok","by":"col-7"}`), status: 400, field: "verdict"},
		{name: "verdict of the wrong type", req: decision(`{"tenant":"acme","verdict":1,"by":"col-7"}`), status: 400, field: "verdict"},
		{name: "draft body of the wrong type", req: decision(`{"tenant":"acme","verdict":"edited","by":"c","draft":{"body":2}}`), status: 400, field: "draft.body"},
		{name: "unknown field", req: decision(`{"tenant":"acme","verdict":"approved","by":"col-7","channel":"sms"}`), status: 400, field: "channel"},
		{name: "no collector", req: decision(`{"tenant":"acme","verdict":"approved"}`), status: 400, field: "by"},
		{name: "no tenant", req: decision(`{"verdict":"approved","by":"col-7"}`), status: 400, field: "tenant"},
		{name: "trailing data", req: decision(approve + `{}`), status: 400, field: "body"},
		{name: "too large", req: decision(`{"note":"` + strings.Repeat("a", approval.MaxRequestBytes) + `"}`), status: 413},
		{name: "another tenant's approval", req: decision(`{"tenant":"other","verdict":"approved","by":"col-7"}`), status: 404},
		{name: "unknown approval", req: func(string) events.APIGatewayProxyRequest { return decision(approve)(approval.IDOf("nope")) }, status: 404},
		{name: "malformed id", req: func(string) events.APIGatewayProxyRequest { return decision(approve)("ZZ") }, status: 400, field: "id"},
		{name: "list without a tenant", req: func(string) events.APIGatewayProxyRequest {
			return request(http.MethodGet, "/approvals", nil, "")
		}, status: 400, field: "tenant"},
		{name: "list with a bad limit", req: func(string) events.APIGatewayProxyRequest {
			return request(http.MethodGet, "/approvals", map[string]string{"tenant": "acme", "limit": "many"}, "")
		}, status: 400, field: "limit"},
		{name: "GET the decision", req: func(id string) events.APIGatewayProxyRequest {
			return request(http.MethodGet, "/approvals/"+id+"/decision", nil, "")
		}, status: 405},
		{name: "no such route", req: func(string) events.APIGatewayProxyRequest {
			return request(http.MethodGet, "/invoices", nil, "")
		}, status: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newAPI(t)
			r := a.register(t, "acme", "token-1")
			if tc.setup != nil {
				tc.setup(t, a, r.ID)
			}
			status, body, resp := a.do(t, tc.req(r.ID))
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, resp.Body)
			}
			if tc.field != "" && body["field"] != tc.field {
				t.Errorf("field %v, want %s: %s", body["field"], tc.field, resp.Body)
			}
			if tc.want != "" && !strings.Contains(resp.Body, tc.want) {
				t.Errorf("body %s lacks %s", resp.Body, tc.want)
			}
			if status == 503 && resp.Headers["Retry-After"] == "" {
				t.Error("503 without Retry-After")
			}
			if !strings.Contains(a.logs.String(), `"msg":"approval api"`) {
				t.Errorf("no request log:\n%s", a.logs.String())
			}
			if strings.Contains(resp.Body, "token-1") || strings.Contains(a.logs.String(), "token-1") {
				t.Error("the token is in the response or the logs")
			}
			for _, secret := range []string{"Dear Pat", "arrest", "C1"} {
				if strings.Contains(a.logs.String(), secret) {
					t.Errorf("the logs quote %q:\n%s", secret, a.logs.String())
				}
			}
		})
	}
}

func decision(body string) func(id string) events.APIGatewayProxyRequest {
	return func(id string) events.APIGatewayProxyRequest {
		return request(http.MethodPost, "/approvals/"+id+"/decision", nil, body)
	}
}

func decided(body string) func(t *testing.T, a *apiFixture, id string) {
	return func(t *testing.T, a *apiFixture, id string) {
		t.Helper()
		if status, _, resp := a.do(t, decision(body)(id)); status != 200 {
			t.Fatalf("setup decision: %d %s", status, resp.Body)
		}
		a.clock.Advance(time.Minute)
	}
}

// claims is the request context a REST API's Cognito authorizer passes,
// decoded as the Lambda runtime decodes it.
func claims(c map[string]any) map[string]any { return map[string]any{"claims": c} }

func TestTenantFromClaims(t *testing.T) {
	acme := claims(map[string]any{"custom:tenant": "acme", "sub": "u-1"})
	tests := []struct {
		name       string
		authorizer map[string]any
		only       []ledger.TenantID
		req        func(id string) events.APIGatewayProxyRequest
		status     int
		field      string // named in a 403
		wantID     bool   // the body is the registered approval
	}{
		{name: "claim, no named tenant: the claim's", authorizer: acme, req: get(""), status: 200, wantID: true},
		{name: "claim and the same named tenant", authorizer: acme, req: get("acme"), status: 200, wantID: true},
		{name: "claim, decision naming the same tenant", authorizer: acme,
			req: decision(`{"tenant":"acme","verdict":"approved","by":"col-7"}`), status: 200, wantID: true},
		{name: "claim, decision naming no tenant", authorizer: acme,
			req: decision(`{"verdict":"approved","by":"col-7"}`), status: 200, wantID: true},
		{name: "claims as strings", authorizer: map[string]any{"claims": map[string]string{"custom:tenant": "acme"}}, req: get(""), status: 200, wantID: true},
		{name: "named tenant differs", authorizer: acme, req: get("other"), status: 403, field: "tenant"},
		{name: "body's tenant differs", authorizer: acme,
			req: decision(`{"tenant":"other","verdict":"approved","by":"col-7"}`), status: 403, field: "tenant"},
		{name: "another tenant's approval", authorizer: claims(map[string]any{"custom:tenant": "other"}), req: get(""), status: 404},
		{name: "no authorizer", req: get(""), status: 403},
		{name: "no claims", authorizer: map[string]any{"principalId": "u-1"}, req: get(""), status: 403},
		{name: "no tenant claim", authorizer: claims(map[string]any{"sub": "u-1"}), req: get(""), status: 403},
		{name: "empty tenant claim", authorizer: claims(map[string]any{"custom:tenant": ""}), req: get(""), status: 403},
		{name: "tenant claim not a string", authorizer: claims(map[string]any{"custom:tenant": 7}), req: get(""), status: 403},
		{name: "tenant claim not a tenant id", authorizer: claims(map[string]any{"custom:tenant": "acme#x"}), req: get("acme#x"), status: 403},
		{name: "restricted, the tenant", authorizer: acme, only: []ledger.TenantID{"acme"}, req: get(""), status: 200, wantID: true},
		{name: "restricted, another tenant", authorizer: claims(map[string]any{"custom:tenant": "other"}), only: []ledger.TenantID{"acme"},
			req: get("other"), status: 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newAPI(t)
			r := a.register(t, "acme", "token-1")
			a.api.TenantOf = approval.TenantFromClaims("custom:tenant", tc.only...)
			req := tc.req(r.ID)
			req.RequestContext.Authorizer = tc.authorizer
			status, body, resp := a.do(t, req)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, resp.Body)
			}
			if got, _ := body["field"].(string); got != tc.field {
				t.Errorf("field %q, want %q: %s", got, tc.field, resp.Body)
			}
			if tc.wantID && body["id"] != r.ID {
				t.Errorf("body %s, want approval %s", resp.Body, r.ID)
			}
			if status == 403 && !strings.Contains(a.logs.String(), `"msg":"approval api refused"`) {
				t.Errorf("a refusal without its reason in the logs:\n%s", a.logs.String())
			}
		})
	}
}

func TestTenantFromClaimsListsTheClaimsTenant(t *testing.T) {
	a := newAPI(t)
	mine := a.register(t, "acme", "token-1")
	a.register(t, "other", "token-2")
	a.api.TenantOf = approval.TenantFromClaims("custom:tenant")
	req := request(http.MethodGet, "/approvals", nil, "")
	req.RequestContext.Authorizer = claims(map[string]any{"custom:tenant": "acme"})
	status, body, resp := a.do(t, req)
	if status != 200 {
		t.Fatalf("status %d: %s", status, resp.Body)
	}
	var ids []string
	for _, r := range body["approvals"].([]any) {
		ids = append(ids, r.(map[string]any)["id"].(string))
	}
	if diff := cmp.Diff([]string{mine.ID}, ids); diff != "" {
		t.Errorf("listed (-want +got):\n%s", diff)
	}
}

func TestTenantFromClaimsReturns(t *testing.T) {
	of := approval.TenantFromClaims("custom:tenant", "acme")
	tests := []struct {
		name   string
		claims map[string]any
		named  string
		want   ledger.TenantID
		err    *approval.ForbiddenError
	}{
		{name: "the claim's", claims: map[string]any{"custom:tenant": "acme"}, want: "acme"},
		{name: "named the claim's", claims: map[string]any{"custom:tenant": "acme"}, named: "acme", want: "acme"},
		{name: "named another", claims: map[string]any{"custom:tenant": "acme"}, named: "other",
			err: &approval.ForbiddenError{Field: "tenant", Problem: "is not the caller's tenant"}},
		{name: "no claim", claims: map[string]any{}, err: &approval.ForbiddenError{Problem: "the caller's token has no custom:tenant claim"}},
		{name: "not served", claims: map[string]any{"custom:tenant": "other"}, err: &approval.ForbiddenError{Problem: "the caller's tenant is not served by this API"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var req events.APIGatewayProxyRequest
			req.RequestContext.Authorizer = claims(tc.claims)
			got, err := of(req, tc.named)
			if got != tc.want {
				t.Errorf("tenant %q, want %q", got, tc.want)
			}
			if tc.err == nil {
				if err != nil {
					t.Errorf("error %v", err)
				}
				return
			}
			var fe *approval.ForbiddenError
			if !errors.As(err, &fe) || !errors.Is(err, approval.ErrForbidden) {
				t.Fatalf("error %v (%T), want a *ForbiddenError", err, err)
			}
			if diff := cmp.Diff(tc.err, fe); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func get(tenant string) func(id string) events.APIGatewayProxyRequest {
	return func(id string) events.APIGatewayProxyRequest {
		var q map[string]string
		if tenant != "" {
			q = map[string]string{"tenant": tenant}
		}
		return request(http.MethodGet, "/approvals/"+id, q, "")
	}
}

// failingStore fails every call transiently.
type failingStore struct{ approval.Store }

func (failingStore) Put(context.Context, approval.Request) (approval.Request, bool, error) {
	return approval.Request{}, false, fmt.Errorf("ProvisionedThroughputExceededException: %w", approval.ErrTransient)
}

func TestRegistrationHandler(t *testing.T) {
	ctx := context.Background()
	res := approvaltest.NewResumer()
	store := approvaltest.NewMemory()
	svc, err := approval.NewService(store, res, nil)
	if err != nil {
		t.Fatal(err)
	}
	register := approval.RegistrationHandler(svc)
	for range 2 { // the Lambda invoked twice for one token
		if err := register(ctx, approvaltest.Payload("acme", "token-1")); err != nil {
			t.Fatal(err)
		}
	}
	if store.Len() != 1 {
		t.Errorf("%d requests stored, want 1", store.Len())
	}
	p := approvaltest.Payload("acme", "token-2")
	p.Customer = ""
	if err := register(ctx, p); !errors.Is(err, approval.ErrInvalid) {
		t.Errorf("invalid payload: %v", err)
	}

	// A throttled store: the error is named Transient, which the state
	// machine's Retry can match.
	svc, _ = approval.NewService(failingStore{store}, res, nil)
	err = approval.RegistrationHandler(svc)(ctx, approvaltest.Payload("acme", "token-3"))
	var tr approval.Transient
	if !errors.As(err, &tr) || !errors.Is(err, approval.ErrTransient) {
		t.Errorf("throttled: %v (%T), want approval.Transient", err, err)
	}
}

func TestActorFromClaims(t *testing.T) {
	withEmail := claims(map[string]any{"custom:tenant": "acme", "email": "ana@acme.example", "email_verified": "true"})
	tests := []struct {
		name       string
		authorizer map[string]any
		body       string
		status     int
		field      string
		by         string // recorded on the verdict
	}{
		{name: "no by: the signed-in collector", authorizer: withEmail, body: `{"verdict":"approved"}`, status: 200, by: "ana@acme.example"},
		{name: "by is the signed-in collector", authorizer: withEmail, body: `{"verdict":"approved","by":"ana@acme.example"}`, status: 200, by: "ana@acme.example"},
		{name: "by differs only in case", authorizer: withEmail, body: `{"verdict":"approved","by":"Ana@Acme.example"}`, status: 200, by: "ana@acme.example"},
		{name: "by names someone else", authorizer: withEmail, body: `{"verdict":"approved","by":"boss@acme.example"}`, status: 403, field: "by"},
		{name: "e-mail not verified", authorizer: claims(map[string]any{"custom:tenant": "acme", "email": "ana@acme.example", "email_verified": "false"}),
			body: `{"verdict":"approved"}`, status: 403},
		{name: "token without the claim", authorizer: claims(map[string]any{"custom:tenant": "acme"}), body: `{"verdict":"approved","by":"x"}`, status: 403},
		{name: "no authorizer", body: `{"verdict":"approved","by":"x"}`, status: 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newAPI(t)
			r := a.register(t, "acme", "token-1")
			a.api.TenantOf = approval.TenantFromClaims("custom:tenant")
			a.api.ActorOf = approval.ActorFromClaims("email", "email_verified")
			req := decision(tc.body)(r.ID)
			req.RequestContext.Authorizer = tc.authorizer
			status, body, resp := a.do(t, req)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, resp.Body)
			}
			if got, _ := body["field"].(string); got != tc.field {
				t.Errorf("field %q, want %q: %s", got, tc.field, resp.Body)
			}
			if tc.status != 200 {
				return
			}
			v, _ := body["verdict"].(map[string]any)
			if got, _ := v["by"].(string); got != tc.by {
				t.Errorf("verdict by %q, want %q: %s", got, tc.by, resp.Body)
			}
		})
	}
}
