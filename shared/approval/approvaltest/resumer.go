package approvaltest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"

	"github.com/recoup-dev/recoup/shared/approval"
)

// Resumer stands in for Step Functions: a token resumes its task once; a
// token that is unknown, used or ended answers approval.ErrExpired, as
// TaskTimedOut and InvalidToken do.
type Resumer struct {
	// Before, when set, runs first on every call; a non-nil error is
	// returned instead of touching the task (a throttle, an outage). It may
	// also block, to hold callers inside a resume.
	Before func(token string) error
	// After, when set, runs once a SendTaskSuccess has resumed its task; a
	// non-nil error is returned as if the answer were lost on the way.
	After func(token string) error
	// HistoryErr, when set, is what Delivered returns (the history could
	// not be read).
	HistoryErr error

	mu        sync.Mutex
	waiting   map[string]bool
	successes []Success
	outputs   []json.RawMessage // each success's output as sent
	failures  []Failure
}

// Success is one accepted SendTaskSuccess.
type Success struct {
	Token  string
	Output approval.Verdict
}

// Failure is one accepted SendTaskFailure.
type Failure struct {
	Token, Code, Cause string
}

var (
	_ approval.Resumer         = (*Resumer)(nil)
	_ approval.DeliveryChecker = (*Resumer)(nil)
)

// NewResumer returns a resumer with no task waiting.
func NewResumer() *Resumer { return &Resumer{waiting: map[string]bool{}} }

// Wait starts a task that waits on token.
func (r *Resumer) Wait(token string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waiting[token] = true
}

// End ends the task of token (timed out, or the execution stopped).
func (r *Resumer) End(token string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.waiting, token)
}

// Successes returns the accepted SendTaskSuccess calls.
func (r *Resumer) Successes() []Success {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Success(nil), r.successes...)
}

// Failures returns the accepted SendTaskFailure calls.
func (r *Resumer) Failures() []Failure {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Failure(nil), r.failures...)
}

// SendTaskSuccess implements approval.Resumer. The output must be a verdict
// as the state machine's Approved choice and the Send step read it.
func (r *Resumer) SendTaskSuccess(ctx context.Context, token string, output json.RawMessage) error {
	if token == "" || len(token) > approval.MaxTokenBytes {
		return errors.New("approvaltest: SendTaskSuccess without a valid token")
	}
	dec := json.NewDecoder(bytes.NewReader(output))
	dec.DisallowUnknownFields()
	var v approval.Verdict
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("approvaltest: SendTaskSuccess output is not a verdict: %w", err)
	}
	if err := v.Validate(); err != nil {
		return fmt.Errorf("approvaltest: SendTaskSuccess output: %w", err)
	}
	if v.At.IsZero() || v.At.Location().String() != "UTC" {
		return errors.New("approvaltest: SendTaskSuccess output: at must be a UTC time")
	}
	if v.Draft != nil && v.Draft.Channel == "" {
		return errors.New("approvaltest: SendTaskSuccess output: the edited draft has no channel")
	}
	if err := r.before(ctx, token); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.waiting[token] {
		return fmt.Errorf("TaskTimedOut: %w", approval.ErrExpired)
	}
	delete(r.waiting, token)
	r.successes = append(r.successes, Success{Token: token, Output: v})
	r.outputs = append(r.outputs, append(json.RawMessage(nil), output...))
	if r.After != nil {
		return r.After(token)
	}
	return nil
}

// Delivered implements approval.DeliveryChecker: whether a SendTaskSuccess
// with this output (the same JSON value) resumed a task. The fake does not
// know executions, so any non-empty execution matches.
func (r *Resumer) Delivered(ctx context.Context, execution string, output json.RawMessage) (bool, error) {
	if execution == "" {
		return false, errors.New("approvaltest: Delivered without an execution")
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if r.HistoryErr != nil {
		return false, r.HistoryErr
	}
	var want any
	if err := json.Unmarshal(output, &want); err != nil {
		return false, fmt.Errorf("approvaltest: Delivered output: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, out := range r.outputs {
		var got any
		if json.Unmarshal(out, &got) == nil && reflect.DeepEqual(got, want) {
			return true, nil
		}
	}
	return false, nil
}

// SendTaskFailure implements approval.Resumer.
func (r *Resumer) SendTaskFailure(ctx context.Context, token, code, cause string) error {
	switch {
	case token == "" || len(token) > approval.MaxTokenBytes:
		return errors.New("approvaltest: SendTaskFailure without a valid token")
	case code == "" || len(code) > 256:
		return errors.New("approvaltest: SendTaskFailure error must be 1 to 256 characters")
	case len(cause) > 32768:
		return errors.New("approvaltest: SendTaskFailure cause longer than 32768 characters")
	}
	if err := r.before(ctx, token); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.waiting[token] {
		return fmt.Errorf("TaskTimedOut: %w", approval.ErrExpired)
	}
	delete(r.waiting, token)
	r.failures = append(r.failures, Failure{Token: token, Code: code, Cause: cause})
	return nil
}

func (r *Resumer) before(ctx context.Context, token string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if r.Before != nil {
		return r.Before(token)
	}
	return nil
}
