package sqslocal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/recoup-dev/recoup/shared/atomicfile"
)

// Defaults for [Options].
const (
	DefaultRegion    = "us-east-1"
	DefaultAccountID = "000000000000"
)

// stateFile is the name of the persisted state inside Options.DataDir.
const stateFile = "sqslocal.json"

// maxRequestBytes bounds a request body: a 1 MiB message batch plus JSON
// overhead and base64 growth of binary attributes.
const maxRequestBytes = 4 << 20

// Options configure a [Server].
type Options struct {
	// Region and AccountID appear in queue URLs and ARNs.
	Region    string
	AccountID string
	// DataDir, when set, holds sqslocal.json: the queues and their messages,
	// written by Close and read by New, so that a restart keeps dead letters.
	DataDir string
	// Logger receives one record per failed request and the lifecycle
	// events; message bodies and attributes are never logged.
	Logger *slog.Logger
}

// Server is an in-memory SQS service speaking AWS JSON 1.0. It is safe for
// concurrent use. Build one with [New], then [Server.Start] it or use it as
// an http.Handler.
type Server struct {
	region, account string
	dataDir         string
	log             *slog.Logger

	mu      sync.Mutex
	queues  map[string]*queue
	baseURL string // http://127.0.0.1:<port>, set by Start

	closing   chan struct{}
	closeOnce sync.Once
	http      *http.Server
}

// New returns a server, loading Options.DataDir/sqslocal.json when it
// exists.
func New(opts Options) (*Server, error) {
	s := &Server{
		region: opts.Region, account: opts.AccountID, dataDir: opts.DataDir, log: opts.Logger,
		queues: map[string]*queue{}, closing: make(chan struct{}),
	}
	if s.region == "" {
		s.region = DefaultRegion
	}
	if s.account == "" {
		s.account = DefaultAccountID
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

// Start listens on addr, which must be on 127.0.0.1 (port 0 picks a free
// one), and serves in the background. It returns the endpoint URL,
// e.g. http://127.0.0.1:9324.
func (s *Server) Start(addr string) (string, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("sqslocal: address %q: %w", addr, err)
	}
	if host != "127.0.0.1" {
		return "", fmt.Errorf("sqslocal: address %q: only 127.0.0.1 is allowed (the emulator has no authentication)", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("sqslocal: %w", err)
	}
	endpoint := "http://" + l.Addr().String()
	s.mu.Lock()
	s.baseURL = endpoint
	queues := len(s.queues)
	s.mu.Unlock()
	// WriteTimeout must outlast a 20 s long poll.
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 60 * time.Second}
	go func() {
		if err := s.http.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serve", "err", err)
		}
	}()
	s.log.Info("listening", "endpoint", endpoint, "region", s.region, "queues", queues)
	return endpoint, nil
}

// Close ends long polls (they return no messages), stops the HTTP server
// when Start ran, waiting for requests in progress until ctx is done, and
// persists the state when a data directory is set.
func (s *Server) Close(ctx context.Context) error {
	s.closeOnce.Do(func() { close(s.closing) })
	var errs []error
	if s.http != nil {
		if err := s.http.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if err := s.save(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// persisted is the layout of sqslocal.json.
type persisted struct {
	Version int      `json:"version"`
	Queues  []*queue `json:"queues"`
}

func (s *Server) statePath() string { return filepath.Join(s.dataDir, stateFile) }

func (s *Server) load() error {
	if s.dataDir == "" {
		return nil
	}
	b, err := os.ReadFile(s.statePath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sqslocal: load state: %w", err)
	}
	var p persisted
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("sqslocal: load state %s: %w", s.statePath(), err)
	}
	for _, q := range p.Queues {
		if q == nil || q.Name == "" || q.Attrs == nil {
			return fmt.Errorf("sqslocal: load state %s: a queue without a name or attributes", s.statePath())
		}
		q.wake = make(chan struct{})
		if q.Dedup == nil {
			q.Dedup = map[string]dedupEntry{}
		}
		s.queues[q.Name] = q
	}
	return nil
}

// save writes the state atomically (temporary file, then rename).
func (s *Server) save() error {
	if s.dataDir == "" {
		return nil
	}
	s.mu.Lock()
	p := persisted{Version: 1, Queues: slices.Collect(maps.Values(s.queues))}
	b, err := json.Marshal(p)
	s.mu.Unlock()
	if err == nil {
		err = atomicfile.Write(s.statePath(), b)
	}
	if err != nil {
		return fmt.Errorf("sqslocal: save state: %w", err)
	}
	s.log.Info("state saved", "path", s.statePath(), "queues", len(p.Queues))
	return nil
}

// ServeHTTP answers one AWS JSON 1.0 request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := newUUID()
	w.Header().Set("x-amzn-RequestId", requestID)
	start := time.Now()
	target := r.Header.Get("X-Amz-Target")
	out, err := s.handle(r, target)
	var ae *apiError
	if err != nil && !errors.As(err, &ae) {
		ae = errInternal(err)
	}
	if ae != nil {
		writeError(w, ae)
		level := slog.LevelInfo
		if ae.status >= 500 {
			level = slog.LevelError
		}
		s.log.Log(r.Context(), level, "request failed", "target", target, "status", ae.status,
			"error_type", ae.shape, "message", ae.message, "request_id", requestID, "ms", time.Since(start).Milliseconds())
		return
	}
	b, merr := json.Marshal(out)
	if merr != nil {
		writeError(w, errInternal(merr))
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
	s.log.Debug("request", "target", target, "request_id", requestID, "ms", time.Since(start).Milliseconds())
}

func writeError(w http.ResponseWriter, ae *apiError) {
	if ae.queryCode != "" {
		fault := "Sender"
		if !ae.sender {
			fault = "Receiver"
		}
		w.Header().Set("x-amzn-query-error", ae.queryCode+";"+fault)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(ae.status)
	b, _ := json.Marshal(map[string]string{"__type": ae.shape, "message": ae.message})
	w.Write(b)
}

func (s *Server) handle(r *http.Request, target string) (any, error) {
	if r.Method != http.MethodPost {
		return nil, errUnknownOperation(r.Method + " " + r.URL.Path)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-amz-json-1.0") {
		return nil, errUnknownOperation(target + " with Content-Type " + ct)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
	if err != nil {
		return nil, errSerialization("read the request: %v", err)
	}
	if len(body) > maxRequestBytes {
		return nil, errSerialization("request body over %d bytes", maxRequestBytes)
	}
	op, in, err := decodeRequest(target, body)
	if err != nil {
		return nil, err
	}
	base := s.endpoint(r)
	switch in := in.(type) {
	case *createQueueInput:
		return s.createQueue(base, in)
	case *getQueueURLInput:
		return s.getQueueURL(base, in)
	case *listQueuesInput:
		return s.listQueues(base, in)
	case *getQueueAttributesInput:
		return s.getQueueAttributes(in)
	case *setQueueAttributesInput:
		return s.setQueueAttributes(in)
	case *queueURLInput:
		if op == "PurgeQueue" {
			return s.purgeQueue(in)
		}
		return s.deleteQueue(in)
	case *sendMessageInput:
		return s.sendMessage(in)
	case *sendMessageBatchInput:
		return s.sendMessageBatch(in)
	case *receiveMessageInput:
		return s.receiveMessage(r.Context(), in)
	case *deleteMessageInput:
		return s.deleteMessage(in)
	case *changeVisibilityInput:
		return s.changeVisibility(in)
	case *batchHandleInput:
		if op == "DeleteMessageBatch" {
			return s.deleteMessageBatch(in)
		}
		return s.changeVisibilityBatch(in)
	}
	return nil, errUnknownOperation(target)
}

// endpoint is the base of queue URLs: the listening address, or the Host
// the request came to when the server runs as a plain handler.
func (s *Server) endpoint(r *http.Request) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.baseURL != "" {
		return s.baseURL
	}
	return "http://" + r.Host
}

func (s *Server) arn(name string) string {
	return "arn:aws:sqs:" + s.region + ":" + s.account + ":" + name
}

func (s *Server) url(base, name string) string { return base + "/" + s.account + "/" + name }

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
