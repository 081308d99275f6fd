package fakeconverse

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
)

// ControlPrefix is where Control answers. Bedrock Runtime's own paths
// start with /model/, /guardrail/ or /async-invoke, so it never meets a
// real one.
const ControlPrefix = "/_fake/"

// named is the behaviours a script may name over HTTP.
var named = map[string]func() Behaviour{
	"good":               Good,
	"wrong_amount":       WrongAmount,
	"threat":             Threat,
	"missing_disclosure": MissingDisclosure,
	"link":               Link,
	"long_sms":           LongSMS,
	"wrong_name":         WrongName,
	"truncated":          Truncated,
	"throttle":           Throttle,
	"model_timeout":      ModelTimeout,
	"unavailable":        Unavailable,
}

// Named returns the behaviour a script names ("wrong_amount", "threat",
// ...); the error lists the names there are.
func Named(name string) (Behaviour, error) {
	f, ok := named[name]
	if !ok {
		names := make([]string, 0, len(named))
		for n := range named {
			names = append(names, n)
		}
		slices.Sort(names)
		return Behaviour{}, fmt.Errorf("unknown behaviour %q (want one of %s)", name, strings.Join(names, ", "))
	}
	return f(), nil
}

// Script is the body of POST /_fake/script: the behaviours the next calls
// drafting for Customer (the facts block's "customer", the name the draft
// addresses) play, in order, before the default takes over again. Keying
// by customer lets tests sharing one server script their own customers
// without taking each other's turns.
type Script struct {
	Customer   string   `json:"customer"`
	Behaviours []string `json:"behaviours"`
}

// CallView is one call as GET /_fake/calls reports it: what the fake did,
// never the prompt (it holds debtor data).
type CallView struct {
	ModelID   string `json:"model_id"`
	Behaviour string `json:"behaviour"`
	Status    int    `json:"status"`
	ErrorCode string `json:"error_code,omitempty"`
}

// Control answers the fake's control API, for tests that drive it in
// another process (the local stack's):
//
//	POST /_fake/script  {"customer": "...", "behaviours": ["wrong_amount", "good"]}
//	GET  /_fake/calls?customer=...   the calls drafting for that customer, oldest first
func (s *Server) Control() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == ControlPrefix+"script" && r.Method == http.MethodPost:
			s.postScript(w, r)
		case r.URL.Path == ControlPrefix+"calls" && r.Method == http.MethodGet:
			s.getCalls(w, r)
		default:
			controlError(w, http.StatusNotFound, fmt.Sprintf("%s %s: the control API has POST %sscript and GET %scalls",
				r.Method, r.URL.Path, ControlPrefix, ControlPrefix))
		}
	})
}

func (s *Server) postScript(w http.ResponseWriter, r *http.Request) {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	var sc Script
	if err := dec.Decode(&sc); err != nil {
		controlError(w, http.StatusBadRequest, "script: "+err.Error())
		return
	}
	if strings.TrimSpace(sc.Customer) == "" {
		controlError(w, http.StatusBadRequest, `script: "customer" is empty`)
		return
	}
	if len(sc.Behaviours) == 0 {
		controlError(w, http.StatusBadRequest, `script: "behaviours" is empty`)
		return
	}
	bs := make([]Behaviour, len(sc.Behaviours))
	for i, n := range sc.Behaviours {
		b, err := Named(n)
		if err != nil {
			controlError(w, http.StatusBadRequest, fmt.Sprintf("script: behaviours[%d]: %v", i, err))
			return
		}
		bs[i] = b
	}
	s.EnqueueFor(sc.Customer, bs...)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) getCalls(w http.ResponseWriter, r *http.Request) {
	customer := r.URL.Query().Get("customer")
	if customer == "" {
		controlError(w, http.StatusBadRequest, "calls: the customer query parameter is required")
		return
	}
	views := []CallView{}
	for _, c := range s.Calls() {
		if c.Customer == customer {
			views = append(views, CallView{ModelID: c.ModelID, Behaviour: c.Behaviour, Status: c.Status, ErrorCode: c.ErrorCode})
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(views)
}

func controlError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}
