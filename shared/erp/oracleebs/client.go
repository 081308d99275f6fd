// Package oracleebs writes Recoup's ERP actions to Oracle E-Business Suite
// through Integrated SOA Gateway (ISG) REST services: the public PL/SQL APIs
// of TCA, JTF Notes and Tasks, Advanced Collections and Receivables, plus a
// small custom package (XX_RECOUP) for the reads EBS does not publish.
// WIRE.md is the contract it keeps; MAPPING.md holds the facts behind it.
//
// The adapter classifies every failure (erp.Error): a business error the
// API returns inside a 200 is permanent with the ERP's message; transport
// failures are transient, and the delivery reads back before writing again.
package oracleebs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/recoup-dev/recoup/shared/erp"
)

// Context is ISG's applications context, sent in every RESTHeader.
type Context struct {
	Responsibility  string `json:"Responsibility"`
	RespApplication string `json:"RespApplication"`
	SecurityGroup   string `json:"SecurityGroup"`
	NLSLanguage     string `json:"NLSLanguage"`
	OrgID           string `json:"Org_Id"`
}

// Aliases are the service aliases the tenant's administrator deployed each
// interface under; empty fields take DefaultAliases'.
type Aliases struct {
	Recoup   string // the custom XX_RECOUP package
	Profile  string // HZ_CUSTOMER_PROFILE_V2PUB
	Notes    string // JTF_NOTES_PUB
	Tasks    string // JTF_TASKS_PUB
	Promises string // IEX_PROMISES_PUB
	Disputes string // IEX_DISPUTE_PUB
	Receipts string // AR_RECEIPT_API_PUB
}

// DefaultAliases are the aliases WIRE.md assumes.
var DefaultAliases = Aliases{Recoup: "xx_recoup", Profile: "hz_cust_profile", Notes: "jtf_notes", Tasks: "jtf_tasks",
	Promises: "iex_promises", Disputes: "iex_dispute", Receipts: "ar_receipt"}

// Config configures a Client.
type Config struct {
	// BaseURL is the EBS web entry point, https://ebs.example.com:4443.
	BaseURL string
	// User and Password are the ISG integration user's credentials (from
	// Secrets Manager in AWS).
	User, Password string
	// Token logs in once (GET /webservices/rest/login) and sends the access
	// token as a cookie instead of the password on every request.
	Token   bool
	Context Context
	Aliases Aliases
	// NoteType is the JTF_NOTE_TYPE lookup code of notes; "" leaves it out.
	NoteType string
	// TaskType and TaskStatus name the task type and status of follow-ups.
	TaskType, TaskStatus string
	// Resource is the JTF resource id of the collector that owns tasks and
	// takes promises.
	Resource string
	// ReasonCode is the credit memo reason of disputes (AR lookup
	// CREDIT_MEMO_REASON).
	ReasonCode string
	// Timeout bounds one request; 30 s when zero.
	Timeout time.Duration
	// HTTP is the client; a new one when nil.
	HTTP *http.Client
}

// Client is an ISG REST client and the EBS write-back adapter.
type Client struct {
	cfg  Config
	http *http.Client

	mu    sync.Mutex
	token *http.Cookie
}

// New checks cfg and returns a client.
func New(cfg Config) (*Client, error) {
	var missing []string
	for _, f := range []struct{ name, v string }{{"BaseURL", cfg.BaseURL}, {"User", cfg.User}, {"Password", cfg.Password},
		{"Context.Responsibility", cfg.Context.Responsibility}, {"Context.RespApplication", cfg.Context.RespApplication},
		{"Context.SecurityGroup", cfg.Context.SecurityGroup}, {"Context.NLSLanguage", cfg.Context.NLSLanguage},
		{"Context.OrgID", cfg.Context.OrgID}, {"Resource", cfg.Resource}} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("oracleebs: config is missing %s", strings.Join(missing, ", "))
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	d := DefaultAliases
	for _, f := range []struct {
		v   *string
		def string
	}{{&cfg.Aliases.Recoup, d.Recoup}, {&cfg.Aliases.Profile, d.Profile},
		{&cfg.Aliases.Notes, d.Notes}, {&cfg.Aliases.Tasks, d.Tasks}, {&cfg.Aliases.Promises, d.Promises},
		{&cfg.Aliases.Disputes, d.Disputes}, {&cfg.Aliases.Receipts, d.Receipts}} {
		if *f.v == "" {
			*f.v = f.def
		}
	}
	if cfg.TaskType == "" {
		cfg.TaskType = "Follow Up"
	}
	if cfg.TaskStatus == "" {
		cfg.TaskStatus = "Open"
	}
	if cfg.ReasonCode == "" {
		cfg.ReasonCode = "DISPUTE"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	h := cfg.HTTP
	if h == nil {
		h = &http.Client{}
	}
	return &Client{cfg: cfg, http: h}, nil
}

// Name names the ERP in audit records.
func (c *Client) Name() string { return "oracle-ebs" }

// output is a service's OutputParameters: every scalar is a string,
// records stay raw.
type output map[string]json.RawMessage

// str reads an output scalar; ISG writes null for an empty OUT parameter.
func (o output) str(name string) string {
	var s string
	if raw, ok := o[name]; ok && json.Unmarshal(raw, &s) == nil {
		return s
	}
	// Some deployments answer numbers unquoted.
	var n json.Number
	if raw, ok := o[name]; ok && json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// fault is ISG's own error body.
type fault struct {
	Fault *struct {
		Code, Message, Resolution string
	} `json:"ISGServiceFault"`
}

// call posts one service call and returns its OutputParameters when the
// API answered "S".
func (c *Client) call(ctx context.Context, alias, method string, in map[string]any) (output, error) {
	body, err := json.Marshal(map[string]any{strings.ToUpper(method) + "_Input": map[string]any{
		"RESTHeader": c.cfg.Context, "InputParameters": in}})
	if err != nil {
		return nil, &erp.Error{Class: erp.ClassPermanent, Code: "encode", Message: err.Error(), NotSent: true}
	}
	url := c.cfg.BaseURL + "/webservices/rest/" + alias + "/" + method + "/"
	for attempt := 1; ; attempt++ {
		status, resp, tok, err := c.post(ctx, url, body)
		if err != nil {
			return nil, err
		}
		if status == http.StatusUnauthorized && tok != nil {
			// The token expired or was revoked: ISG refused the call
			// before running it. The password is checked at login, so
			// this is never a reason to give up on the action.
			c.dropToken(tok)
			if attempt < 3 {
				continue
			}
			return nil, &erp.Error{Class: erp.ClassTransient, Code: "token_rejected", NotSent: true,
				Message: fmt.Sprintf("%s/%s: HTTP 401 with a fresh token %d times", alias, method, attempt)}
		}
		return parse(alias, method, status, resp)
	}
}

// post sends one request and returns the status, the body and the token
// it authenticated with (nil with Basic auth).
func (c *Client) post(ctx context.Context, url string, body []byte) (int, []byte, *http.Cookie, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, &erp.Error{Class: erp.ClassPermanent, Code: "request", Message: err.Error(), NotSent: true}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	tok, err := c.authorize(ctx, req)
	if err != nil {
		return 0, nil, nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, nil, transport(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return 0, nil, nil, &erp.Error{Class: erp.ClassTransient, Code: "truncated", Message: "reading the answer: " + err.Error()}
	}
	return resp.StatusCode, b, tok, nil
}

// transport classifies a failed round trip. A refused connection never
// reached EBS; anything else (a timeout, a reset) may have, after EBS
// committed.
func transport(err error) *erp.Error {
	e := &erp.Error{Class: erp.ClassTransient, Code: "transport", Message: err.Error()}
	var op *net.OpError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Code, e.NotSent = "connection_refused", true
	case errors.As(err, &op) && op.Op == "dial":
		e.Code, e.NotSent = "dial", true
	case errors.Is(err, context.DeadlineExceeded):
		e.Code = "timeout"
	}
	return e
}

// parse reads an ISG answer.
func parse(alias, method string, status int, body []byte) (output, error) {
	where := alias + "/" + method
	if status != http.StatusOK {
		var f fault
		code, msg := fmt.Sprint(status), strings.TrimSpace(string(body))
		if json.Unmarshal(body, &f) == nil && f.Fault != nil {
			msg = f.Fault.Message
			if f.Fault.Code != "" {
				code = f.Fault.Code
			}
		}
		if len(msg) > 500 {
			msg = msg[:500]
		}
		class := erp.ClassPermanent
		if status >= 500 || status == http.StatusTooManyRequests || status == http.StatusRequestTimeout {
			class = erp.ClassTransient
		}
		// A 401 is ISG refusing the user before running anything: a wrong
		// or rotated password (a stale token never gets here).
		refused := status == http.StatusUnauthorized
		return nil, &erp.Error{Class: class, Code: code, Message: fmt.Sprintf("%s: HTTP %d: %s", where, status, msg),
			NotSent: refused, Credentials: refused}
	}
	var env struct {
		Out output `json:"OutputParameters"`
	}
	if err := json.Unmarshal(body, &env); err != nil || env.Out == nil {
		// The call may have run: in doubt, not refused.
		return nil, &erp.Error{Class: erp.ClassTransient, Code: "malformed_response",
			Message: fmt.Sprintf("%s: HTTP 200 without OutputParameters (%d bytes)", where, len(body))}
	}
	switch rs := env.Out.str("X_RETURN_STATUS"); rs {
	case "S":
		return env.Out, nil
	case "E":
		msg := env.Out.str("X_MSG_DATA")
		code, _, _ := strings.Cut(msg, ":")
		if code == "HZ_API_RECORD_CHANGED" {
			// Someone updated the profile since we read its version: read
			// again and retry, it is not a refusal of the hold.
			return nil, &erp.Error{Class: erp.ClassTransient, Code: code, Message: where + ": " + msg, NotSent: true}
		}
		if code == "" || strings.ContainsAny(code, " ") {
			code = "E"
		}
		return nil, &erp.Error{Class: erp.ClassPermanent, Code: code, Message: where + ": " + msg}
	case "U":
		return nil, &erp.Error{Class: erp.ClassTransient, Code: "U", Message: where + ": unexpected error: " + env.Out.str("X_MSG_DATA")}
	default:
		return nil, &erp.Error{Class: erp.ClassTransient, Code: "malformed_response",
			Message: fmt.Sprintf("%s: X_RETURN_STATUS %q", where, rs)}
	}
}

// authorize sets Basic auth, or the login token's cookie, which it returns.
func (c *Client) authorize(ctx context.Context, req *http.Request) (*http.Cookie, error) {
	if !c.cfg.Token {
		req.SetBasicAuth(c.cfg.User, c.cfg.Password)
		return nil, nil
	}
	tok, err := c.login(ctx)
	if err != nil {
		return nil, err
	}
	req.AddCookie(tok)
	return tok, nil
}

// dropToken forgets tok unless another request already replaced it: many
// requests share one token, and each that sees it refused must not throw
// away the fresh one another has just fetched.
func (c *Client) dropToken(tok *http.Cookie) {
	c.mu.Lock()
	if c.token == tok {
		c.token = nil
	}
	c.mu.Unlock()
}

// login returns the current token, logging in when there is none.
func (c *Client) login(ctx context.Context) (*http.Cookie, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != nil {
		return c.token, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.BaseURL+"/webservices/rest/login", nil)
	if err != nil {
		return nil, &erp.Error{Class: erp.ClassPermanent, Code: "request", Message: err.Error(), NotSent: true}
	}
	req.SetBasicAuth(c.cfg.User, c.cfg.Password)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		e := transport(err)
		e.NotSent = true // a login changes nothing
		return nil, e
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		_, err := parse("login", "", resp.StatusCode, b)
		var ee *erp.Error
		if errors.As(err, &ee) {
			ee.NotSent = true // a login changes nothing
		}
		return nil, err
	}
	var out struct {
		Response struct {
			Data struct {
				AccessToken     string `json:"accessToken"`
				AccessTokenName string `json:"accessTokenName"`
			} `json:"data"`
		} `json:"response"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.Response.Data.AccessToken == "" || out.Response.Data.AccessTokenName == "" {
		return nil, &erp.Error{Class: erp.ClassTransient, Code: "malformed_response", Message: "login: no access token in the answer", NotSent: true}
	}
	c.token = &http.Cookie{Name: out.Response.Data.AccessTokenName, Value: out.Response.Data.AccessToken}
	return c.token, nil
}
