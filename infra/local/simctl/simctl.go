// Package simctl is what the local ERP simulators (ebssim, d365sim) share
// around their fakes: the control API's plumbing under /_sim/ (routes,
// strict JSON bodies, errors) and the command that serves a simulator on
// 127.0.0.1 until SIGINT or SIGTERM.
package simctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Route checks a control request against routes (path → method) and
// answers 404 or 405 itself; false means it has answered.
func Route(w http.ResponseWriter, r *http.Request, routes map[string]string) bool {
	want, ok := routes[r.URL.Path]
	switch {
	case !ok:
		var names []string
		for p := range routes {
			names = append(names, strings.TrimPrefix(p, "/_sim/"))
		}
		sort.Strings(names)
		Error(w, http.StatusNotFound, "no control endpoint %s: see /_sim/%s", clip(r.URL.Path), strings.Join(names, ", "))
		return false
	case r.Method != want:
		Error(w, http.StatusMethodNotAllowed, "%s is %s", r.URL.Path, want)
		return false
	}
	return true
}

// Decode reads one JSON object of at most max bytes into v, refusing
// unknown fields so a misspelt option fails loudly instead of being
// ignored. An empty body leaves v as it is. On error it has answered 400.
func Decode(w http.ResponseWriter, r *http.Request, v any, max int64) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, max))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("data after the JSON object")
	}
	if err != nil && !errors.Is(err, io.EOF) {
		Error(w, http.StatusBadRequest, "body: %v", err)
		return false
	}
	return true
}

// Error answers {"error": message}.
func Error(w http.ResponseWriter, status int, format string, args ...any) {
	JSON(w, status, map[string]string{"error": fmt.Sprintf(format, args...)})
}

// JSON answers v as JSON.
func JSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // only maps, slices and strings are marshalled: cannot happen
		status, b = http.StatusInternalServerError, []byte(`{"error":"encode answer"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// Durations parses the fault options given as Go duration strings
// ("300ms"), naming the option at fault; "" leaves its target as it is.
func Durations(opts map[string]string, to map[string]*time.Duration) error {
	for name, text := range opts {
		if text == "" {
			continue
		}
		d, err := time.ParseDuration(text)
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		*to[name] = d
	}
	return nil
}

// Logger is a JSON logger on stderr at level (debug, info, warn, error).
func Logger(level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("-log-level: %w", err)
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: lvl})), nil
}

// Serve serves h on addr, which must be on 127.0.0.1 (the control API has
// no authentication), until SIGINT or SIGTERM, then lets requests in
// progress finish for up to 10 s.
func Serve(addr string, h http.Handler, log *slog.Logger) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", addr, err)
	}
	if host != "127.0.0.1" {
		return fmt.Errorf("-addr %q: only 127.0.0.1 is allowed (the control API has no authentication)", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	log.Info("listening", "endpoint", "http://"+l.Addr().String())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

func clip(s string) string {
	if len(s) > 80 {
		s = s[:80]
	}
	return strings.ToValidUTF8(s, "?")
}
