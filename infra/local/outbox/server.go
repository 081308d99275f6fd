// Package outbox is the local stack's stand-in for the three providers Recoup
// sends through: Amazon SES v2, AWS End User Messaging SMS and Amazon
// Connect. One http.Handler speaks each service's real wire protocol, so the
// same aws-sdk-go-v2 clients work against it unchanged (point
// AWS_ENDPOINT_URL_SESV2, AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2 and
// AWS_ENDPOINT_URL_CONNECT at it):
//
//	POST /v2/email/outbound-emails                   SES v2 SendEmail (REST-JSON)
//	POST / X-Amz-Target: PinpointSMSVoiceV2.SendTextMessage   (AWS JSON 1.0)
//	PUT  /contact/outbound-voice                     Connect StartOutboundVoiceContact (REST-JSON)
//	POST /contact/tags                               Connect TagContact (REST-JSON)
//	GET  /health                                     liveness for the local stack
//
// It checks what the real services check first (a SigV4 Authorization
// header for the right signing name, the content type, required members and
// their formats) and answers with the services' own error shapes. Nothing is
// delivered: every accepted send is appended as one JSON line to the outbox
// file, which Read and Print show (`recoup outbox`). Tests can inject faults:
// throttling, internal errors, a dropped answer, addresses that are refused.
package outbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Service is a provider the server stands in for, named by its SigV4
// signing name.
type Service string

// Services.
const (
	ServiceSES     Service = "ses"
	ServiceSMS     Service = "sms-voice"
	ServiceConnect Service = "connect"
)

// Fault is an injected failure.
type Fault int

// Faults.
const (
	// FaultThrottle answers with the service's throttling error.
	FaultThrottle Fault = iota + 1
	// FaultInternal answers 500 with the service's internal error.
	FaultInternal
	// FaultDrop accepts and records the send, then closes the connection
	// without answering: the provider sent, the client never learns it.
	FaultDrop
)

// maxBody bounds a request body: an e-mail with simple content is far
// smaller, and the SES limit for a whole message is 40 MB.
const maxBody = 10 << 20

// Options configure a Server.
type Options struct {
	// Path is the outbox file (JSON lines); required. Its folder is
	// created.
	Path string
	// Region, when set, must be the region in each request's credential
	// scope.
	Region string
	// Logger gets one record per request: service, operation, outcome and
	// masked destination, never content.
	Logger *slog.Logger
	// Now is the clock of outbox entries.
	Now func() time.Time
}

// Server is the fake provider endpoint. It is safe for concurrent use.
type Server struct {
	path   string
	region string
	log    *slog.Logger
	now    func() time.Time

	writeMu sync.Mutex // one append at a time, so lines never interleave

	mu       sync.Mutex
	faults   map[Service][]Fault
	rejected map[string]bool
	contacts map[string]string            // Connect instance + ClientToken → ContactId
	started  map[string]string            // Connect ContactId → instance
	tags     map[string]map[string]string // Connect ContactId → tags

	http *http.Server
}

// New returns a server appending to opts.Path.
func New(opts Options) (*Server, error) {
	if opts.Path == "" {
		return nil, errors.New("outbox: Options.Path is required")
	}
	if err := os.MkdirAll(filepath.Dir(opts.Path), 0o755); err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	s := &Server{path: opts.Path, region: opts.Region, log: opts.Logger, now: opts.Now,
		faults: map[Service][]Fault{}, rejected: map[string]bool{},
		contacts: map[string]string{}, started: map[string]string{}, tags: map[string]map[string]string{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Path is the outbox file.
func (s *Server) Path() string { return s.path }

// Inject makes the next n requests to svc that pass validation fail with f,
// after any faults already queued.
func (s *Server) Inject(svc Service, f Fault, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[svc] = append(s.faults[svc], f)
	}
}

// Reject makes every send to address fail permanently, as the provider
// refuses it: SES MessageRejected, SMS ConflictException
// (DESTINATION_PHONE_NUMBER_OPTED_OUT), Connect
// DestinationNotAllowedException. E-mail addresses match in any case.
func (s *Server) Reject(address string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejected[strings.ToLower(strings.TrimSpace(address))] = true
}

// ContactTags returns the tags TagContact set on a contact.
func (s *Server) ContactTags(contactID string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for k, v := range s.tags[contactID] {
		out[k] = v
	}
	return out
}

func (s *Server) isRejected(address string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rejected[strings.ToLower(strings.TrimSpace(address))]
}

func (s *Server) nextFault(svc Service) Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[svc]
	if len(q) == 0 {
		return 0
	}
	s.faults[svc] = q[1:]
	return q[0]
}

// Start listens on addr, which must be on 127.0.0.1 (port 0 picks a free
// one), serves in the background and returns the endpoint URL.
func (s *Server) Start(addr string) (string, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("outbox: address %q: %w", addr, err)
	}
	if host != "127.0.0.1" {
		return "", fmt.Errorf("outbox: address %q: only 127.0.0.1 is allowed (the fake checks no signature)", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("outbox: %w", err)
	}
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.http.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serve", "err", err)
		}
	}()
	endpoint := "http://" + l.Addr().String()
	s.log.Info("listening", "endpoint", endpoint, "outbox", s.path)
	return endpoint, nil
}

// Close stops a started server, waiting for requests in progress until ctx
// is done.
func (s *Server) Close(ctx context.Context) error {
	if s.http == nil {
		return nil
	}
	return s.http.Shutdown(ctx)
}

// ServeHTTP routes a request to its operation.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/health":
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "ok\n")
	case r.URL.Path == "/v2/email/outbound-emails":
		s.serve(w, r, ServiceSES, restJSON, http.MethodPost, "SendEmail", s.sendEmail)
	case r.URL.Path == "/contact/outbound-voice":
		s.serve(w, r, ServiceConnect, restJSON, http.MethodPut, "StartOutboundVoiceContact", s.startOutboundVoiceContact)
	case r.URL.Path == "/contact/tags":
		s.serve(w, r, ServiceConnect, restJSON, http.MethodPost, "TagContact", s.tagContact)
	case r.URL.Path == "/" && r.Header.Get("X-Amz-Target") != "":
		target := r.Header.Get("X-Amz-Target")
		if target != smsTarget {
			s.fail(w, ServiceSMS, awsJSON, "?", errUnknownOperation(target))
			return
		}
		s.serve(w, r, ServiceSMS, awsJSON, http.MethodPost, "SendTextMessage", s.sendTextMessage)
	default:
		s.fail(w, "", restJSON, "?", &apiError{status: http.StatusNotFound, code: "UnknownOperationException",
			message: fmt.Sprintf("no operation at %s %s: this outbox serves SES SendEmail, SMS SendTextMessage and Connect StartOutboundVoiceContact/TagContact", r.Method, r.URL.Path)})
	}
}

// protocol is how a service frames errors.
type protocol int

const (
	restJSON protocol = iota + 1
	awsJSON
)

// contentType is what each protocol's requests and answers carry.
func (p protocol) contentType() string {
	if p == awsJSON {
		return "application/x-amz-json-1.0"
	}
	return "application/json"
}

// accepted is what an operation hands back: the answer and, for a send, the
// outbox entry to append before answering.
type accepted struct {
	answer any
	entry  *Entry
	to     string // for the log, masked there
	// undo takes back what the operation reserved when the send then
	// fails (an injected fault, the append).
	undo func()
}

type operation func(body []byte) (accepted, *apiError)

func (s *Server) serve(w http.ResponseWriter, r *http.Request, svc Service, p protocol, method, op string, handle operation) {
	if r.Method != method {
		s.fail(w, svc, p, op, &apiError{status: http.StatusMethodNotAllowed, code: "UnknownOperationException",
			message: fmt.Sprintf("%s is %s %s", op, method, r.URL.Path)})
		return
	}
	if e := checkAuth(r.Header, svc, s.region); e != nil {
		s.fail(w, svc, p, op, e)
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, p.contentType()) {
		s.fail(w, svc, p, op, errSerialization("Content-Type %q, want %s", ct, p.contentType()))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		s.fail(w, svc, p, op, errSerialization("request body: %v", err))
		return
	}
	acc, e := handle(body)
	if e != nil {
		s.fail(w, svc, p, op, e)
		return
	}
	fault := Fault(0)
	if acc.entry != nil {
		fault = s.nextFault(svc)
	}
	refuse := func(e *apiError) {
		if acc.undo != nil {
			acc.undo()
		}
		s.fail(w, svc, p, op, e)
	}
	switch fault {
	case FaultThrottle:
		refuse(errThrottle(svc))
		return
	case FaultInternal:
		refuse(errInternal(svc))
		return
	}
	if acc.entry != nil {
		if err := s.append(*acc.entry); err != nil {
			s.log.Error("append to outbox", "service", string(svc), "err", err)
			refuse(errInternal(svc))
			return
		}
	}
	if fault == FaultDrop {
		s.log.Info("accepted, answer dropped", "service", string(svc), "operation", op, "to", mask(acc.to))
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // closes the connection without an answer
	}
	b, err := json.Marshal(acc.answer)
	if err != nil {
		s.fail(w, svc, p, op, errInternal(svc))
		return
	}
	w.Header().Set("Content-Type", p.contentType())
	w.Header().Set("X-Amzn-RequestId", newUUID())
	w.WriteHeader(http.StatusOK)
	w.Write(b)
	s.log.Info("accepted", "service", string(svc), "operation", op, "to", mask(acc.to))
}

func (s *Server) fail(w http.ResponseWriter, svc Service, p protocol, op string, e *apiError) {
	s.log.Info("refused", "service", string(svc), "operation", op, "status", e.status, "code", e.code)
	e.write(w, p, svc)
}

// append writes e as one line with one write on a file opened for
// appending, so concurrent requests (and processes) never interleave
// lines, and a reader sees whole lines or a last partial one.
func (s *Server) append(e Entry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// newUUID returns a random (version 4) UUID, the form of SMS message ids,
// Connect contact ids and request ids.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
