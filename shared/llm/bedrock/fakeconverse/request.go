package fakeconverse

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Request is a Converse request body as the service reads it. Only text
// content is modelled; the other members the API defines are accepted as
// raw JSON and ignored, so an SDK that sends them is not refused.
type Request struct {
	Messages        []Message        `json:"messages"`
	System          []SystemBlock    `json:"system,omitempty"`
	InferenceConfig *InferenceConfig `json:"inferenceConfig,omitempty"`

	AdditionalModelRequestFields      json.RawMessage `json:"additionalModelRequestFields,omitempty"`
	AdditionalModelResponseFieldPaths json.RawMessage `json:"additionalModelResponseFieldPaths,omitempty"`
	GuardrailConfig                   json.RawMessage `json:"guardrailConfig,omitempty"`
	OutputConfig                      json.RawMessage `json:"outputConfig,omitempty"`
	PerformanceConfig                 json.RawMessage `json:"performanceConfig,omitempty"`
	PromptVariables                   json.RawMessage `json:"promptVariables,omitempty"`
	RequestMetadata                   json.RawMessage `json:"requestMetadata,omitempty"`
	ServiceTier                       json.RawMessage `json:"serviceTier,omitempty"`
	ToolConfig                        json.RawMessage `json:"toolConfig,omitempty"`
}

// Message is one conversation turn.
type Message struct {
	Role    string         `json:"role"`
	Content []ContentBlock `json:"content"`
}

// ContentBlock is a union: exactly one member is set. The fake reads text.
type ContentBlock struct {
	Text string
}

// SystemBlock is a union too; the fake reads text.
type SystemBlock struct {
	Text string
}

// InferenceConfig is the base inference parameters.
type InferenceConfig struct {
	MaxTokens     *int     `json:"maxTokens,omitempty"`
	Temperature   *float64 `json:"temperature,omitempty"`
	TopP          *float64 `json:"topP,omitempty"`
	StopSequences []string `json:"stopSequences,omitempty"`
}

// contentMembers are the members of the ContentBlock union in the API;
// the fake accepts text and refuses the rest by name rather than as unknown.
var contentMembers = map[string]bool{"text": true, "image": true, "document": true, "video": true, "audio": true,
	"toolUse": true, "toolResult": true, "guardContent": true, "cachePoint": true, "reasoningContent": true,
	"citationsContent": true, "searchResult": true}

var systemMembers = map[string]bool{"text": true, "guardContent": true, "cachePoint": true}

// UnmarshalJSON reads the union, refusing zero or several members.
func (b *ContentBlock) UnmarshalJSON(data []byte) error {
	s, err := unionText(data, contentMembers)
	b.Text = s
	return err
}

// MarshalJSON writes the text member.
func (b ContentBlock) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"text": b.Text})
}

// UnmarshalJSON reads the union, refusing zero or several members.
func (b *SystemBlock) UnmarshalJSON(data []byte) error {
	s, err := unionText(data, systemMembers)
	b.Text = s
	return err
}

// MarshalJSON writes the text member.
func (b SystemBlock) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"text": b.Text})
}

type unionError string

func (e unionError) Error() string { return string(e) }

func unionText(data []byte, members map[string]bool) (string, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return "", err
	}
	if len(m) != 1 {
		return "", unionError(fmt.Sprintf("a union must set exactly one member, got %d", len(m)))
	}
	for k, v := range m {
		if !members[k] {
			return "", unionError(fmt.Sprintf("unknown union member %q", k))
		}
		if k != "text" {
			return "", unionError(fmt.Sprintf("the fake supports text content only, not %q", k))
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", unionError("text must be a string")
		}
		return s, nil
	}
	return "", nil
}

// APIError is an error response as Bedrock Runtime sends it: the status,
// the x-amzn-ErrorType code, and {"message": ...}.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

func validation(format string, a ...any) *APIError {
	return &APIError{Status: 400, Code: "ValidationException", Message: fmt.Sprintf(format, a...)}
}

// constraint words a validation failure as the service's Smithy validators do.
func constraint(value any, path, rule string) *APIError {
	return validation("1 validation error detected: Value '%v' at '%s' failed to satisfy constraint: %s", value, path, rule)
}

// ModelID reads the model id from a request path /model/{modelId}/converse.
// The SDK escapes the label (":" in "amazon.nova-micro-v1:0", "/" in an ARN),
// so the raw path is split before unescaping.
func ModelID(escapedPath string) (string, *APIError) {
	parts := strings.Split(escapedPath, "/")
	if len(parts) != 4 || parts[0] != "" || parts[1] != "model" || parts[3] != "converse" {
		return "", &APIError{Status: 404, Code: "UnknownOperationException", Message: "no operation at " + escapedPath}
	}
	id, err := url.PathUnescape(parts[2])
	if err != nil || !utf8.ValidString(id) {
		return "", validation("the model identifier is not a valid escaped path segment")
	}
	if n := utf8.RuneCountInString(id); n < 1 || n > 2048 {
		return "", constraint(id, "modelId", "Member must have length between 1 and 2048")
	}
	return id, nil
}

// DecodeRequest reads and validates a Converse request body the way the
// service does: strict JSON, roles user and assistant, a conversation that
// starts with the user and alternates, no blank text, inference parameters
// in range.
func DecodeRequest(body []byte) (Request, *APIError) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var r Request
	if err := dec.Decode(&r); err != nil {
		return Request{}, validation("malformed request body: %v", err)
	}
	if dec.More() {
		return Request{}, validation("malformed request body: trailing data")
	}
	if len(r.Messages) == 0 {
		return Request{}, validation("A conversation must start with a user message. Try again with a conversation that starts with a user message.")
	}
	for i, m := range r.Messages {
		switch m.Role {
		case "user", "assistant":
		default:
			return Request{}, constraint(m.Role, fmt.Sprintf("messages.%d.member.role", i+1), "Member must satisfy enum value set: [user, assistant]")
		}
		if i == 0 && m.Role != "user" {
			return Request{}, validation("A conversation must start with a user message. Try again with a conversation that starts with a user message.")
		}
		if i > 0 && m.Role == r.Messages[i-1].Role {
			return Request{}, validation("A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.")
		}
		if len(m.Content) == 0 {
			return Request{}, validation("The content field in the Message object at messages.%d is empty. Add a ContentBlock object to the content field and try again.", i)
		}
		for j, c := range m.Content {
			if strings.TrimSpace(c.Text) == "" {
				return Request{}, validation("The text field in the ContentBlock object at messages.%d.content.%d is blank. Add text to the text field, and try again.", i, j)
			}
		}
	}
	for i, s := range r.System {
		if strings.TrimSpace(s.Text) == "" {
			return Request{}, validation("The text field in the SystemContentBlock object at system.%d is blank. Add text to the text field, and try again.", i)
		}
	}
	if ic := r.InferenceConfig; ic != nil {
		if ic.MaxTokens != nil && *ic.MaxTokens < 1 {
			return Request{}, constraint(*ic.MaxTokens, "inferenceConfig.maxTokens", "Member must have value greater than or equal to 1")
		}
		if ic.Temperature != nil && !(*ic.Temperature >= 0 && *ic.Temperature <= 1) {
			return Request{}, constraint(*ic.Temperature, "inferenceConfig.temperature", "Member must have value between 0 and 1")
		}
		if ic.TopP != nil && !(*ic.TopP >= 0 && *ic.TopP <= 1) {
			return Request{}, constraint(*ic.TopP, "inferenceConfig.topP", "Member must have value between 0 and 1")
		}
		for i, s := range ic.StopSequences {
			if s == "" {
				return Request{}, constraint(s, fmt.Sprintf("inferenceConfig.stopSequences.%d", i+1), "Member must have length greater than or equal to 1")
			}
		}
	}
	return r, nil
}

// maxTokens is the reply limit the request asks for, or the fake's default.
func (r Request) maxTokens() int {
	if r.InferenceConfig != nil && r.InferenceConfig.MaxTokens != nil {
		return *r.InferenceConfig.MaxTokens
	}
	return 4096
}

// inputTokens estimates the prompt's tokens (about four bytes each, as
// Bedrock's English-text rule of thumb has it).
func (r Request) inputTokens() int {
	n := 0
	for _, s := range r.System {
		n += len(s.Text)
	}
	for _, m := range r.Messages {
		for _, c := range m.Content {
			n += len(c.Text)
		}
	}
	return tokens(n)
}

func tokens(bytes int) int { return (bytes + 3) / 4 }
