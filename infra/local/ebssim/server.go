// Package ebssim is the local stand-in for Oracle E-Business Suite's
// Integrated SOA Gateway (ISG) REST services, as Recoup's EBS adapter uses
// them (shared/erp/oracleebs/WIRE.md). Tests and the local stack point the
// adapter at it instead of a real EBS, which cannot run here.
//
// It checks requests the way WIRE.md says ISG and the PL/SQL APIs do, in
// that order: the HTTP method, authentication (Basic, or the EBSAccessToken
// cookie from GET /webservices/rest/login), the alias and method in
// POST /webservices/rest/{alias}/{method}/, the content types, the
// {METHOD}_Input envelope and its RESTHeader context, and the
// InputParameters' names and JSON types. Those refusals are ISGServiceFault
// answers with an HTTP error status. Then the method runs: required and
// fixed-value inputs, formats, ids that must exist and belong together,
// the profile's object version number and the promise date's uniqueness.
// Those refusals are HTTP 200 with X_RETURN_STATUS "E", as the PL/SQL API
// would answer.
//
// It does not run any PL/SQL: each method is a few lines over an in-memory
// copy of the rows it touches (accounts, profiles, open transactions with
// their delinquencies, and the notes, tasks, promises, credit memo
// requests, dunning requests and receipt applications the calls create).
// Lookups such as JTF_NOTE_TYPE or task types are not validated, there is
// no receipt or balance to apply against, and no XML. The custom XX_RECOUP
// package is simulated as WIRE.md specifies it; its read methods serve
// what AccountSeed seeds, which writes never change (reads.go). Only the
// default aliases are deployed.
//
// The control API under /_sim/ (no authentication; see Server.control)
// seeds accounts, injects faults, and shows the state and how many objects
// each action key created, which is how tests prove a write happened
// exactly once; the same operations are methods of Server for in-process
// tests. GET /health answers ok for the local stack's probe.
package ebssim

import (
	crand "crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/recoup-dev/recoup/infra/local/simctl"
)

// RESTHeader is the application context every service call carries and the
// grant the simulated user has.
type RESTHeader struct {
	Responsibility  string `json:"Responsibility"`
	RespApplication string `json:"RespApplication"`
	SecurityGroup   string `json:"SecurityGroup"`
	NLSLanguage     string `json:"NLSLanguage"`
	OrgID           string `json:"Org_Id"`
}

// Config configures a Server. Zero fields take the defaults: user
// RECOUP_ISG with password welcome1, responsibility RECEIVABLES_MANAGER in
// AR, security group STANDARD, language AMERICAN, operating unit 204, and
// tokens valid for 15 minutes.
type Config struct {
	User, Password string
	Context        RESTHeader
	TokenTTL       time.Duration
	// Log gets one record per request: path, alias, method, status, fault
	// and return status; never inputs, so no note text or account data.
	Log *slog.Logger
}

func (c *Config) defaults() {
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&c.User, "RECOUP_ISG")
	def(&c.Password, "welcome1")
	def(&c.Context.Responsibility, "RECEIVABLES_MANAGER")
	def(&c.Context.RespApplication, "AR")
	def(&c.Context.SecurityGroup, "STANDARD")
	def(&c.Context.NLSLanguage, "AMERICAN")
	def(&c.Context.OrgID, "204")
	if c.TokenTTL <= 0 {
		c.TokenTTL = 15 * time.Minute
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
}

// Server is the simulated EBS. It is an http.Handler and safe for
// concurrent use.
type Server struct {
	cfg Config
	now func() time.Time

	mu       sync.Mutex
	st       *state
	tokens   map[string]time.Time // access token → expiry
	faults   Faults
	rng      *rand.Rand
	requests map[string]int // by alias/method
	injected map[FaultKind]int
}

// New returns a server with no accounts and no faults.
func New(cfg Config) *Server {
	cfg.defaults()
	s := &Server{cfg: cfg, now: time.Now}
	s.Reset()
	return s
}

// Reset forgets all accounts, objects, tokens, faults and counts, and
// restarts the id counters.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st = newState()
	s.tokens = map[string]time.Time{}
	s.faults, s.rng = Faults{}, nil
	s.requests = map[string]int{}
	s.injected = map[FaultKind]int{}
}

// Seed creates the accounts not there yet (by number) and the transactions
// they lack, and answers every seeded account with its ids.
func (s *Server) Seed(accounts []AccountSeed) ([]Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.seed(accounts)
}

// State answers every account with its profile and the objects written to
// it, in seeding order.
func (s *Server) State() []Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.snapshot()
}

// Account answers one account by number.
func (s *Server) Account(number string) (Account, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.st.accounts[number]
	if a == nil {
		return Account{}, false
	}
	return a.snapshot(), true
}

// Applied answers, per action key, how many objects were created with it.
// More than 1 means a write was duplicated.
func (s *Server) Applied() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.applied()
}

// Stats counts service calls and injected faults.
type Stats struct {
	// Requests counts calls by "alias/method", once the path named a
	// deployed method and the caller was authenticated.
	Requests map[string]int `json:"requests"`
	// Faults counts injected faults by the kind the caller saw.
	Faults map[FaultKind]int `json:"faults"`
}

// Stats answers the counts since New or Reset.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Requests: map[string]int{}, Faults: map[FaultKind]int{}}
	for k, v := range s.requests {
		st.Requests[k] = v
	}
	for k, v := range s.injected {
		st.Faults[k] = v
	}
	return st
}

const (
	restPrefix  = "/webservices/rest/"
	tokenCookie = "EBSAccessToken"
	ebsVersion  = "12.2.12"
	jsonType    = "application/json"
	// maxBody bounds a request: the largest contract input, a note with
	// its 32k detail, is far smaller.
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
		s.control(rw, r)
	case p == restPrefix+"login":
		s.login(rw, r)
	case p == restPrefix+"logout":
		s.logout(rw, r)
	case strings.HasPrefix(p, restPrefix):
		s.service(rw, r)
	default:
		s.writeFault(rw, &isgFault{status: http.StatusNotFound, code: "ISG_INVALID_ALIAS",
			message: "no service at " + clip(p), resolution: "Services are at /webservices/rest/{alias}/{method}/."})
	}
}

// recorder keeps what the request log line needs.
type recorder struct {
	http.ResponseWriter
	status        int
	alias, method string
	fault         FaultKind
	outcome       string // the ISGServiceFault code or X_RETURN_STATUS
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
	attrs := []any{"http_method", r.Method, "path", clip(r.URL.Path), "status", w.status, "ms", took.Milliseconds()}
	if w.alias != "" {
		attrs = append(attrs, "alias", clip(w.alias), "method", clip(w.method))
	}
	if w.fault != "" {
		attrs = append(attrs, "fault", string(w.fault))
	}
	if w.outcome != "" {
		attrs = append(attrs, "outcome", w.outcome)
	}
	s.cfg.Log.Info("request", attrs...)
}

func (s *Server) writeFault(w *recorder, f *isgFault) {
	w.outcome = f.code
	simctl.JSON(w, f.status, f.body())
}

func (s *Server) writeResult(w *recorder, r result) {
	w.outcome = r.status
	simctl.JSON(w, http.StatusOK, r.body())
}

func methodNotAllowed(want string) *isgFault {
	return &isgFault{status: http.StatusMethodNotAllowed, code: "ISG_METHOD_NOT_ALLOWED",
		message: "this resource is called with " + want, resolution: "Use " + want + "."}
}

func (s *Server) basicOK(r *http.Request) bool {
	u, p, ok := r.BasicAuth()
	return ok && subtle.ConstantTimeCompare([]byte(u), []byte(s.cfg.User)) == 1 &&
		subtle.ConstantTimeCompare([]byte(p), []byte(s.cfg.Password)) == 1
}

// authenticate checks a service call's credentials and answers the access
// token it used, "" for Basic.
func (s *Server) authenticate(r *http.Request) (string, *isgFault) {
	c, err := r.Cookie(tokenCookie)
	hasToken := err == nil
	if r.Header.Get("Authorization") != "" {
		if hasToken {
			return "", errAuth("the request sends both Authorization and the " + tokenCookie + " cookie: send one")
		}
		if !s.basicOK(r) {
			return "", errAuth("invalid user name or password")
		}
		return "", nil
	}
	if !hasToken {
		return "", errAuth("no credentials: send Authorization: Basic or the " + tokenCookie + " cookie")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, known := s.tokens[c.Value]
	if !known {
		return "", errAuth("unknown or logged-out access token")
	}
	if !s.now().Before(exp) {
		delete(s.tokens, c.Value)
		return "", errAuth("the access token has expired")
	}
	return c.Value, nil
}

func (s *Server) login(w *recorder, r *http.Request) {
	if r.Method != http.MethodGet {
		s.writeFault(w, methodNotAllowed(http.MethodGet))
		return
	}
	if !s.basicOK(r) { // a stale token cookie sent along is ignored
		s.writeFault(w, errAuth("invalid user name or password"))
		return
	}
	var b [32]byte
	_, _ = crand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	s.mu.Lock()
	s.tokens[tok] = s.now().Add(s.cfg.TokenTTL)
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: tok, Path: "/", HttpOnly: true})
	simctl.JSON(w, http.StatusOK, map[string]any{"response": map[string]any{"data": map[string]string{
		"accessToken": tok, "accessTokenName": tokenCookie, "ebsVersion": ebsVersion, "userName": s.cfg.User}}})
}

func (s *Server) logout(w *recorder, r *http.Request) {
	if r.Method != http.MethodGet {
		s.writeFault(w, methodNotAllowed(http.MethodGet))
		return
	}
	c, err := r.Cookie(tokenCookie)
	s.mu.Lock()
	known := false
	if err == nil {
		_, known = s.tokens[c.Value]
		delete(s.tokens, c.Value)
	}
	s.mu.Unlock()
	if !known {
		s.writeFault(w, errAuth("no access token to log out"))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: "", Path: "/", MaxAge: -1})
	simctl.JSON(w, http.StatusOK, map[string]any{"response": map[string]any{"data": map[string]string{"message": "logged out"}}})
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

// service serves POST /webservices/rest/{alias}/{method}/.
func (s *Server) service(w *recorder, r *http.Request) {
	if r.Method != http.MethodPost {
		s.writeFault(w, methodNotAllowed(http.MethodPost))
		return
	}
	tok, f := s.authenticate(r)
	if f != nil {
		s.writeFault(w, f)
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, restPrefix), "/")
	w.alias = parts[0]
	if len(parts) > 1 {
		w.method = parts[1]
	}
	svc := services[w.alias]
	if svc == nil {
		s.writeFault(w, &isgFault{status: http.StatusNotFound, code: "ISG_INVALID_ALIAS",
			message: "no service is deployed under alias " + clip(w.alias), resolution: "Check the alias in the adapter's configuration."})
		return
	}
	m := svc[w.method]
	if m == nil || len(parts) != 3 || parts[2] != "" {
		msg := "service " + w.alias + " has no method " + clip(w.method)
		if m != nil {
			msg = "the path of method " + m.name + " is " + restPrefix + m.alias + "/" + m.name + "/, with the trailing slash"
		}
		s.writeFault(w, &isgFault{status: http.StatusNotFound, code: "ISG_INVALID_FUNCTION", message: msg,
			resolution: "Call a deployed method, in lower case, with the trailing slash."})
		return
	}
	s.mu.Lock()
	s.requests[m.alias+"/"+m.name]++
	s.mu.Unlock()
	if ct := r.Header.Get("Content-Type"); !jsonContent(ct) {
		s.writeFault(w, &isgFault{status: http.StatusUnsupportedMediaType, code: "ISG_UNSUPPORTED_MEDIA_TYPE",
			message: "Content-Type " + clip(ct) + " is not " + jsonType, resolution: "Send Content-Type: application/json."})
		return
	}
	if a := r.Header.Get("Accept"); !accepts(a) {
		s.writeFault(w, &isgFault{status: http.StatusNotAcceptable, code: "ISG_NOT_ACCEPTABLE",
			message: "Accept " + clip(a) + " does not list " + jsonType, resolution: "Send Accept: application/json."})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		s.writeFault(w, errPayload("reading the body: %v", err))
		return
	}
	in, f := s.parseEnvelope(body, m)
	if f != nil {
		s.writeFault(w, f)
		return
	}
	s.serveCall(w, r, m, in, tok)
}

// serveCall runs a call that passed ISG's checks, with any injected fault
// before or after the PL/SQL.
func (s *Server) serveCall(w *recorder, r *http.Request, m *method, in params, tok string) {
	s.mu.Lock()
	d := s.draw()
	if d.kind == FaultTokenExpired {
		if tok == "" {
			d.kind = FaultError500
		} else {
			delete(s.tokens, tok)
		}
	}
	if d.kind != "" {
		s.injected[d.kind]++
	}
	s.mu.Unlock()
	w.fault = d.kind

	switch d.kind {
	case FaultError500:
		s.writeFault(w, errDB())
		return
	case FaultTokenExpired:
		s.writeFault(w, errAuth("the access token has expired"))
		return
	case FaultBusinessError:
		s.writeResult(w, fail("GL_PERIOD_CLOSED: the period is closed"))
		return
	case FaultUnexpectedError:
		s.writeResult(w, result{status: "U", msg: "ORA-20001: unexpected error in the API (simulated)"})
		return
	case FaultSlow:
		t := time.NewTimer(d.slow)
		defer t.Stop()
		select {
		case <-r.Context().Done(): // the client gave up first: nothing ran
			w.outcome = "client_gone"
			return
		case <-t.C:
		}
	}

	s.mu.Lock()
	res := s.call(m, in)
	s.mu.Unlock()

	switch d.kind {
	case FaultError500AfterCommit:
		s.writeFault(w, errDB())
	case FaultTimeoutAfterCommit:
		w.outcome = res.status
		t := time.NewTimer(d.hang)
		defer t.Stop()
		select {
		case <-r.Context().Done():
		case <-t.C:
		}
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
			return
		}
		panic(http.ErrAbortHandler) // closes the connection without an answer
	case FaultMalformed:
		w.outcome = res.status
		b, _ := json.Marshal(res.body())
		w.Header().Set("Content-Type", jsonType)
		w.WriteHeader(http.StatusOK)
		w.Write(b[:len(b)/2])
	default:
		s.writeResult(w, res)
	}
}

// call is the PL/SQL: the API's own checks of its inputs, then the method.
// Called with s.mu held.
func (s *Server) call(m *method, in params) result {
	if msg := checkValues(in, m.inputs, ""); msg != "" {
		return fail("%s", msg)
	}
	return m.run(s, in)
}
