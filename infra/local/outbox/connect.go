package outbox

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"

	"github.com/recoup-dev/recoup/shared/webhooks"
)

// scriptAttribute is the contact attribute the Connect sender puts the
// script in (shared/sender/connect.KeyScript).
const scriptAttribute = "recoup_script"

// connectStart is a StartOutboundVoiceContact body as aws-sdk-go-v2's
// serializer writes it (service/connect
// awsRestjson1_serializeOpDocumentStartOutboundVoiceContactInput).
type connectStart struct {
	InstanceId             string            `json:"InstanceId"`
	ContactFlowId          string            `json:"ContactFlowId"`
	DestinationPhoneNumber string            `json:"DestinationPhoneNumber"`
	SourcePhoneNumber      string            `json:"SourcePhoneNumber"`
	QueueId                string            `json:"QueueId"`
	Attributes             map[string]string `json:"Attributes"`
	ClientToken            string            `json:"ClientToken"`
	TrafficType            string            `json:"TrafficType"`
	RingTimeoutInSeconds   *int64            `json:"RingTimeoutInSeconds"`
	Name                   string            `json:"Name"`
	Description            string            `json:"Description"`
}

// connectTag is a TagContact body.
type connectTag struct {
	InstanceId string            `json:"InstanceId"`
	ContactId  string            `json:"ContactId"`
	Tags       map[string]string `json:"Tags"`
}

var (
	attributeKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	tagKey       = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+@-]{1,128}$`)
)

func connectInvalid(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "InvalidParameterException", message: fmt.Sprintf(format, args...)}
}

// decodeStart reads and checks a StartOutboundVoiceContact body.
func decodeStart(body []byte) (connectStart, *apiError) {
	var in connectStart
	if err := json.Unmarshal(body, &in); err != nil {
		return in, errSerialization("StartOutboundVoiceContact body: %v", err)
	}
	switch {
	case in.InstanceId == "" || len(in.InstanceId) > 100:
		return in, connectInvalid("InstanceId is required (at most 100 characters)")
	case in.ContactFlowId == "" || len(in.ContactFlowId) > 500:
		return in, connectInvalid("ContactFlowId is required (at most 500 characters)")
	case !e164.MatchString(in.DestinationPhoneNumber):
		return in, connectInvalid("DestinationPhoneNumber must be in E.164 format")
	case in.SourcePhoneNumber == "" && in.QueueId == "":
		return in, &apiError{status: http.StatusBadRequest, code: "InvalidRequestException",
			message: "Either SourcePhoneNumber or QueueId must be specified"}
	case in.SourcePhoneNumber != "" && !e164.MatchString(in.SourcePhoneNumber):
		return in, connectInvalid("SourcePhoneNumber must be in E.164 format")
	case len(in.ClientToken) > 500:
		return in, connectInvalid("ClientToken is longer than 500 characters")
	case in.TrafficType != "" && in.TrafficType != "GENERAL" && in.TrafficType != "CAMPAIGN":
		return in, connectInvalid("TrafficType must be GENERAL or CAMPAIGN")
	case in.RingTimeoutInSeconds != nil && (*in.RingTimeoutInSeconds < 15 || *in.RingTimeoutInSeconds > 60):
		return in, connectInvalid("RingTimeoutInSeconds must be 15 to 60")
	}
	n := 0
	for k, v := range in.Attributes {
		if !attributeKey.MatchString(k) {
			return in, connectInvalid("Attribute keys may contain only letters, digits, '-' and '_'")
		}
		n += len(k) + len(v)
	}
	if n > 32768 {
		return in, connectInvalid("Attributes exceed 32768 bytes")
	}
	return in, nil
}

// decodeTag reads and checks a TagContact body.
func decodeTag(body []byte) (connectTag, *apiError) {
	var in connectTag
	if err := json.Unmarshal(body, &in); err != nil {
		return in, errSerialization("TagContact body: %v", err)
	}
	switch {
	case in.InstanceId == "" || in.ContactId == "":
		return in, connectInvalid("InstanceId and ContactId are required")
	case len(in.Tags) == 0 || len(in.Tags) > 50:
		return in, connectInvalid("Tags must hold 1 to 50 tags")
	}
	for k, v := range in.Tags {
		if !tagKey.MatchString(k) || len(k) >= 4 && k[:4] == "aws:" || len(v) > 256 {
			return in, connectInvalid("Tag keys must be 1-128 characters of letters, digits, spaces and _.:/=+-@, not starting aws:, and values at most 256")
		}
	}
	return in, nil
}

func (s *Server) startOutboundVoiceContact(body []byte) (accepted, *apiError) {
	in, e := decodeStart(body)
	if e != nil {
		return accepted{}, e
	}
	if s.isRejected(in.DestinationPhoneNumber) {
		return accepted{}, &apiError{status: http.StatusForbidden, code: "DestinationNotAllowedException",
			message: "Outbound calls to the destination number are not allowed."}
	}
	// Connect's idempotency: a ClientToken seen before gets the contact
	// already started, and nothing is dialled again. The token is reserved
	// under the lock, so two racing requests with one token start one
	// contact; serve undoes the reservation if the send then fails.
	token := in.InstanceId + "\x00" + in.ClientToken
	s.mu.Lock()
	id, seen := s.contacts[token]
	if !seen {
		id = newUUID()
		s.started[id] = in.InstanceId
		if in.ClientToken != "" {
			s.contacts[token] = id
		}
	}
	s.mu.Unlock()
	if seen {
		return accepted{answer: map[string]string{"ContactId": id}, to: in.DestinationPhoneNumber}, nil
	}
	tags := maps.Clone(in.Attributes)
	delete(tags, scriptAttribute)
	from := in.SourcePhoneNumber
	if from == "" {
		from = "queue:" + in.QueueId
	}
	e2 := Entry{Time: s.now().UTC(), Service: string(ServiceConnect), Channel: "voice", To: []string{in.DestinationPhoneNumber},
		From: from, Script: in.Attributes[scriptAttribute], ProviderID: id, Instance: in.InstanceId, Flow: in.ContactFlowId, Tags: tags}
	correlate(&e2, in.Attributes)
	if ch, ok := in.Attributes[webhooks.KeyChannel]; ok {
		if d, err := webhooks.DecodeValue(ch); err == nil {
			e2.Channel = d
		}
	}
	return accepted{answer: map[string]string{"ContactId": id}, entry: &e2, to: in.DestinationPhoneNumber,
		undo: func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			delete(s.started, id)
			if s.contacts[token] == id {
				delete(s.contacts, token)
			}
		}}, nil
}

func (s *Server) tagContact(body []byte) (accepted, *apiError) {
	in, e := decodeTag(body)
	if e != nil {
		return accepted{}, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started[in.ContactId] != in.InstanceId {
		return accepted{}, &apiError{status: http.StatusNotFound, code: "ResourceNotFoundException", message: "The specified contact was not found."}
	}
	if s.tags[in.ContactId] == nil {
		s.tags[in.ContactId] = map[string]string{}
	}
	maps.Copy(s.tags[in.ContactId], in.Tags)
	return accepted{answer: struct{}{}}, nil
}
