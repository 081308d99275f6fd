// Package handler is the webhooks Lambda behind API Gateway (REST proxy
// integration) and EventBridge: it routes a delivery to its normaliser,
// verifies where it came from, publishes the events and dead-letters what
// it cannot use. functions/webhooks/main.go only wires it.
//
// Routes (POST):
//
//	/webhooks/ses      SNS deliveries of SES event publishing records
//	/webhooks/sms      SNS deliveries of End User Messaging SMS delivery
//	                   events and two-way inbound messages
//	/webhooks/connect  EventBridge API destination POSTs of Amazon Connect
//	                   contact events (the key header is required)
//
// Connect contact events may also invoke the Lambda directly as an
// EventBridge rule target (no API Gateway in between, authenticated by the
// Lambda's resource policy); Invoke tells the two apart.
//
// Responses: 200 when everything was published or ignored by design (or
// dead-lettered: a refusal is handled), 400 for a malformed body, 403 for a
// forged or unsigned one (both dead-lettered with the body), 5xx when
// publishing, dead-lettering or a lookup fails, so SNS delivers again.
package handler

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/recoup-dev/recoup/events"
	"github.com/recoup-dev/recoup/shared/deadletter"
	"github.com/recoup-dev/recoup/shared/webhooks"
	"github.com/recoup-dev/recoup/shared/webhooks/connect"
	"github.com/recoup-dev/recoup/shared/webhooks/ses"
	"github.com/recoup-dev/recoup/shared/webhooks/sms"
	"github.com/recoup-dev/recoup/shared/webhooks/snsverify"
)

// Publisher puts events on the engagement stream in order;
// *kinesis.Publisher (shared/stream/kinesis) is one.
type Publisher interface {
	Put(ctx context.Context, evs []events.Event) error
}

// Verifier checks and confirms SNS deliveries; *snsverify.Verifier is one.
type Verifier interface {
	Verify(ctx context.Context, m snsverify.Message, topics []string) error
	Confirm(ctx context.Context, m snsverify.Message) error
}

// SMSNormaliser normalises SMS notifications; *sms.Normaliser is one.
type SMSNormaliser interface {
	Normalise(ctx context.Context, n sms.Notification) (webhooks.Outcome, error)
}

// ConnectKeyHeader carries the shared secret an EventBridge API destination
// sends (its connection's API key authorization). Without it a POST to
// /webhooks/connect is refused as forged.
const ConnectKeyHeader = "X-Recoup-Webhook-Key"

// Dead-letter sources, one per route: the route is "/" and the source.
const (
	SourceSES     = "webhooks/ses"
	SourceSMS     = "webhooks/sms"
	SourceConnect = "webhooks/connect"
)

// Config holds a Handler's dependencies.
type Config struct {
	Verifier Verifier
	// SESTopics and SMSTopics are the topic ARNs each route accepts.
	SESTopics, SMSTopics []string
	SMS                  SMSNormaliser
	// ConnectKey is the API destination's secret; "" refuses every POST to
	// /webhooks/connect (direct EventBridge invocations still work).
	ConnectKey  string
	Publisher   Publisher
	DeadLetters deadletter.Sink
	Log         *slog.Logger
	// Now stamps dead letters; nil means time.Now.
	Now func() time.Time
}

// Handler serves the webhooks.
type Handler struct{ cfg Config }

// New returns a handler; every dependency but ConnectKey and Now is
// required.
func New(cfg Config) (*Handler, error) {
	if cfg.Verifier == nil || cfg.SMS == nil || cfg.Publisher == nil || cfg.DeadLetters == nil || cfg.Log == nil {
		return nil, errors.New("handler: New needs a Verifier, an SMS normaliser, a Publisher, a dead-letter Sink and a Log")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Handler{cfg: cfg}, nil
}

// Invoke is the Lambda entry point: an API Gateway proxy request (it has
// httpMethod) or an EventBridge event (it has detail-type). An EventBridge
// event whose events could not be published returns an error, so Lambda's
// asynchronous retries deliver it again.
func (h *Handler) Invoke(ctx context.Context, payload json.RawMessage) (any, error) {
	// One decode serves the API Gateway case, the common one: an
	// EventBridge event shares no field name with a proxy request.
	var req struct {
		lambdaevents.APIGatewayProxyRequest
		DetailType string `json:"detail-type"`
	}
	if err := json.Unmarshal(payload, &req); err != nil {
		return nil, fmt.Errorf("webhooks: invoked with something that is neither an API Gateway request nor an EventBridge event: %w", err)
	}
	switch {
	case req.HTTPMethod != "":
		return h.HandleRequest(ctx, req.APIGatewayProxyRequest)
	case req.DetailType != "":
		return nil, h.HandleEventBridge(ctx, payload)
	}
	return nil, errors.New("webhooks: invoked with neither an API Gateway request nor an EventBridge event")
}

// HandleEventBridge handles a Connect contact event delivered straight to
// the Lambda by an EventBridge rule.
func (h *Handler) HandleEventBridge(ctx context.Context, body []byte) error {
	st := h.connectEvent(ctx, body, map[string]string{"via": "eventbridge"})
	if st.code >= 500 {
		return errors.New(st.reason)
	}
	return nil
}

// HandleRequest serves one API Gateway request.
func (h *Handler) HandleRequest(ctx context.Context, req lambdaevents.APIGatewayProxyRequest) (lambdaevents.APIGatewayProxyResponse, error) {
	path := strings.TrimSuffix(req.Path, "/")
	source := ""
	for _, src := range []string{SourceSES, SourceSMS, SourceConnect} {
		if strings.HasSuffix(path, "/"+src) {
			source = src
		}
	}
	if source == "" {
		return respond(status{code: http.StatusNotFound, reason: "no such webhook"}), nil
	}
	if req.HTTPMethod != http.MethodPost {
		return respond(status{code: http.StatusMethodNotAllowed, reason: "POST only"}), nil
	}
	origin := map[string]string{"route": "/" + source, "request_id": req.RequestContext.RequestID}
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return respond(h.refuse(ctx, source, body, origin, webhooks.Refusal{Kind: deadletter.KindInvalid,
				Reason: "body flagged base64 is not base64"}, http.StatusBadRequest)), nil
		}
		body = b
	}
	var st status
	switch source {
	case SourceSES:
		st = h.sns(ctx, source, body, origin, h.cfg.SESTopics, func(_ context.Context, m snsverify.Message, _ time.Time) (webhooks.Outcome, error) {
			return ses.Normalise([]byte(m.Message))
		})
	case SourceSMS:
		st = h.sns(ctx, source, body, origin, h.cfg.SMSTopics, func(ctx context.Context, m snsverify.Message, at time.Time) (webhooks.Outcome, error) {
			return h.cfg.SMS.Normalise(ctx, sms.Notification{MessageID: m.MessageID, Timestamp: at, Message: []byte(m.Message)})
		})
	case SourceConnect:
		st = h.connectHTTP(ctx, req, body, origin)
	}
	return respond(st), nil
}

// status is a handled request's result.
type status struct {
	code                        int
	reason                      string
	published, ignored, refused int
}

func respond(st status) lambdaevents.APIGatewayProxyResponse {
	body := map[string]any{}
	if st.code == http.StatusOK {
		body["published"], body["ignored"], body["dead_lettered"] = st.published, st.ignored, st.refused
	} else {
		body["error"] = st.reason
	}
	b, _ := json.Marshal(body)
	return lambdaevents.APIGatewayProxyResponse{StatusCode: st.code, Body: string(b),
		Headers: map[string]string{"Content-Type": "application/json"}}
}

type normaliseFunc func(ctx context.Context, m snsverify.Message, at time.Time) (webhooks.Outcome, error)

// sns handles one SNS delivery: parse, verify, confirm or normalise.
func (h *Handler) sns(ctx context.Context, source string, body []byte, origin map[string]string, topics []string, normalise normaliseFunc) status {
	m, err := snsverify.Parse(body)
	if err != nil {
		return h.refuse(ctx, source, body, origin, webhooks.Refusal{Kind: deadletter.KindInvalid, Reason: err.Error()}, http.StatusBadRequest)
	}
	origin["sns_message_id"] = m.MessageID
	if err := h.cfg.Verifier.Verify(ctx, m, topics); err != nil {
		if snsverify.Transient(err) {
			h.cfg.Log.Warn("webhook not verifiable now; SNS will retry", "source", source, "sns_message_id", m.MessageID, "err", err)
			return status{code: http.StatusServiceUnavailable, reason: "signature cannot be checked now"}
		}
		return h.refuse(ctx, source, body, origin, webhooks.Refusal{Kind: deadletter.KindForged, RecordID: m.MessageID,
			Reason: err.Error()}, http.StatusForbidden)
	}
	switch m.Type {
	case snsverify.TypeSubscriptionConfirmation:
		if err := h.cfg.Verifier.Confirm(ctx, m); err != nil {
			if snsverify.Transient(err) {
				h.cfg.Log.Warn("subscription confirmation failed; SNS will resend", "source", source, "topic", m.TopicArn, "err", err)
				return status{code: http.StatusServiceUnavailable, reason: "confirmation failed"}
			}
			return h.refuse(ctx, source, body, origin, webhooks.Refusal{Kind: deadletter.KindForged, RecordID: m.MessageID,
				Reason: err.Error()}, http.StatusForbidden)
		}
		h.cfg.Log.Info("subscription confirmed", "source", source, "topic", m.TopicArn)
		return status{code: http.StatusOK}
	case snsverify.TypeUnsubscribeConfirmation:
		// Not re-subscribing on our own: whoever unsubscribed meant it.
		h.cfg.Log.Warn("unsubscribed from topic", "source", source, "topic", m.TopicArn)
		return status{code: http.StatusOK}
	}
	at, err := time.Parse(time.RFC3339Nano, m.Timestamp)
	if err != nil {
		return h.refuse(ctx, source, body, origin, webhooks.Refusal{Kind: deadletter.KindInvalid, RecordID: m.MessageID,
			Reason: "SNS Timestamp is not an RFC 3339 time"}, http.StatusBadRequest)
	}
	o, err := normalise(ctx, m, at)
	return h.finish(ctx, source, body, origin, m.MessageID, o, err)
}

// connectHTTP authenticates an API destination POST, then handles it as a
// contact event.
func (h *Handler) connectHTTP(ctx context.Context, req lambdaevents.APIGatewayProxyRequest, body []byte, origin map[string]string) status {
	key := header(req, ConnectKeyHeader)
	if h.cfg.ConnectKey == "" || subtle.ConstantTimeCompare([]byte(key), []byte(h.cfg.ConnectKey)) != 1 {
		reason := "missing or wrong " + ConnectKeyHeader
		if h.cfg.ConnectKey == "" {
			reason = "no API destination key is configured (RECOUP_CONNECT_API_KEY)"
		}
		return h.refuse(ctx, SourceConnect, body, origin, webhooks.Refusal{Kind: deadletter.KindForged, Reason: reason}, http.StatusForbidden)
	}
	origin["via"] = "api_destination"
	return h.connectEvent(ctx, body, origin)
}

func (h *Handler) connectEvent(ctx context.Context, body []byte, origin map[string]string) status {
	ev, err := connect.ParseEvent(body)
	if err != nil {
		return h.refuse(ctx, SourceConnect, body, origin, webhooks.Refusal{Kind: deadletter.KindInvalid, Reason: err.Error()}, http.StatusBadRequest)
	}
	origin["eventbridge_id"] = ev.ID
	o, err := connect.Normalise(ev)
	return h.finish(ctx, SourceConnect, body, origin, ev.ID, o, err)
}

// finish publishes an outcome and dead-letters its refusals.
func (h *Handler) finish(ctx context.Context, source string, body []byte, origin map[string]string, recordID string, o webhooks.Outcome, err error) status {
	switch {
	case errors.Is(err, webhooks.ErrMalformed):
		return h.refuse(ctx, source, body, origin, webhooks.Refusal{Kind: deadletter.KindInvalid, RecordID: recordID, Reason: err.Error()},
			http.StatusBadRequest)
	case err != nil:
		h.cfg.Log.Error("webhook lookup or consent write failed; will be retried", "source", source, "record_id", recordID, "err", err)
		return status{code: http.StatusServiceUnavailable, reason: "a lookup or consent write failed"}
	}
	if len(o.Events) > 0 {
		if err := h.cfg.Publisher.Put(ctx, o.Events); err != nil {
			h.cfg.Log.Error("publish to the engagement stream failed; will be retried", "source", source, "record_id", recordID,
				"events", len(o.Events), "err", err)
			return status{code: http.StatusServiceUnavailable, reason: "publishing failed"}
		}
	}
	if len(o.Refused) > 0 {
		letters := make([]deadletter.Letter, len(o.Refused))
		for i, r := range o.Refused {
			letters[i] = h.letter(source, body, origin, r)
		}
		if err := h.cfg.DeadLetters.Put(ctx, letters); err != nil {
			h.cfg.Log.Error("dead-letter write failed; will be retried", "source", source, "record_id", recordID, "err", err)
			return status{code: http.StatusInternalServerError, reason: "dead-lettering failed"}
		}
	}
	for _, why := range o.Ignored {
		h.cfg.Log.Info("webhook part ignored by design", "source", source, "reason", why)
	}
	for _, r := range o.Refused {
		h.cfg.Log.Warn("webhook part dead-lettered", "source", source, "kind", r.Kind, "record_id", r.RecordID, "tenant", r.Tenant, "reason", r.Reason)
	}
	h.cfg.Log.Info("webhook handled", "source", source, "record_id", recordID, "published", len(o.Events),
		"ignored", len(o.Ignored), "dead_lettered", len(o.Refused))
	return status{code: http.StatusOK, published: len(o.Events), ignored: len(o.Ignored), refused: len(o.Refused)}
}

// refuse dead-letters the whole body and answers code, or 500 when the
// letter could not be written (so nothing is lost).
func (h *Handler) refuse(ctx context.Context, source string, body []byte, origin map[string]string, r webhooks.Refusal, code int) status {
	if err := h.cfg.DeadLetters.Put(ctx, []deadletter.Letter{h.letter(source, body, origin, r)}); err != nil {
		h.cfg.Log.Error("dead-letter write failed", "source", source, "kind", r.Kind, "err", err)
		return status{code: http.StatusInternalServerError, reason: "dead-lettering failed"}
	}
	h.cfg.Log.Warn("webhook refused", "source", source, "kind", r.Kind, "code", code, "record_id", r.RecordID, "reason", r.Reason)
	return status{code: code, reason: r.Kind, refused: 1}
}

func (h *Handler) letter(source string, body []byte, origin map[string]string, r webhooks.Refusal) deadletter.Letter {
	l := deadletter.New(source, r.Kind, r.Reason, body, h.cfg.Now())
	l.RecordID, l.Tenant = r.RecordID, r.Tenant
	l.Origin = make(map[string]string, len(origin))
	for k, v := range origin {
		if v != "" {
			l.Origin[k] = v
		}
	}
	return l
}

// header reads a request header without regard to case: API Gateway passes
// names as the client sent them.
func header(req lambdaevents.APIGatewayProxyRequest, name string) string {
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	for k, vs := range req.MultiValueHeaders {
		if strings.EqualFold(k, name) && len(vs) > 0 {
			return vs[0]
		}
	}
	return ""
}
