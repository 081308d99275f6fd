package d365sim

import (
	crand "crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"mime"
	"net/http"
	"strings"
)

// tokenEndpoint serves POST /{tenant}/oauth2/v2.0/token as Entra ID v2
// does for the client credentials grant (WIRE.md, Authentication). Its
// refusals are Entra's JSON errors, {"error","error_description"}.
func (s *Server) tokenEndpoint(w *recorder, r *http.Request) {
	refuse := func(status int, code, desc string) {
		w.outcome = code
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, status, map[string]any{"error": code, "error_description": desc})
	}
	if r.Method != http.MethodPost {
		refuse(http.StatusMethodNotAllowed, "invalid_request", "AADSTS900561: The endpoint only accepts POST requests.")
		return
	}
	tenant := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/oauth2/v2.0/token")
	if tenant != s.cfg.Tenant {
		refuse(http.StatusBadRequest, "invalid_request", "AADSTS90002: Tenant '"+clip(tenant)+"' not found.")
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		refuse(http.StatusBadRequest, "invalid_request", "AADSTS900144: send the request as application/x-www-form-urlencoded.")
		return
	}
	if r.Header.Get("Authorization") != "" {
		// WIRE.md: the secret goes in the body; a Basic header as well
		// would mean the adapter's auth style changed.
		refuse(http.StatusBadRequest, "invalid_request", "AADSTS90023: send client_id and client_secret in the body, not an Authorization header (WIRE.md).")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		refuse(http.StatusBadRequest, "invalid_request", "AADSTS900144: the request body could not be read.")
		return
	}
	f := r.PostForm
	if g := f.Get("grant_type"); g != "client_credentials" {
		refuse(http.StatusBadRequest, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type '"+clip(g)+"'.")
		return
	}
	if f.Get("client_id") != s.cfg.ClientID {
		refuse(http.StatusBadRequest, "unauthorized_client", "AADSTS700016: Application with identifier '"+clip(f.Get("client_id"))+"' was not found in the directory.")
		return
	}
	if subtle.ConstantTimeCompare([]byte(f.Get("client_secret")), []byte(s.cfg.ClientSecret)) != 1 {
		refuse(http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
		return
	}
	if scope, want := f.Get("scope"), s.scope(r); scope != want {
		refuse(http.StatusBadRequest, "invalid_scope", "AADSTS1002012: The provided value for scope "+clip(scope)+" is not valid: want "+want+".")
		return
	}
	var b [32]byte
	_, _ = crand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	s.mu.Lock()
	s.tokens[tok] = &token{expires: s.now().Add(s.cfg.TokenTTL)}
	s.issued++
	s.mu.Unlock()
	secs := int(s.cfg.TokenTTL.Seconds())
	w.outcome = "issued"
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": secs, "ext_expires_in": secs, "access_token": tok})
}

// scope is the one scope tokens are issued for.
func (s *Server) scope(r *http.Request) string {
	if s.cfg.Scope != "" {
		return s.cfg.Scope
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/.default"
}

// authenticate checks a data request's bearer token and counts its use.
// It answers the token, and how many requests used it before this one.
func (s *Server) authenticate(r *http.Request) (string, int, bool) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return "", 0, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tokens[tok]
	if t == nil {
		return "", 0, false
	}
	if !s.now().Before(t.expires) {
		delete(s.tokens, tok)
		return "", 0, false
	}
	t.uses++
	return tok, t.uses - 1, true
}

// unauthorized is F&O's answer to a missing, unknown or expired token:
// 401 with the reason in WWW-Authenticate and no body.
func unauthorized(w *recorder, why string) {
	w.outcome = "unauthorized"
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="`+why+`"`)
	w.WriteHeader(http.StatusUnauthorized)
}

// clip shortens what a caller sent before it goes into an answer.
func clip(s string) string {
	if len(s) > 80 {
		s = s[:80]
	}
	return strings.ToValidUTF8(s, "?")
}
