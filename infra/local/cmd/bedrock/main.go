// Command bedrock serves a fake Amazon Bedrock Runtime on 127.0.0.1 for the
// local stack: the Converse API (POST /model/{modelId}/converse) of
// shared/llm/bedrock/fakeconverse with its default behaviour, a good draft
// written from the facts block in the prompt. Bedrock cannot run on a
// laptop; this lets the draft path run end to end.
//
//	go run ./infra/local/cmd/bedrock --port 8087
//
// Point the SDK at it with AWS_ENDPOINT_URL_BEDROCK_RUNTIME. Tests script
// it over HTTP (fakeconverse.Control): POST /_fake/script queues bad
// drafts or service errors for one customer's next calls, GET /_fake/calls
// reports what it did. Once it accepts
// connections it prints one line, "bedrock listening on
// http://127.0.0.1:<port>"; GET /health answers
// {"service":"bedrock-runtime","status":"ok"} for the stack's health probe.
// SIGINT or SIGTERM stops it, letting requests in progress finish for up to
// 10 s.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/recoup-dev/recoup/shared/llm/bedrock/fakeconverse"
)

// defaultPort is the local stack's default (infra/local DefaultBedrockPort).
const defaultPort = 8087

// shutdownGrace bounds how long requests in progress may run after a
// signal.
const shutdownGrace = 10 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		fmt.Fprintln(os.Stderr, "bedrock:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done, then shuts down cleanly. It writes the
// "listening on" line to stdout and its log (one JSON record per request)
// to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bedrock", flag.ContinueOnError)
	fs.SetOutput(stderr)
	port := fs.Int("port", defaultPort, "TCP port on 127.0.0.1 (0 picks a free one)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (the only flag is --port)", fs.Args())
	}
	if *port < 0 || *port > 65535 {
		return fmt.Errorf("--port %d: want a port number from 0 to 65535", *port)
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))

	// 127.0.0.1 only: the fake checks the shape of a signature, never the
	// signature itself.
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(*port)))
	if err != nil {
		return err
	}
	fake := fakeconverse.New()
	srv := &http.Server{Handler: handler(fake, fake.Control(), log), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	fmt.Fprintf(stdout, "bedrock listening on http://%s\n", l.Addr())

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// handler answers GET /health itself, hands the control API
// (fakeconverse.ControlPrefix) to control and every other request to the
// fake. No http.ServeMux: the fake parses the escaped path itself (a model
// id may be an ARN with escaped slashes), and a mux's path cleaning must not
// come in between.
func handler(fake, control http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/health" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"service":"bedrock-runtime","status":"ok"}`+"\n")
			return
		}
		if strings.HasPrefix(r.URL.Path, fakeconverse.ControlPrefix) {
			control.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		fake.ServeHTTP(rec, r)
		// Path and outcome only: the prompt holds debtor data.
		log.Info("request", "method", r.Method, "path", r.URL.EscapedPath(), "status", rec.status,
			"error", rec.Header().Get("x-amzn-ErrorType"), "ms", time.Since(start).Milliseconds())
	})
}

// statusRecorder remembers the status code a handler wrote, for the log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
