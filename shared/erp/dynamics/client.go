// Package dynamics writes Recoup's ERP actions to Dynamics 365 Finance
// (finance and operations apps) through its OData v4 service: credit holds
// on CustomersV3, notes as customer attachments, tasks and dunning letters
// as activities, promises and disputes as the dispute status of the
// invoice's customer transaction. WIRE.md is the contract it keeps;
// MAPPING.md holds the research behind it, and marks what is inferred.
//
// The adapter classifies every failure (erp.Error): an OData error answer is
// permanent with the ERP's message; transport failures, 5xx and throttling
// are transient. OData POST has no idempotency key, so every record created
// carries the action's key as a marker that Find searches for after a lost
// answer.
package dynamics

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/recoup-dev/recoup/shared/erp"
)

// Hold policies: the OnHoldStatus a credit hold sets.
const (
	// HoldAll stops every transaction with the customer.
	HoldAll = "All"
	// HoldInvoice stops invoicing (and so new sales) but lets payments in.
	HoldInvoice = "Invoice"
)

// Config configures a Client.
type Config struct {
	// BaseURL is the environment URL, https://contoso.operations.dynamics.com;
	// the OData service is at BaseURL/data.
	BaseURL string
	// TokenURL is the OAuth 2.0 token endpoint, for Entra ID
	// https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token.
	TokenURL string
	// ClientID and ClientSecret are the app registration's credentials
	// (from Secrets Manager in AWS). F&O maps the client id to the user
	// whose roles the calls run with.
	ClientID, ClientSecret string
	// Scope is the token's scope; BaseURL + "/.default" when empty.
	Scope string
	// Company is the legal entity (dataAreaId) actions are written to,
	// usmf. Stored in lower case, as F&O keeps it.
	Company string
	// HoldStatus is the OnHoldStatus a credit hold sets: HoldAll (the
	// default) or HoldInvoice.
	HoldStatus string
	// NoteType is the document type (DocuType TypeId) of notes; "Note"
	// when empty.
	NoteType string
	// Timeout bounds one request, the token's included; 30 s when zero.
	Timeout time.Duration
	// HTTPClient sends the requests and token requests; a new one when nil.
	HTTPClient *http.Client
}

// Client is an OData client of one F&O environment and company, and the
// Dynamics 365 write-back adapter. It is safe for concurrent use.
type Client struct {
	cfg  Config
	http *http.Client
	cc   *clientcredentials.Config

	mu  sync.Mutex
	tok *oauth2.Token
}

// New checks cfg and returns a client. It does not fetch a token: a bad
// secret shows on the first action, classified as permanent.
func New(cfg Config) (*Client, error) {
	var missing []string
	for _, f := range []struct{ name, v string }{{"BaseURL", cfg.BaseURL}, {"TokenURL", cfg.TokenURL},
		{"ClientID", cfg.ClientID}, {"ClientSecret", cfg.ClientSecret}, {"Company", cfg.Company}} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("dynamics: config is missing %s", strings.Join(missing, ", "))
	}
	for _, f := range []struct{ name, v string }{{"BaseURL", cfg.BaseURL}, {"TokenURL", cfg.TokenURL}} {
		u, err := url.Parse(f.v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("dynamics: config %s %q is not an absolute http(s) URL without query", f.name, f.v)
		}
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if u, _ := url.Parse(cfg.BaseURL); u.Path != "" {
		return nil, fmt.Errorf("dynamics: config BaseURL %q has a path: give the environment URL, the adapter adds /data", cfg.BaseURL)
	}
	// dataAreaId is at most 4 characters in F&O, letters and digits.
	cfg.Company = strings.ToLower(strings.TrimSpace(cfg.Company))
	if len(cfg.Company) > 4 || strings.IndexFunc(cfg.Company, func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < '0' || r > '9')
	}) >= 0 {
		return nil, fmt.Errorf("dynamics: config Company %q is not a dataAreaId (1 to 4 letters or digits)", cfg.Company)
	}
	switch cfg.HoldStatus {
	case "":
		cfg.HoldStatus = HoldAll
	case HoldAll, HoldInvoice:
	default:
		return nil, fmt.Errorf("dynamics: config HoldStatus %q is not %s or %s", cfg.HoldStatus, HoldAll, HoldInvoice)
	}
	if cfg.NoteType == "" {
		cfg.NoteType = "Note"
	}
	if cfg.Scope == "" {
		cfg.Scope = cfg.BaseURL + "/.default"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	h := cfg.HTTPClient
	if h == nil {
		h = &http.Client{}
	}
	return &Client{cfg: cfg, http: h, cc: &clientcredentials.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		TokenURL: cfg.TokenURL, Scopes: []string{cfg.Scope},
		// Entra ID documents the secret in the form body; auto-detection
		// would spend a refused request on every new token.
		AuthStyle: oauth2.AuthStyleInParams}}, nil
}

// Name names the ERP in audit records.
func (c *Client) Name() string { return "dynamics-365" }

// reply is an HTTP answer read whole.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// maxAnswer bounds an answer: the largest the adapter reads is a dispute
// note, far smaller.
const maxAnswer = 4 << 20

// send sends one data request with a bearer token. path is under /data/
// and already escaped; query is already encoded and gets cross-company=true.
// A 401 means the token expired or was revoked: the request was refused
// before it ran, so it is resent once with a token fetched for the retry
// (not one another request cached meanwhile, which proves nothing about
// this app's access). A second 401 is permanent.
func (c *Client) send(ctx context.Context, method, path, query string, body []byte, ifMatch string) (reply, error) {
	write := method != http.MethodGet
	u := c.cfg.BaseURL + "/data/" + path + "?cross-company=true"
	if query != "" {
		u += "&" + query
	}
	var refused *oauth2.Token
	for attempt := 1; ; attempt++ {
		tok, e := c.token(ctx, refused)
		if e != nil {
			return reply{}, e
		}
		rep, err := c.roundTrip(ctx, method, u, body, ifMatch, tok.AccessToken)
		if err != nil {
			return reply{}, transport(err, write)
		}
		if rep.status != http.StatusUnauthorized {
			if refused != nil {
				c.keep(refused, tok)
			}
			return rep, nil
		}
		if attempt == 2 {
			return reply{}, &erp.Error{Class: erp.ClassPermanent, Code: "unauthorized", NotSent: true,
				Message: fmt.Sprintf("%s %s: HTTP 401 with a new token: check the app registration's F&O user and roles", method, entitySet(path))}
		}
		refused = tok
	}
}

func (c *Client) roundTrip(ctx context.Context, method, u string, body []byte, ifMatch, token string) (reply, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return reply{}, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("OData-Version", "4.0")
	req.Header.Set("OData-MaxVersion", "4.0")
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	if ifMatch != "" {
		req.Header.Set("If-Match", ifMatch)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return reply{}, fmt.Errorf("reading the answer: %w", err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// transport classifies a failed round trip. A refused connection never
// reached F&O; anything else (a timeout, a reset) may have, after it
// committed, unless the request was a read.
func transport(err error, write bool) *erp.Error {
	e := &erp.Error{Class: erp.ClassTransient, Code: "transport", Message: err.Error(), NotSent: !write}
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

// token returns the cached token, fetching one when there is none or it
// is within 10 s of expiring (oauth2.Token.Valid). With refused set (the
// token a 401 answered), it fetches a new one for the retry alone: keep
// caches it once F&O has accepted it.
func (c *Client) token(ctx context.Context, refused *oauth2.Token) (*oauth2.Token, *erp.Error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if refused == nil && c.tok.Valid() {
		return c.tok, nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	tok, err := c.cc.Token(context.WithValue(ctx, oauth2.HTTPClient, c.http))
	if err != nil {
		return nil, tokenError(err)
	}
	if refused == nil {
		c.tok = tok
	}
	return tok, nil
}

// keep caches tok, fetched after refused was answered 401, unless another
// request already replaced refused: many requests share one token, and
// each that sees it refused must not throw away the one another cached.
func (c *Client) keep(refused, tok *oauth2.Token) {
	c.mu.Lock()
	if c.tok == refused || !c.tok.Valid() {
		c.tok = tok
	}
	c.mu.Unlock()
}

// tokenError classifies a failed token request. The identity provider's
// refusal (a wrong secret, an unknown scope) lasts until someone fixes the
// configuration; its outages pass. No token request changes the ERP.
func tokenError(err error) *erp.Error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		st := re.Response.StatusCode
		if st >= 500 || st == http.StatusTooManyRequests || st == http.StatusRequestTimeout {
			return &erp.Error{Class: erp.ClassTransient, Code: "token_unavailable", NotSent: true,
				Message: fmt.Sprintf("token endpoint: HTTP %d", st)}
		}
		code := re.ErrorCode
		if code == "" {
			code = fmt.Sprint(st)
		}
		msg := re.ErrorDescription
		if msg == "" {
			msg = clip(strings.TrimSpace(string(re.Body)), 300)
		}
		return &erp.Error{Class: erp.ClassPermanent, Code: "token_" + code, NotSent: true, Credentials: st == http.StatusUnauthorized || code == "invalid_client",
			Message: fmt.Sprintf("token endpoint refused the client credentials: HTTP %d: %s", st, msg)}
	}
	return &erp.Error{Class: erp.ClassTransient, Code: "token_unavailable", NotSent: true, Message: "token endpoint: " + err.Error()}
}

// entitySet is the entity set a data path names, for messages.
func entitySet(path string) string {
	if i := strings.IndexByte(path, '('); i >= 0 {
		return path[:i]
	}
	return path
}

// clip shortens s to at most n bytes, never splitting a UTF-8 sequence.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
