package approval

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/recoup-dev/recoup/shared/ledger"
)

// MaxRequestBytes bounds a decision request's body.
const MaxRequestBytes = 64 << 10

// TenantFunc says which tenant an API request acts for. named is the tenant
// the request itself names (?tenant= or the body's "tenant"), "" when it
// names none. An error is a *FieldError (400) or a *ForbiddenError (403).
type TenantFunc func(req events.APIGatewayProxyRequest, named string) (ledger.TenantID, error)

// TenantFromRequest trusts the tenant the request names. It is for the local
// stack, where no authorizer runs; a deployment uses TenantFromClaims, since
// a client must not pick its tenant.
func TenantFromRequest(_ events.APIGatewayProxyRequest, named string) (ledger.TenantID, error) {
	if named == "" {
		return "", invalid("tenant", "is required")
	}
	t := ledger.TenantID(named)
	if err := t.Validate(); err != nil {
		return "", invalid("tenant", "must be a tenant id: 1 to 128 bytes without '#' or control characters")
	}
	return t, nil
}

// ErrForbidden: the caller may not act for the tenant (a *ForbiddenError
// says why).
var ErrForbidden = errors.New("approval: forbidden")

// ForbiddenError refuses a caller the tenant it asks for. Field names the
// request field at fault, "" when the caller's token is. Problems name the
// claim but never quote tenant ids or claim values.
type ForbiddenError struct {
	Field   string
	Problem string
}

func (e *ForbiddenError) Error() string { return "approval: forbidden: " + e.message() }

// message is what the response says: the problem, after the field if any.
func (e *ForbiddenError) message() string {
	if e.Field == "" {
		return e.Problem
	}
	return e.Field + ": " + e.Problem
}

// Unwrap makes errors.Is(err, ErrForbidden) true.
func (e *ForbiddenError) Unwrap() error { return ErrForbidden }

func forbidden(field, problem string) *ForbiddenError {
	return &ForbiddenError{Field: field, Problem: problem}
}

// TenantFromClaims takes the tenant from claim (the deployment's is
// "custom:tenant") of the ID token API Gateway's Cognito user pool authorizer
// verified, which a REST API passes in req.RequestContext.Authorizer["claims"].
// A request may still name a tenant, but only the claim's. If only lists
// tenants the API serves those alone: a deployment serves its own tenant, so
// a valid token from a user pool shared with other tenants is refused too.
//
// Every refusal is 403, never 401: the authorizer answers 401 itself before
// the function runs, so a request that reaches it without the claim is
// authenticated yet not entitled to a tenant (or the route lacks the
// authorizer), and another token would not help.
func TenantFromClaims(claim string, only ...ledger.TenantID) TenantFunc {
	return func(req events.APIGatewayProxyRequest, named string) (ledger.TenantID, error) {
		t, err := claimedTenant(req, claim)
		if err != nil {
			return "", err
		}
		if len(only) > 0 && !slices.Contains(only, t) {
			return "", forbidden("", "the caller's tenant is not served by this API")
		}
		if named != "" && named != string(t) {
			return "", forbidden("tenant", "is not the caller's tenant")
		}
		return t, nil
	}
}

// claimOf reads one claim the authorizer verified, "" when the token has
// none. Claims arrive as strings; the map[string]string case covers
// requests built in Go rather than decoded from API Gateway's JSON.
func claimOf(req events.APIGatewayProxyRequest, claim string) (string, error) {
	var value any
	switch claims := req.RequestContext.Authorizer["claims"].(type) {
	case map[string]any:
		value = claims[claim]
	case map[string]string:
		value = claims[claim]
	default:
		return "", forbidden("", "the request carries no authorizer claims")
	}
	s, _ := value.(string)
	return s, nil
}

// claimedTenant reads the tenant claim.
func claimedTenant(req events.APIGatewayProxyRequest, claim string) (ledger.TenantID, error) {
	s, err := claimOf(req, claim)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", forbidden("", "the caller's token has no "+claim+" claim")
	}
	t := ledger.TenantID(s)
	if t.Validate() != nil {
		return "", forbidden("", "the caller's "+claim+" claim is not a tenant id")
	}
	return t, nil
}

// API is the collectors' approval API behind an API Gateway REST API (Lambda
// proxy integration, payload format 1.0):
//
//	GET  /approvals?tenant=T[&limit=n][&after=cursor]  pending requests, oldest first
//	GET  /approvals/{id}?tenant=T                      one request
//	POST /approvals/{id}/decision                      body {tenant, verdict, by, note, draft: {subject, body}}
//
// Status codes: 200 with the request (or page), 400 for a malformed
// request (the body names the field), 403 the caller may not act for the
// tenant (see TenantFromClaims), 404 no such approval or route, 405,
// 409 already decided otherwise (the body holds the verdict), 410 the
// execution no longer waits, 413 body too large, 422 the edited draft fails
// the guardrails (the body lists the violations), 503 a dependency is busy
// (retry; the same verdict is idempotent), 500 anything else.
type API struct {
	svc      *Service
	TenantOf TenantFunc
	// ActorOf, when set, says who decides: the verdict is recorded under
	// the signed-in collector, and a body naming someone else ("by") is
	// refused. Unset (the local stack), the body's "by" stands.
	ActorOf ActorFunc
	Log     *slog.Logger
}

// ActorFunc says who is acting, from the request.
type ActorFunc func(req events.APIGatewayProxyRequest) (string, error)

// ActorFromClaims takes the collector from claim of the token the Cognito
// authorizer verified (the deployment's is "email"), so the audit trail
// names the person who signed in, not a name a client typed. With
// verified (the deployment's "email_verified"), that claim must be "true":
// an address nobody confirmed names nobody.
func ActorFromClaims(claim, verified string) ActorFunc {
	return func(req events.APIGatewayProxyRequest) (string, error) {
		s, err := claimOf(req, claim)
		if err != nil {
			return "", err
		}
		if s == "" || !utf8.ValidString(s) {
			return "", forbidden("", "the caller's token has no usable "+claim+" claim")
		}
		if verified != "" {
			if ok, _ := claimOf(req, verified); ok != "true" {
				return "", forbidden("", "the caller's "+claim+" is not verified")
			}
		}
		return s, nil
	}
}

// NewAPI returns the API over svc, taking the tenant from the request
// (TenantFromRequest); set TenantOf behind an authorizer.
func NewAPI(svc *Service) (*API, error) {
	if svc == nil {
		return nil, errors.New("approval: nil service")
	}
	return &API{svc: svc, TenantOf: TenantFromRequest, Log: slog.New(slog.DiscardHandler)}, nil
}

// Handle serves one API Gateway request. It never returns an error: every
// failure is a response.
func (a *API) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	method := req.HTTPMethod
	id, action, ok := routeOf(req)
	var resp events.APIGatewayProxyResponse
	switch {
	case !ok:
		resp = reply(http.StatusNotFound, errorBody{Error: "no such route"})
	case action == "list" && method == http.MethodGet:
		resp = a.list(ctx, req)
	case action == "one" && method == http.MethodGet:
		resp = a.one(ctx, req, id)
	case action == "decision" && method == http.MethodPost:
		resp = a.decide(ctx, req, id)
	default:
		allow := http.MethodGet
		if action == "decision" {
			allow = http.MethodPost
		}
		resp = reply(http.StatusMethodNotAllowed, errorBody{Error: "method not allowed"})
		resp.Headers["Allow"] = allow
	}
	a.Log.Info("approval api", "method", method, "route", action, "approval", id, "status", resp.StatusCode)
	return resp, nil
}

// routeOf finds the route in the path, wherever the API is mounted (a stage
// or base path may come first: requestContext.path, the fallback, holds the
// stage).
func routeOf(req events.APIGatewayProxyRequest) (id, action string, ok bool) {
	path := req.Path
	if path == "" {
		path = req.RequestContext.Path
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i := len(segs) - 1; i >= 0 && i >= len(segs)-3; i-- {
		if segs[i] != "approvals" {
			continue
		}
		rest := segs[i+1:]
		switch {
		case len(rest) == 0:
			return "", "list", true
		case len(rest) == 1:
			return rest[0], "one", true
		case len(rest) == 2 && rest[1] == "decision":
			return rest[0], "decision", true
		}
	}
	return "", "", false
}

func (a *API) list(ctx context.Context, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	q := req.QueryStringParameters
	tenant, err := a.TenantOf(req, q["tenant"])
	if err != nil {
		return a.failure(err)
	}
	limit := 0
	if s := q["limit"]; s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit <= 0 {
			return a.failure(invalid("limit", "must be between 1 and %d", MaxPageSize))
		}
	}
	page, err := a.svc.Pending(ctx, tenant, q["after"], limit)
	if err != nil {
		return a.failure(err)
	}
	return reply(http.StatusOK, page)
}

func (a *API) one(ctx context.Context, req events.APIGatewayProxyRequest, id string) events.APIGatewayProxyResponse {
	tenant, err := a.TenantOf(req, req.QueryStringParameters["tenant"])
	if err != nil {
		return a.failure(err)
	}
	r, err := a.svc.Get(ctx, tenant, id)
	if err != nil {
		return a.failure(err)
	}
	return reply(http.StatusOK, r)
}

func (a *API) decide(ctx context.Context, req events.APIGatewayProxyRequest, id string) events.APIGatewayProxyResponse {
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(req.Body); err != nil {
			return a.failure(invalid("body", "is not valid base64"))
		}
	}
	if len(body) > MaxRequestBytes {
		return reply(http.StatusRequestEntityTooLarge, errorBody{Error: fmt.Sprintf("the body is larger than %d bytes", MaxRequestBytes)})
	}
	named, v, err := parseDecision(body)
	if err != nil {
		return a.failure(err)
	}
	if a.ActorOf != nil {
		actor, err := a.ActorOf(req)
		if err != nil {
			return a.failure(err)
		}
		if v.By != "" && !strings.EqualFold(v.By, actor) {
			return a.failure(forbidden("by", "is not the signed-in collector"))
		}
		v.By = actor
	}
	if err := v.Validate(); err != nil {
		return a.failure(err)
	}
	tenant, err := a.TenantOf(req, named)
	if err != nil {
		return a.failure(err)
	}
	r, err := a.svc.Decide(ctx, tenant, id, v)
	if err != nil {
		return a.failure(err)
	}
	return reply(http.StatusOK, r)
}

// DecisionBody is what a collector posts.
type DecisionBody struct {
	Tenant  string     `json:"tenant"`
	Verdict Kind       `json:"verdict"`
	By      string     `json:"by"`
	Note    string     `json:"note,omitempty"`
	Draft   *DraftEdit `json:"draft,omitempty"`
}

// DraftEdit is a collector's text; the channel stays the drafted one.
type DraftEdit struct {
	Subject string `json:"subject,omitempty"`
	Body    string `json:"body"`
}

// ParseDecisionBody reads a decision body strictly (one JSON object, no
// unknown fields) and returns the tenant it names and the verdict, checked
// with Verdict.Validate. Errors are *FieldError naming the field.
func ParseDecisionBody(data []byte) (tenant string, v Verdict, err error) {
	if tenant, v, err = parseDecision(data); err != nil {
		return "", Verdict{}, err
	}
	if err := v.Validate(); err != nil {
		return "", Verdict{}, err
	}
	return tenant, v, nil
}

// parseDecision is ParseDecisionBody before the verdict is validated, so
// the API can fill in who decides from the caller's token first.
func parseDecision(data []byte) (tenant string, v Verdict, err error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return "", Verdict{}, invalid("body", "is empty: want a JSON object")
	}
	if trimmed[0] != '{' {
		return "", Verdict{}, invalid("body", "must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	var b DecisionBody
	if err := dec.Decode(&b); err != nil {
		return "", Verdict{}, bodyError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", Verdict{}, invalid("body", "has data after the JSON object")
	}
	if !utf8.ValidString(b.Tenant) {
		return "", Verdict{}, invalid("tenant", "is not valid UTF-8")
	}
	v = Verdict{Kind: b.Verdict, By: b.By, Note: b.Note}
	if b.Draft != nil {
		v.Draft = &Draft{Subject: b.Draft.Subject, Body: b.Draft.Body}
	}
	return b.Tenant, v, nil
}

// bodyError names the field a JSON decoding error is about, without
// quoting the input.
func bodyError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te) && te.Field != "":
		return invalid(te.Field, "must be a %s, not a %s", jsonType(te.Type.Kind().String()), te.Value)
	case errors.As(err, &te):
		return invalid("body", "must be a JSON object")
	case errors.As(err, &se):
		return invalid("body", "is not valid JSON (byte %d)", se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return invalid("body", "is not valid JSON (it ends early)")
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if f, uerr := strconv.Unquote(name); uerr == nil && f != "" && len(f) <= 64 && printable(f) {
			return invalid(f, "is not a known field (want tenant, verdict, by, note, draft.subject, draft.body)")
		}
		return invalid("body", "has an unknown field")
	}
	return invalid("body", "is not a decision")
}

func jsonType(kind string) string {
	switch kind {
	case "struct", "map":
		return "object"
	case "ptr":
		return "object"
	}
	return kind
}

type errorBody struct {
	Error      string   `json:"error"`
	Field      string   `json:"field,omitempty"`
	Violations []string `json:"violations,omitempty"`
	Verdict    *Verdict `json:"verdict,omitempty"`
}

// failure maps a service error to its response. Only 500s are logged with
// their error, which names ids, never texts, and 403s with their reason, so a
// misconfigured authorizer shows in the logs rather than only to the client.
func (a *API) failure(err error) events.APIGatewayProxyResponse {
	var fe *FieldError
	var fb *ForbiddenError
	var ge *GuardrailError
	var de *DecidedError
	switch {
	case errors.As(err, &fe):
		return reply(http.StatusBadRequest, errorBody{Error: fe.Field + ": " + fe.Problem, Field: fe.Field})
	case errors.As(err, &fb):
		a.Log.Warn("approval api refused", "field", fb.Field, "reason", fb.Problem)
		return reply(http.StatusForbidden, errorBody{Error: fb.message(), Field: fb.Field})
	case errors.Is(err, ErrNotFound):
		return reply(http.StatusNotFound, errorBody{Error: "no such approval"})
	case errors.As(err, &de):
		return reply(http.StatusConflict, errorBody{Error: "already decided with another verdict", Verdict: &de.Verdict})
	case errors.Is(err, ErrExpired):
		return reply(http.StatusGone, errorBody{Error: "the execution no longer waits for a verdict (timed out or ended)"})
	case errors.As(err, &ge):
		return reply(http.StatusUnprocessableEntity, errorBody{Error: "the edited draft fails the guardrails", Violations: ge.Violations})
	case errors.Is(err, ErrInProgress):
		r := reply(http.StatusServiceUnavailable, errorBody{Error: "the same verdict is being delivered; retry"})
		r.Headers["Retry-After"] = "1"
		return r
	case errors.Is(err, ErrTransient):
		r := reply(http.StatusServiceUnavailable, errorBody{Error: "temporarily unavailable; retry"})
		r.Headers["Retry-After"] = "2"
		return r
	}
	a.Log.Error("approval api failed", "err", err)
	return reply(http.StatusInternalServerError, errorBody{Error: "internal error"})
}

func reply(status int, body any) events.APIGatewayProxyResponse {
	b, err := json.Marshal(body)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal error"}`)
	}
	return events.APIGatewayProxyResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"},
		Body:       string(b),
	}
}

// Transient is a registration failure worth retrying (a throttled or
// unavailable store). The Lambda runtime reports an error's type name, so
// the state machine's Retry can match "Transient", as the other cycle steps
// do.
type Transient struct{ Err error }

func (t Transient) Error() string { return "transient: " + t.Err.Error() }
func (t Transient) Unwrap() error { return t.Err }

// RegistrationHandler is the Lambda handler of the Approval state
// (lambda:invoke.waitForTaskToken): it stores the request and returns; the
// execution waits until the approve API resumes it. Calling it twice for one
// token stores one request.
func RegistrationHandler(svc *Service) func(context.Context, Payload) error {
	return func(ctx context.Context, p Payload) error {
		_, err := svc.Register(ctx, p)
		if errors.Is(err, ErrTransient) {
			return Transient{Err: err}
		}
		return err
	}
}
