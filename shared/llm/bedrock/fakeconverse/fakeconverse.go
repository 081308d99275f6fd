// Package fakeconverse is a fake Amazon Bedrock Runtime that answers the
// Converse operation (POST /model/{modelId}/converse) with the service's
// wire shapes, for tests and the local stack: Bedrock cannot run on a
// laptop.
//
// It checks what the service would check before a model runs: a SigV4
// Authorization header for the "bedrock" signing name, a JSON content type,
// the request body's shape (DecodeRequest). It then plays a script: each
// call takes the next Behaviour queued for the customer its prompt drafts
// for, then the next queued for any customer, or the default one (Good)
// when both queues are empty. Good writes a plausible draft from the facts block
// drafting puts in the prompt; the other behaviours break that draft on
// purpose (a wrong amount, a threat, a missing disclosure, a link, an SMS
// too long) or fail the way the service fails (throttling, timeouts).
package fakeconverse

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/recoup-dev/recoup/shared/drafting"
)

// errorTypeSuffix is what the service appends to x-amzn-ErrorType; the SDK
// strips it.
const errorTypeSuffix = ":http://internal.amazon.com/coral/com.amazon.bedrock/"

// maxBody bounds a request body, as the service does (its limit is larger).
const maxBody = 4 << 20

// Behaviour is what the fake does for one call.
type Behaviour struct {
	name  string
	delay time.Duration
	err   *APIError
	text  func(Request) string
	stop  string // stop reason; "" means end_turn
}

// Name describes the behaviour, for test output.
func (b Behaviour) Name() string { return b.name }

// Call records one request the fake received.
type Call struct {
	ModelID   string
	Request   Request // zero when the request was refused before decoding
	Customer  string  // the facts block's customer; "" when there is none
	Behaviour string  // "" when refused
	Status    int
	ErrorCode string // the x-amzn-ErrorType code of an error response
}

// Server is the fake. It is an http.Handler; serve it with httptest.
type Server struct {
	mu       sync.Mutex
	queue    []Behaviour
	per      map[string][]Behaviour // by the facts block's customer
	fallback Behaviour
	calls    []Call
	models   map[string]bool
}

// New returns a fake whose default behaviour is Good. Known, when given,
// lists the model ids it serves; others get the service's ValidationException.
func New(known ...string) *Server {
	s := &Server{fallback: Good()}
	if len(known) > 0 {
		s.models = map[string]bool{}
		for _, m := range known {
			s.models[m] = true
		}
	}
	return s
}

// Enqueue adds behaviours for the next calls, in order.
func (s *Server) Enqueue(bs ...Behaviour) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, bs...)
}

// EnqueueFor adds behaviours for the next calls drafting for customer (the
// facts block's "customer"), in order. They play before the shared queue.
func (s *Server) EnqueueFor(customer string, bs ...Behaviour) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.per == nil {
		s.per = map[string][]Behaviour{}
	}
	s.per[customer] = append(s.per[customer], bs...)
}

// SetDefault sets what the fake does when the queue is empty.
func (s *Server) SetDefault(b Behaviour) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fallback = b
}

// Calls returns the requests received so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

func (s *Server) next(customer string) Behaviour {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.per[customer]; len(q) > 0 {
		if len(q) == 1 {
			delete(s.per, customer)
		} else {
			s.per[customer] = q[1:]
		}
		return q[0]
	}
	if len(s.queue) == 0 {
		return s.fallback
	}
	b := s.queue[0]
	s.queue = s.queue[1:]
	return b
}

// maxCalls bounds the call log: the local stack's fake serves every draft
// of every demo run.
const maxCalls = 10_000

func (s *Server) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.calls) == maxCalls {
		s.calls = slices.Delete(s.calls, 0, maxCalls/10)
	}
	s.calls = append(s.calls, c)
}

// ServeHTTP answers one Converse call.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	w.Header().Set("x-amzn-RequestId", fmt.Sprintf("fake-%d", start.UnixNano()))
	call := Call{}
	fail := func(e *APIError) {
		call.Status, call.ErrorCode = e.Status, e.Code
		s.record(call)
		writeError(w, e)
	}
	id, apiErr := ModelID(r.URL.EscapedPath())
	if apiErr == nil && r.Method != http.MethodPost {
		apiErr = &APIError{Status: 404, Code: "UnknownOperationException", Message: r.Method + " " + r.URL.EscapedPath()}
	}
	if apiErr != nil {
		fail(apiErr)
		return
	}
	call.ModelID = id
	if e := checkAuth(r); e != nil {
		fail(e)
		return
	}
	// The service's answer to another content type is not documented; 415
	// is what an HTTP service says, and the SDK never sends one.
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		fail(&APIError{Status: 415, Code: "UnsupportedMediaTypeException", Message: "Content-Type must be application/json"})
		return
	}
	if s.models != nil && !s.models[id] {
		fail(validation("The provided model identifier is invalid."))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		fail(validation("the request body could not be read or is too large"))
		return
	}
	req, apiErr := DecodeRequest(body)
	if apiErr != nil {
		fail(apiErr)
		return
	}
	call.Request = req
	if facts, err := factsOf(req); err == nil {
		call.Customer = facts.Customer
	}
	b := s.next(call.Customer)
	call.Behaviour = b.name
	if b.delay > 0 {
		select {
		case <-time.After(b.delay):
		case <-r.Context().Done():
			call.Status = 499 // the client went away, as nginx logs it
			s.record(call)
			return
		}
	}
	if b.err != nil {
		fail(b.err)
		return
	}
	text, stop := b.text(req), b.stop
	if stop == "" {
		stop = "end_turn"
	}
	out := tokens(len(text))
	if limit := req.maxTokens(); out > limit {
		text, out, stop = truncate(text, limit*4), limit, "max_tokens"
	}
	call.Status = http.StatusOK
	s.record(call)
	resp := response{StopReason: stop}
	resp.Output.Message.Role = "assistant"
	resp.Output.Message.Content = []ContentBlock{{Text: text}}
	resp.Usage.InputTokens = req.inputTokens()
	resp.Usage.OutputTokens = out
	resp.Usage.TotalTokens = resp.Usage.InputTokens + out
	resp.Metrics.LatencyMs = time.Since(start).Milliseconds()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

// response is ConverseResponse, the members the fake fills in.
type response struct {
	Output struct {
		Message struct {
			Role    string         `json:"role"`
			Content []ContentBlock `json:"content"`
		} `json:"message"`
	} `json:"output"`
	StopReason string `json:"stopReason"`
	Usage      struct {
		InputTokens  int `json:"inputTokens"`
		OutputTokens int `json:"outputTokens"`
		TotalTokens  int `json:"totalTokens"`
	} `json:"usage"`
	Metrics struct {
		LatencyMs int64 `json:"latencyMs"`
	} `json:"metrics"`
}

func writeError(w http.ResponseWriter, e *APIError) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-ErrorType", e.Code+errorTypeSuffix)
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": e.Message})
}

// checkAuth wants a SigV4 header for the "bedrock" signing name. The
// signature itself is not verified: the fake has no secret to check it with.
func checkAuth(r *http.Request) *APIError {
	a := r.Header.Get("Authorization")
	if a == "" {
		return &APIError{Status: 403, Code: "MissingAuthenticationTokenException", Message: "Missing Authentication Token"}
	}
	cred, _, _ := strings.Cut(strings.TrimPrefix(a, "AWS4-HMAC-SHA256 Credential="), ",")
	scope := strings.Split(cred, "/")
	if !strings.HasPrefix(a, "AWS4-HMAC-SHA256 Credential=") || !strings.Contains(a, "SignedHeaders=") ||
		!strings.Contains(a, "Signature=") || len(scope) != 5 || scope[3] != "bedrock" || scope[4] != "aws4_request" {
		return &APIError{Status: 403, Code: "InvalidSignatureException", Message: "the Authorization header is not a SigV4 signature for bedrock"}
	}
	if r.Header.Get("X-Amz-Date") == "" {
		return &APIError{Status: 403, Code: "InvalidSignatureException", Message: "missing X-Amz-Date"}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// Behaviours.

// Good writes a plausible draft that passes the guardrails, from the facts
// block in the prompt.
func Good() Behaviour {
	return Behaviour{name: "good", text: func(r Request) string { return goodDraft(r) }}
}

// Text answers with the given text.
func Text(s string) Behaviour {
	return Behaviour{name: "text", text: func(Request) string { return s }}
}

// WrongAmount states a total that is not in the facts.
func WrongAmount() Behaviour {
	return mutate("wrong_amount", func(b drafting.FactsBlock, s string) string {
		return strings.ReplaceAll(s, b.Total, wrongAmount(b.Total))
	})
}

// Threat adds a threat of arrest.
func Threat() Behaviour {
	return mutate("threat", func(_ drafting.FactsBlock, s string) string {
		return insertAfterFirstLine(s, "If you do not pay, we will have you arrested.")
	})
}

// MissingDisclosure leaves out the first required disclosure (the
// mini-Miranda, when required).
func MissingDisclosure() Behaviour {
	return mutate("missing_disclosure", func(b drafting.FactsBlock, s string) string {
		for _, d := range b.Disclosures {
			if d.Kind == "mini_miranda" {
				return strings.ReplaceAll(s, d.Text, "")
			}
		}
		if len(b.Disclosures) > 0 {
			return strings.ReplaceAll(s, b.Disclosures[0].Text, "")
		}
		return s
	})
}

// Link adds a payment link of the model's own.
func Link() Behaviour {
	return mutate("link", func(_ drafting.FactsBlock, s string) string {
		return insertAfterFirstLine(s, "You can pay now at https://pay.example.com/invoice.")
	})
}

// LongSMS pads the draft far past two SMS segments.
func LongSMS() Behaviour {
	return mutate("long_sms", func(_ drafting.FactsBlock, s string) string {
		return s + strings.Repeat(" We appreciate your business and look forward to hearing from you.", 6)
	})
}

// WrongName signs the draft as a person the facts do not know.
func WrongName() Behaviour {
	return mutate("wrong_name", func(_ drafting.FactsBlock, s string) string {
		return s + "\nThanks,\nSarah"
	})
}

// Truncated stops at the token limit, as a model does when it runs out.
func Truncated() Behaviour {
	b := mutate("truncated", func(_ drafting.FactsBlock, s string) string { return s[:len(s)/2] })
	b.stop = "max_tokens"
	return b
}

// Throttle answers 429 ThrottlingException, as the service does when the
// account's quota is used up.
func Throttle() Behaviour {
	return Fail(429, "ThrottlingException", "Too many requests, please wait before trying again.")
}

// ModelTimeout answers 408 ModelTimeoutException.
func ModelTimeout() Behaviour {
	return Fail(408, "ModelTimeoutException", "Model has timed out in processing the request. Try your request again.")
}

// Unavailable answers 503 ServiceUnavailableException.
func Unavailable() Behaviour {
	return Fail(503, "ServiceUnavailableException", "Bedrock is unable to process your request.")
}

// Fail answers with any service error.
func Fail(status int, code, message string) Behaviour {
	return Behaviour{name: "fail:" + code, err: &APIError{Status: status, Code: code, Message: message}}
}

// Delay waits d (or until the client gives up) before behaving as then.
func Delay(d time.Duration, then Behaviour) Behaviour {
	then.name = "delay:" + then.name
	then.delay = d
	return then
}

func mutate(name string, f func(drafting.FactsBlock, string) string) Behaviour {
	return Behaviour{name: name, text: func(r Request) string {
		good := goodDraft(r)
		b, err := factsOf(r)
		if err != nil {
			return good
		}
		return f(b, good)
	}}
}

// wrongAmount changes the leading digit of an amount: "$2,000.00" becomes
// "$3,000.00", keeping its shape so only the value is wrong.
func wrongAmount(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			return s[:i] + string([]byte{'1' + (c-'0')%9}) + s[i+1:]
		}
	}
	return s + "1"
}

func insertAfterFirstLine(s, line string) string {
	first, rest, ok := strings.Cut(s, "\n")
	if !ok {
		return s + " " + line
	}
	return first + "\n" + line + "\n" + rest
}

// factsOf reads the facts block from the first user message carrying one.
func factsOf(r Request) (drafting.FactsBlock, error) {
	for _, m := range r.Messages {
		if m.Role != "user" {
			continue
		}
		for _, c := range m.Content {
			if b, err := drafting.ParseFactsBlock(c.Text); err == nil {
				return b, nil
			}
		}
	}
	return drafting.FactsBlock{}, drafting.ErrFactsBlock
}
