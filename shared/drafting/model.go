package drafting

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Model is a chat language model. shared/llm/bedrock implements it over the
// Bedrock Runtime Converse API; tests use scripted fakes.
//
// Converse returns an error wrapping ErrTransient when the service was
// throttled, timed out or was unavailable (the Drafter falls back to a
// template either way, but records which).
type Model interface {
	Converse(ctx context.Context, p Prompt) (Reply, error)
}

// Role says who wrote a message in a conversation.
type Role string

// Roles, as Converse names them.
const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
)

// Message is one turn of a conversation.
type Message struct {
	Role Role
	Text string
}

// Prompt is one request to the model.
type Prompt struct {
	System      string
	Messages    []Message // starts and ends with a user message, roles alternate
	MaxTokens   int
	Temperature float32 // 0 to 1; drafting wants little randomness
}

// StopReason says why the model stopped writing.
type StopReason string

// Stop reasons the drafter acts on (Converse's values).
const (
	StopEndTurn   StopReason = "end_turn"
	StopMaxTokens StopReason = "max_tokens" // the draft is cut off: a disclosure may be missing
)

// Usage is the tokens one or more model calls consumed.
type Usage struct {
	InputTokens  int64
	OutputTokens int64
}

// Add returns u+v.
func (u Usage) Add(v Usage) Usage {
	return Usage{InputTokens: u.InputTokens + v.InputTokens, OutputTokens: u.OutputTokens + v.OutputTokens}
}

// Reply is the model's answer.
type Reply struct {
	Text       string
	StopReason StopReason
	Usage      Usage
	ModelID    string        // the model that answered
	Latency    time.Duration // as the service measured it, when it says
}

// ErrTransient marks model errors worth trying again later: throttling,
// timeouts, the service or model being unavailable.
var ErrTransient = errors.New("model temporarily unavailable")

// ModelError is a failed model call, as an adapter reports it.
type ModelError struct {
	Code      string // the service's error code, e.g. "ThrottlingException", or "timeout"
	Transient bool
	Err       error
}

func (e *ModelError) Error() string {
	kind := "model error"
	if e.Transient {
		kind = "transient model error"
	}
	return fmt.Sprintf("%s %s: %v", kind, e.Code, e.Err)
}

func (e *ModelError) Unwrap() error { return e.Err }

// Is makes a transient ModelError match ErrTransient.
func (e *ModelError) Is(target error) bool { return target == ErrTransient && e.Transient }
