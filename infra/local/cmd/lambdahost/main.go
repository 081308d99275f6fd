// Command lambdahost runs Recoup's Lambda bootstrap binaries locally behind
// the Lambda Invoke API and drives their Kinesis event source mappings.
//
//	lambdahost -config infra/local/lambdahost.json -base . -addr 127.0.0.1:9001
//
// Point the SDK at it with AWS_ENDPOINT_URL_LAMBDA=http://127.0.0.1:9001.
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

	"github.com/recoup-dev/recoup/infra/local/lambdahost"
)

func main() {
	os.Exit(run())
}

func run() int {
	fs := flag.NewFlagSet("lambdahost", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:9001", "Invoke API listen address")
	configPath := fs.String("config", "", "path of the JSON config file (required)")
	base := fs.String("base", ".", "directory that relative paths in the config resolve against")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}

	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(os.Stderr, "lambdahost: -log-level: %v\n", err)
		return 2
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	slog.SetDefault(logger)

	if *configPath == "" {
		logger.Error("-config is required")
		fs.Usage()
		return 2
	}
	cfg, err := lambdahost.LoadConfig(*configPath, *base)
	if err != nil {
		logger.Error("invalid configuration", "err", err.Error())
		return 1
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	host, err := lambdahost.New(cfg, lambdahost.Options{Addr: *addr, Logger: logger})
	if err != nil {
		logger.Error("creating host", "err", err)
		return 1
	}
	if err := host.Start(ctx); err != nil {
		logger.Error("starting host", "err", err)
		return 1
	}

	<-ctx.Done()
	stop() // a second signal now kills the process the default way
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := host.Shutdown(shutdownCtx); err != nil {
		logger.Error("shutdown", "err", err)
		return 1
	}
	return 0
}
