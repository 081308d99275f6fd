package outbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"unicode/utf8"
)

const smsTarget = "PinpointSMSVoiceV2.SendTextMessage"

// smsSendText is a SendTextMessage body as aws-sdk-go-v2's serializer writes
// it (service/pinpointsmsvoicev2 awsAwsjson10_serializeOpDocumentSendTextMessageInput).
type smsSendText struct {
	DestinationPhoneNumber *string           `json:"DestinationPhoneNumber"`
	OriginationIdentity    string            `json:"OriginationIdentity"`
	MessageBody            *string           `json:"MessageBody"`
	MessageType            string            `json:"MessageType"`
	ConfigurationSetName   string            `json:"ConfigurationSetName"`
	Context                map[string]string `json:"Context"`
	DryRun                 bool              `json:"DryRun"`
	MaxPrice               string            `json:"MaxPrice"`
	TimeToLive             *int64            `json:"TimeToLive"`
	Keyword                string            `json:"Keyword"`
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,18}$`)

// smsInvalid is a ValidationException with its Reason and the field.
func smsInvalid(reason, field, format string, args ...any) *apiError {
	msg := fmt.Sprintf(format, args...)
	return &apiError{status: http.StatusBadRequest, code: "ValidationException", message: msg,
		extra: map[string]any{"Reason": reason, "Fields": []map[string]string{{"Name": field, "Message": msg}}}}
}

// decodeSendText reads and checks a SendTextMessage body.
func decodeSendText(body []byte) (smsSendText, *apiError) {
	var in smsSendText
	if err := json.Unmarshal(body, &in); err != nil {
		return in, errSerialization("SendTextMessage body: %v", err)
	}
	switch {
	case in.DestinationPhoneNumber == nil:
		return in, smsInvalid("MISSING_PARAMETER", "DestinationPhoneNumber", "DestinationPhoneNumber is required")
	case !e164.MatchString(*in.DestinationPhoneNumber):
		return in, smsInvalid("INVALID_PARAMETER", "DestinationPhoneNumber", "DestinationPhoneNumber must be in E.164 format")
	case in.MessageBody == nil || *in.MessageBody == "":
		return in, smsInvalid("MISSING_PARAMETER", "MessageBody", "MessageBody is required")
	case utf8.RuneCountInString(*in.MessageBody) > 1600:
		return in, smsInvalid("MAXIMUM_SIZE_EXCEEDED", "MessageBody", "MessageBody is longer than 1600 characters")
	case in.MessageType != "" && in.MessageType != "TRANSACTIONAL" && in.MessageType != "PROMOTIONAL":
		return in, smsInvalid("INVALID_PARAMETER", "MessageType", "MessageType must be TRANSACTIONAL or PROMOTIONAL")
	case len(in.OriginationIdentity) > 256:
		return in, smsInvalid("INVALID_PARAMETER", "OriginationIdentity", "OriginationIdentity is longer than 256")
	case len(in.Context) > 5:
		return in, smsInvalid("INVALID_PARAMETER", "Context", "Context has more than 5 entries")
	case in.TimeToLive != nil && (*in.TimeToLive < 5 || *in.TimeToLive > 259200):
		return in, smsInvalid("INVALID_PARAMETER", "TimeToLive", "TimeToLive must be 5 to 259200 seconds")
	}
	for k, v := range in.Context {
		if k == "" || len(k) > 100 || v == "" || len(v) > 800 {
			return in, smsInvalid("INVALID_PARAMETER", "Context", "Context keys must be 1-100 characters and values 1-800")
		}
	}
	return in, nil
}

func (s *Server) sendTextMessage(body []byte) (accepted, *apiError) {
	in, e := decodeSendText(body)
	if e != nil {
		return accepted{}, e
	}
	to := *in.DestinationPhoneNumber
	if s.isRejected(to) {
		return accepted{}, &apiError{status: http.StatusBadRequest, code: "ConflictException",
			message: "The destination phone number is opted out.",
			extra:   map[string]any{"Reason": "DESTINATION_PHONE_NUMBER_OPTED_OUT", "ResourceType": "opt-out-list", "ResourceId": "Default"}}
	}
	id := newUUID()
	answer := map[string]string{"MessageId": id}
	if in.DryRun {
		// Checked, not sent: nothing for the outbox.
		return accepted{answer: answer, to: to}, nil
	}
	e2 := Entry{Time: s.now().UTC(), Service: string(ServiceSMS), Channel: "sms", To: []string{to}, From: in.OriginationIdentity,
		Text: *in.MessageBody, ProviderID: id, ConfigurationSet: in.ConfigurationSetName, Tags: in.Context}
	correlate(&e2, in.Context)
	return accepted{answer: answer, entry: &e2, to: to}, nil
}
