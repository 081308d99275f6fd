package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sort"

	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/recoup-dev/recoup/events"
	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/stream/kinesis"
)

// runEvents runs `recoup events replay --stream S FILE...`: it reads
// recorded engagement events (JSON Lines, one event a line), checks every
// one against the contract, and only then puts them on the stream in file
// order, with the customer as partition key.
func runEvents(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "replay" {
		return fmt.Errorf("%w: events replay --stream NAME FILE (one or more)", errUsage)
	}
	fs := newFlags("events replay", stderr)
	stream := fs.String("stream", "recoup-engagement", "Kinesis stream name")
	shards := fs.Int("shards", 2, "shards to create the stream with when it does not exist")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: at least one FILE of recorded events", errUsage)
	}
	var all []events.Event
	for _, name := range fs.Args() {
		evs, err := readEventLines(name)
		if err != nil {
			return err
		}
		all = append(all, evs...)
	}
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		return err
	}
	pub, err := kinesis.NewPublisher(awskinesis.NewFromConfig(cfg), *stream)
	if err != nil {
		return err
	}
	if err := pub.EnsureStream(ctx, int32(*shards)); err != nil {
		return err
	}
	if err := pub.Put(ctx, all); err != nil {
		return err
	}
	byType := map[events.Type]int{}
	for _, ev := range all {
		byType[ev.Type()]++
	}
	types := make([]string, 0, len(byType))
	for t := range byType {
		types = append(types, string(t))
	}
	sort.Strings(types)
	fmt.Fprintf(stdout, "put %d events on stream %s:\n", len(all), *stream)
	for _, t := range types {
		fmt.Fprintf(stdout, "  %-22s %d\n", t, byType[events.Type(t)])
	}
	return nil
}

// readEventLines decodes a JSON Lines file of events, refusing the whole
// file on the first bad line (named by file and line) so a replay never
// puts half a recording.
func readEventLines(name string) ([]events.Event, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var out []events.Event
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), events.MaxSize+1)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		ev, err := events.Decode(b)
		if err != nil {
			return nil, fmt.Errorf("%w: %s line %d: %v", errUsage, name, line, err)
		}
		out = append(out, ev)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}
