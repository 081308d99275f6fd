// Package d365sim is the local stand-in for Dynamics 365 Finance's OData
// service and the Entra ID token endpoint, as Recoup's Dynamics adapter uses
// them (shared/erp/dynamics/WIRE.md). Tests and the local stack point the
// adapter at it instead of a real environment, which cannot run here.
//
// It checks requests the way WIRE.md says, in this order: the bearer token
// (401), the entity set (404), the OData-Version, Accept and Content-Type
// headers (400, 406, 415), cross-company=true and the query options, the
// key's syntax (every key field, named, typed), the $filter and $select
// (only what WIRE.md uses: and-joined eq clauses with the company's
// dataAreaId), the body's fields and enum values, and If-Match on PATCH
// (428). Those refusals are OData error answers. Then the request runs
// against an in-memory copy of the rows it touches: customers with their
// OnHoldStatus and ETag, their open transactions, the attachments,
// activities and dispute rows the calls create. Unknown keys answer 404,
// a stale ETag 412, a second dispute row on one transaction 400.
//
// String comparisons in $filter are case-insensitive and read '*' as a
// wildcard, as F&O does on SQL Server, so the adapter's exact re-check of
// what it asked for is exercised.
//
// The control API under /_sim/ (no authentication; see Server.control)
// seeds customers, injects faults, and shows the state and how many
// records carry each action key, which is how tests prove a write happened
// exactly once; the same operations are methods of Server for in-process
// tests. GET /health answers ok for the local stack's probe.
package d365sim

import (
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Config configures a Server. Zero fields take the defaults: tenant
// recoup-sim, client recoup-d365 with secret recoup-secret, the scope
// {scheme}://{host}/.default of the request's own host, tokens valid for an
// hour, and the document types File, Image, Note and URL.
type Config struct {
	// Tenant is the Entra ID tenant in the token path,
	// /{tenant}/oauth2/v2.0/token.
	Tenant string
	// ClientID and ClientSecret are the one app registration's
	// credentials the token endpoint accepts.
	ClientID, ClientSecret string
	// Scope is the only scope a token is issued for; empty means the
	// simulator's own base URL + "/.default", as the adapter derives it.
	Scope    string
	TokenTTL time.Duration
	// NoteTypes are the DocuType ids an attachment's TypeId may name.
	NoteTypes []string
	// Log gets one record per request: the HTTP method, the entity set,
	// status, fault and outcome; never keys, filters or bodies, so no
	// account numbers or note text.
	Log *slog.Logger
}

func (c *Config) defaults() {
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&c.Tenant, "recoup-sim")
	def(&c.ClientID, "recoup-d365")
	def(&c.ClientSecret, "recoup-secret")
	if c.TokenTTL <= 0 {
		c.TokenTTL = time.Hour
	}
	if len(c.NoteTypes) == 0 {
		c.NoteTypes = []string{"File", "Image", "Note", "URL"}
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
}

// Server is the simulated F&O environment and token endpoint. It is an
// http.Handler and safe for concurrent use.
type Server struct {
	cfg Config
	now func() time.Time

	mu       sync.Mutex
	st       *state
	tokens   map[string]*token
	faults   Faults
	rng      *rand.Rand
	drawn    int            // faults injected since SetFaults, for Faults.Limit
	requests map[string]int // by "METHOD EntitySet"
	injected map[FaultKind]int
	issued   int // tokens issued
}

// token is an issued access token.
type token struct {
	expires time.Time
	uses    int
}

// New returns a server with no customers and no faults.
func New(cfg Config) *Server {
	cfg.defaults()
	s := &Server{cfg: cfg, now: time.Now}
	s.Reset()
	return s
}

// Reset forgets all customers, records, tokens, faults and counts, and
// restarts the id counters.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st = newState(s.cfg.NoteTypes)
	s.tokens = map[string]*token{}
	s.faults, s.rng, s.drawn = Faults{}, nil, 0
	s.requests = map[string]int{}
	s.injected = map[FaultKind]int{}
	s.issued = 0
}

// Seed creates the customers not there yet (by company and account) and
// the invoices they lack, and answers every seeded customer.
func (s *Server) Seed(customers []CustomerSeed) ([]Customer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.seed(customers)
}

// State answers every customer with its transactions, disputes and
// attachments, in seeding order, and every activity.
func (s *Server) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.snapshot()
}

// Customer answers one customer.
func (s *Server) Customer(company, account string) (Customer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.st.customer(company, account)
	if c == nil {
		return Customer{}, false
	}
	return s.st.customerSnapshot(c), true
}

// Applied answers, per action key, how many times a write carried its
// marker (recoup:{key}) into a record. More than 1 means a duplicate.
func (s *Server) Applied() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.st.stamps))
	for k, v := range s.st.stamps {
		out[k] = v
	}
	return out
}

// Stats counts data requests, injected faults and issued tokens.
type Stats struct {
	// Requests counts data requests by "METHOD EntitySet", once the token
	// was accepted and the entity set exists.
	Requests map[string]int `json:"requests"`
	// Faults counts injected faults by the kind the caller saw.
	Faults map[FaultKind]int `json:"faults"`
	// Tokens counts access tokens issued.
	Tokens int `json:"tokens"`
}

// Stats answers the counts since New or Reset.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Requests: map[string]int{}, Faults: map[FaultKind]int{}, Tokens: s.issued}
	for k, v := range s.requests {
		st.Requests[k] = v
	}
	for k, v := range s.injected {
		st.Faults[k] = v
	}
	return st
}

const (
	dataPrefix = "/data/"
	jsonType   = "application/json"
	// maxBody bounds a request: the largest WIRE.md body, a dispute note
	// with many lines, is far smaller.
	maxBody = 1 << 20
)

// ServeHTTP routes a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rw := &recorder{ResponseWriter: w}
	start := time.Now()
	defer func() { s.logRequest(rw, r, time.Since(start)) }()
	p := r.URL.Path
	switch {
	case p == "/health":
		w.Header().Set("Content-Type", "text/plain")
		rw.WriteHeader(http.StatusOK)
		io.WriteString(rw, "ok\n")
	case strings.HasPrefix(p, "/_sim/"):
		rw.route = "control"
		s.control(rw, r)
	case strings.HasSuffix(p, "/oauth2/v2.0/token"):
		rw.route = "token"
		s.tokenEndpoint(rw, r)
	case strings.HasPrefix(p, dataPrefix):
		s.data(rw, r)
	default:
		writeError(rw, http.StatusNotFound, "", "No HTTP resource was found that matches the request URI.", "")
	}
}

// recorder keeps what the request log line needs.
type recorder struct {
	http.ResponseWriter
	status  int
	route   string // the entity set, "token" or "control"
	fault   FaultKind
	outcome string
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection to drop it.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) logRequest(w *recorder, r *http.Request, took time.Duration) {
	attrs := []any{"http_method", r.Method, "status", w.status, "ms", took.Milliseconds()}
	if w.route != "" {
		attrs = append(attrs, "route", w.route)
	}
	if w.fault != "" {
		attrs = append(attrs, "fault", string(w.fault))
	}
	if w.outcome != "" {
		attrs = append(attrs, "outcome", w.outcome)
	}
	s.cfg.Log.Info("request", attrs...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // only maps, slices and strings are marshalled: cannot happen
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"","message":"encode answer"}}`)
	}
	w.Header().Set("Content-Type", jsonType+"; odata.metadata=minimal; charset=utf-8")
	w.Header().Set("OData-Version", "4.0")
	w.WriteHeader(status)
	w.Write(b)
}

// errorBody is an OData error answer, innererror only when inner is set,
// as F&O answers: an empty code, a general message, the Infolog inside.
func errorBody(code, msg, inner string) map[string]any {
	e := map[string]any{"code": code, "message": msg}
	if inner != "" {
		e["innererror"] = map[string]any{"message": inner, "type": "Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException", "stacktrace": ""}
	}
	return map[string]any{"error": e}
}

func writeError(w *recorder, status int, code, msg, inner string) {
	if w.outcome == "" {
		w.outcome = "odata_error"
	}
	writeJSON(w, status, errorBody(code, msg, inner))
}

// accepts reports whether an Accept header lists application/json.
func accepts(h string) bool {
	for part := range strings.SplitSeq(h, ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == jsonType {
			return true
		}
	}
	return false
}

func jsonContent(h string) bool {
	mt, ps, err := mime.ParseMediaType(h)
	if err != nil || mt != jsonType {
		return false
	}
	cs, set := ps["charset"]
	return !set || strings.EqualFold(cs, "utf-8")
}
