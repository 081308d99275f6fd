// Command sqslocal serves the local stack's SQS emulator
// (infra/local/sqslocal) on 127.0.0.1.
//
//	go run ./infra/local/cmd/sqslocal -addr 127.0.0.1:9324 -data .local/sqs
//
// SIGINT or SIGTERM stops it: long polls end empty, requests in progress get
// up to 10 s, and the queues are written to <data>/sqslocal.json.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/recoup-dev/recoup/infra/local/sqslocal"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sqslocal:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:9324", "listen address (127.0.0.1 only)")
	data := flag.String("data", "", "folder for sqslocal.json, written on shutdown and read on start (empty: memory only)")
	region := flag.String("region", sqslocal.DefaultRegion, "region in queue ARNs")
	level := flag.String("log-level", "info", "debug|info|warn|error")
	flag.Parse()

	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))

	srv, err := sqslocal.New(sqslocal.Options{Region: *region, DataDir: *data, Logger: log})
	if err != nil {
		return err
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
