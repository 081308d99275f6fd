// Package bedrock implements drafting.Model over the Amazon Bedrock Runtime
// Converse API.
//
// The client is injected: build it with bedrockruntime.NewFromConfig from
// the configuration shared/awsconfig loads, and the endpoint follows the
// SDK's standard AWS_ENDPOINT_URL_BEDROCK_RUNTIME / AWS_ENDPOINT_URL
// variables, so the same binary talks to Bedrock or to fakeconverse on the
// local stack. The SDK's standard retryer retries throttling and 5xx
// answers with backoff inside the drafter's per-call timeout; what still
// fails comes back as a *drafting.ModelError, transient for throttling,
// timeouts and unavailability.
package bedrock

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"github.com/aws/smithy-go"

	"github.com/recoup-dev/recoup/shared/drafting"
)

// DefaultModelID is the model used when RECOUP_BEDROCK_MODEL_ID is unset:
// small, cheap and good at short formal text.
const DefaultModelID = "amazon.nova-micro-v1:0"

// EnvModelID names the variable that picks the model (a model id, an
// inference profile id or an ARN).
const EnvModelID = "RECOUP_BEDROCK_MODEL_ID"

// ModelIDFromEnv returns the configured model id.
func ModelIDFromEnv() string {
	if id := strings.TrimSpace(os.Getenv(EnvModelID)); id != "" {
		return id
	}
	return DefaultModelID
}

// ConverseAPI is the one operation the adapter uses; *bedrockruntime.Client
// has it.
type ConverseAPI interface {
	Converse(ctx context.Context, in *bedrockruntime.ConverseInput, optFns ...func(*bedrockruntime.Options)) (*bedrockruntime.ConverseOutput, error)
}

var (
	_ ConverseAPI    = (*bedrockruntime.Client)(nil)
	_ drafting.Model = (*Model)(nil)
)

// Model is a Bedrock model behind drafting.Model.
type Model struct {
	client  ConverseAPI
	modelID string
}

// New returns a Model calling modelID through client.
func New(client ConverseAPI, modelID string) (*Model, error) {
	if client == nil {
		return nil, errors.New("bedrock: nil client")
	}
	if strings.TrimSpace(modelID) == "" {
		return nil, errors.New("bedrock: empty model id")
	}
	return &Model{client: client, modelID: modelID}, nil
}

// ModelID is the model the adapter calls.
func (m *Model) ModelID() string { return m.modelID }

// transientCodes are the Converse errors that pass: the account's quota,
// the model's own timeout, the service or model not ready.
var transientCodes = map[string]bool{
	"ThrottlingException":           true,
	"ServiceQuotaExceededException": true, // tokens-per-minute quota, Bedrock's other throttle
	"ModelTimeoutException":         true,
	"ModelNotReadyException":        true,
	"ServiceUnavailableException":   true,
	"InternalServerException":       true,
	"RequestTimeout":                true, // the SDK's name for an HTTP 408 without a code
	"RequestTimeoutException":       true,
}

// Converse sends the prompt and returns the model's text, token usage and
// stop reason.
func (m *Model) Converse(ctx context.Context, p drafting.Prompt) (drafting.Reply, error) {
	in := &bedrockruntime.ConverseInput{
		ModelId: aws.String(m.modelID),
		InferenceConfig: &types.InferenceConfiguration{
			Temperature: aws.Float32(p.Temperature),
		},
	}
	if p.MaxTokens > 0 {
		in.InferenceConfig.MaxTokens = aws.Int32(int32(min(p.MaxTokens, 1<<30)))
	}
	if p.System != "" {
		in.System = []types.SystemContentBlock{&types.SystemContentBlockMemberText{Value: p.System}}
	}
	for _, msg := range p.Messages {
		role := types.ConversationRoleUser
		if msg.Role == drafting.RoleAssistant {
			role = types.ConversationRoleAssistant
		}
		in.Messages = append(in.Messages, types.Message{
			Role:    role,
			Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: msg.Text}},
		})
	}
	out, err := m.client.Converse(ctx, in)
	if err != nil {
		return drafting.Reply{}, classify(ctx, m.modelID, err)
	}
	r := drafting.Reply{StopReason: drafting.StopReason(out.StopReason), ModelID: m.modelID}
	msg, ok := out.Output.(*types.ConverseOutputMemberMessage)
	if !ok {
		return drafting.Reply{}, &drafting.ModelError{Code: "NoMessage", Err: fmt.Errorf("converse %s: the output is not a message (%T)", m.modelID, out.Output)}
	}
	var text strings.Builder
	for _, c := range msg.Value.Content {
		if t, ok := c.(*types.ContentBlockMemberText); ok {
			text.WriteString(t.Value)
		}
	}
	r.Text = text.String()
	if u := out.Usage; u != nil {
		r.Usage = drafting.Usage{InputTokens: int64(aws.ToInt32(u.InputTokens)), OutputTokens: int64(aws.ToInt32(u.OutputTokens))}
	}
	if mt := out.Metrics; mt != nil && mt.LatencyMs != nil {
		r.Latency = time.Duration(*mt.LatencyMs) * time.Millisecond
	}
	return r, nil
}

// classify wraps a Converse error as a *drafting.ModelError. The service's
// message is kept, never the prompt: the SDK does not echo it.
func classify(ctx context.Context, modelID string, err error) error {
	me := &drafting.ModelError{Err: fmt.Errorf("converse %s: %w", modelID, err)}
	var api smithy.APIError
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded:
		me.Code, me.Transient = "timeout", true
	case errors.Is(err, context.Canceled):
		me.Code = "canceled"
	case errors.As(err, &api):
		me.Code = api.ErrorCode()
		me.Transient = transientCodes[me.Code]
	case errors.As(err, &ne) && ne.Timeout():
		me.Code, me.Transient = "timeout", true
	default:
		// Connection refused, reset, DNS: the endpoint is unreachable for now.
		me.Code, me.Transient = "transport", true
	}
	return me
}
