// Command echofn is a tiny Lambda used by the lambdahost tests. It is built
// with -tags lambda.norpc like the real functions.
//
// For a plain JSON object it echoes the input back together with details
// of its execution environment, and obeys these optional fields:
//
//	"error": "msg"      return an error with that message
//	"sleep_ms": n       sleep before answering (timeouts, concurrency)
//	"exit": code        os.Exit mid-invocation (crashes)
//	"panic": "msg"      panic
//	"env": ["NAME"]     report those environment variables
//	"touch": "/path"    write the input to that file (to observe Event invocations)
//
// For a Kinesis event it appends every record to the file named by
// ECHOFN_RECORD_LOG (one JSON line per delivery), fails the whole
// invocation if any record's data contains "boom", and otherwise reports
// records whose data contains "fail" in batchItemFailures ("bogus" reports
// an itemIdentifier that is not in the batch).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type request struct {
	Records []json.RawMessage `json:"Records"`
	Error   string            `json:"error"`
	SleepMS int               `json:"sleep_ms"`
	Exit    *int              `json:"exit"`
	Panic   string            `json:"panic"`
	Env     []string          `json:"env"`
	Touch   string            `json:"touch"`
}

type response struct {
	Input       json.RawMessage   `json:"input"`
	PID         int               `json:"pid"`
	RequestID   string            `json:"request_id"`
	FunctionARN string            `json:"function_arn"`
	DeadlineMS  int64             `json:"deadline_ms"`
	Env         map[string]string `json:"env,omitempty"`
}

// delivery is one line of the ECHOFN_RECORD_LOG file.
type delivery struct {
	PID            int    `json:"pid"`
	Shard          string `json:"shard"`
	Sequence       string `json:"sequence"`
	PartitionKey   string `json:"partition_key"`
	Data           string `json:"data"`
	EventSourceARN string `json:"event_source_arn"`
	EventName      string `json:"event_name"`
	BatchSize      int    `json:"batch_size"`
}

func handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var req request
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, err
	}
	if len(req.Records) > 0 {
		var ev events.KinesisEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, err
		}
		return handleKinesis(ev)
	}
	if req.SleepMS > 0 {
		time.Sleep(time.Duration(req.SleepMS) * time.Millisecond)
	}
	if req.Touch != "" {
		if err := os.WriteFile(req.Touch, raw, 0o644); err != nil {
			return nil, err
		}
	}
	if req.Exit != nil {
		os.Exit(*req.Exit)
	}
	if req.Panic != "" {
		panic(req.Panic)
	}
	if req.Error != "" {
		return nil, errors.New(req.Error)
	}
	lc, _ := lambdacontext.FromContext(ctx)
	deadline, _ := ctx.Deadline()
	resp := response{Input: raw, PID: os.Getpid(), DeadlineMS: deadline.UnixMilli()}
	if lc != nil {
		resp.RequestID = lc.AwsRequestID
		resp.FunctionARN = lc.InvokedFunctionArn
	}
	if len(req.Env) > 0 {
		resp.Env = map[string]string{}
		for _, k := range req.Env {
			resp.Env[k] = os.Getenv(k)
		}
	}
	return resp, nil
}

func handleKinesis(ev events.KinesisEvent) (any, error) {
	if path := os.Getenv("ECHOFN_RECORD_LOG"); path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return nil, err
		}
		enc := json.NewEncoder(f)
		for _, r := range ev.Records {
			shard, _, _ := strings.Cut(r.EventID, ":")
			_ = enc.Encode(delivery{
				PID: os.Getpid(), Shard: shard, Sequence: r.Kinesis.SequenceNumber,
				PartitionKey: r.Kinesis.PartitionKey, Data: string(r.Kinesis.Data),
				EventSourceARN: r.EventSourceArn, EventName: r.EventName, BatchSize: len(ev.Records),
			})
		}
		f.Close()
	}
	var resp events.KinesisEventResponse
	for _, r := range ev.Records {
		data := string(r.Kinesis.Data)
		switch {
		case strings.Contains(data, "boom"):
			return nil, errors.New("boom in record " + r.Kinesis.SequenceNumber)
		case strings.Contains(data, "bogus"):
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.KinesisBatchItemFailure{ItemIdentifier: "not-a-sequence-number"})
		case strings.Contains(data, "fail"):
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.KinesisBatchItemFailure{ItemIdentifier: r.Kinesis.SequenceNumber})
		}
	}
	return resp, nil
}

func main() {
	if os.Getenv("ECHOFN_INIT_ERROR") != "" {
		// Exercise /runtime/init/error: aws-lambda-go has no public hook
		// for it, so post it the way a custom runtime would.
		postInitError(os.Getenv("ECHOFN_INIT_ERROR"))
		os.Exit(1)
	}
	lambda.Start(handle)
}

func postInitError(msg string) {
	body, _ := json.Marshal(map[string]string{"errorMessage": msg, "errorType": "InitFailure"})
	url := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/init/error"
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Lambda-Runtime-Function-Error-Type", "InitFailure")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}
