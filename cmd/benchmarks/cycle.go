package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/recoup-dev/recoup/cmd/internal/timings"
	"github.com/recoup-dev/recoup/infra/local"
	"github.com/recoup-dev/recoup/shared/awsconfig"
)

// cycleDays is how many simulated days the full-cycle row runs: the
// sample portfolio's 5,000 customers have about 1,700 with an overdue
// balance, and a daily run reaches 1,000, so the second day reaches the
// rest and the third wakes the cycles whose time has come.
const cycleDays = 3

// cycleRows runs the demo's full local cycle on the bench stack for the
// 5,000-customer sample portfolio (import, training, consent, then
// cycleDays days of daily runs on Step Functions through the real Lambda
// binaries, each followed by its engagement on Kinesis), and sets day 1's
// daily run beside the floor the emulators impose: as many executions of
// a one-Pass state machine, 10 at a time as the daily run's Map starts
// them, on the same Step Functions server.
func cycleRows(ctx context.Context, root string) ([]row, error) {
	// The demo expects what `make up` provisions.
	if _, err := provision(ctx); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "recoup-bench-cycle-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "timings.json")
	cli := filepath.Join(root, ".local", "bin", "recoup")
	cmd := exec.CommandContext(ctx, cli, "demo", "--dir", filepath.Join(dir, "demo"), "--tenant", "benchcycle",
		"--every", "1", "--days", fmt.Sprint(cycleDays), "--timings", file)
	cmd.Dir = root
	// The demo's own output is long; keep it for a failure.
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s demo: %w\n%s", cli, err, tail(out, 4000))
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var t timings.Report
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(t.Days) != cycleDays || t.Days[0].Reached == 0 {
		return nil, fmt.Errorf("%s: %d days, day 1 reached %d customers; want %d days", file, len(t.Days), t.Days[0].Reached, cycleDays)
	}
	var perDay []string
	daysSeconds := 0.0
	for _, d := range t.Days {
		perDay = append(perDay, fmt.Sprintf("%s %d in %.1f s", d.Date, d.Reached, d.SettledSeconds))
		daysSeconds += d.DaySeconds
	}
	d1 := t.Days[0]
	floor, err := passFloor(ctx, d1.Reached)
	if err != nil {
		return nil, err
	}
	secs := func(s float64) string { return fmt.Sprintf("%.1f s", s) }
	return []row{
		{what: "full local cycle, 5,000-customer portfolio, end to end", value: secs(t.TotalSeconds),
			note: fmt.Sprintf("generate, import (%s), re-import, KPIs, train (%s), consent, then %d simulated days (%s): daily runs reaching %s",
				secs(t.Stage("import")), secs(t.Stage("train")), len(t.Days), secs(daysSeconds), strings.Join(perDay, ", "))},
		{what: fmt.Sprintf("  day 1 daily run, %d cycles settled", d1.Reached), value: secs(d1.SettledSeconds),
			baseline: secs(floor.Seconds()), ratio: fmt.Sprintf("%.1f", d1.SettledSeconds/floor.Seconds()),
			note: fmt.Sprintf("Score, Plan, Draft, Approval, Send, Park per customer through the Lambda host; baseline: the emulator's floor, %d one-Pass executions, 10 at a time, on the same server", d1.Reached)},
		{what: "  day 1 engagement replayed and re-planned", value: secs(d1.DaySeconds - d1.SettledSeconds),
			note: "the day's events on Kinesis, applied, and the cycles they woke planned again"},
	}, nil
}

// passFloor times n executions of a one-Pass state machine, 10 at a
// time, each from its start until Step Functions reports it succeeded.
func passFloor(ctx context.Context, n int) (time.Duration, error) {
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		return 0, err
	}
	api := awssfn.NewFromConfig(cfg)
	created, err := api.CreateStateMachine(ctx, &awssfn.CreateStateMachineInput{
		Name:       aws.String(fmt.Sprintf("bench-floor-%d", time.Now().UnixNano())),
		Definition: aws.String(`{"StartAt":"Pass","States":{"Pass":{"Type":"Pass","End":true}}}`),
		RoleArn:    aws.String(fmt.Sprintf("arn:aws:iam::%s:role/bench", local.Account)),
	})
	if err != nil {
		return 0, fmt.Errorf("create the floor's state machine: %w", err)
	}
	machine := created.StateMachineArn
	next := make(chan int)
	errs := make(chan error, 10)
	var wg sync.WaitGroup
	began := time.Now()
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := runPass(ctx, api, machine, i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := range n {
		select {
		case next <- i:
		case err := <-errs:
			close(next)
			wg.Wait()
			return 0, err
		}
	}
	close(next)
	wg.Wait()
	took := time.Since(began)
	select {
	case err := <-errs:
		return 0, err
	default:
	}
	return took, nil
}

func runPass(ctx context.Context, api *awssfn.Client, machine *string, i int) error {
	out, err := api.StartExecution(ctx, &awssfn.StartExecutionInput{StateMachineArn: machine,
		Name: aws.String(fmt.Sprintf("floor-%d", i)), Input: aws.String(`{}`)})
	if err != nil {
		return fmt.Errorf("start floor execution %d: %w", i, err)
	}
	for {
		desc, err := api.DescribeExecution(ctx, &awssfn.DescribeExecutionInput{ExecutionArn: out.ExecutionArn})
		if err != nil {
			return fmt.Errorf("floor execution %d: %w", i, err)
		}
		switch desc.Status {
		case sfntypes.ExecutionStatusSucceeded:
			return nil
		case sfntypes.ExecutionStatusRunning, sfntypes.ExecutionStatusPendingRedrive:
			time.Sleep(10 * time.Millisecond)
		default:
			return fmt.Errorf("floor execution %d ended %s", i, desc.Status)
		}
	}
}

// tail is the last n bytes of b.
func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
