// Command outbox serves the local stack's fake SES, End User Messaging SMS
// and Connect endpoint (infra/local/outbox) on 127.0.0.1, appending every
// accepted send to an outbox file that `recoup outbox` shows.
//
//	go run ./infra/local/cmd/outbox -addr 127.0.0.1:9330 -outbox .local/outbox.jsonl
//
// Point the senders at it with AWS_ENDPOINT_URL_SESV2,
// AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2 and AWS_ENDPOINT_URL_CONNECT.
// SIGINT or SIGTERM stops it, letting requests in progress finish for up to
// 10 s.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/recoup-dev/recoup/infra/local/outbox"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "outbox:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:9330", "listen address (127.0.0.1 only)")
	path := flag.String("outbox", ".local/outbox.jsonl", "outbox file: one JSON line per accepted send")
	region := flag.String("region", "", "when set, requests must be signed for this region")
	reject := flag.String("reject", "", "comma-separated addresses (e-mail or E.164) every send to which is refused for good")
	level := flag.String("log-level", "info", "debug|info|warn|error")
	flag.Parse()

	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))

	srv, err := outbox.New(outbox.Options{Path: *path, Region: *region, Logger: log})
	if err != nil {
		return err
	}
	for a := range strings.SplitSeq(*reject, ",") {
		if a = strings.TrimSpace(a); a != "" {
			srv.Reject(a)
		}
	}
	if _, err := srv.Start(*addr); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	log.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Close(shutdown); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}
