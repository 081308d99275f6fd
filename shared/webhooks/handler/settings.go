package handler

import (
	"errors"
	"strings"

	"github.com/recoup-dev/recoup/shared/webhooks/sms"
)

// DefaultStream is the engagement stream's name when
// RECOUP_EVENTS_STREAM is unset.
const DefaultStream = "recoup-engagement"

// Settings is the webhooks Lambda's configuration from its environment.
type Settings struct {
	Stream               string         // RECOUP_EVENTS_STREAM
	SESTopics, SMSTopics []string       // RECOUP_SES_TOPICS, RECOUP_SMS_TOPICS: comma-separated topic ARNs
	Numbers              sms.MapNumbers // RECOUP_SMS_NUMBERS: {"+16175550100": "<tenant>", ...}
	DLQURL               string         // RECOUP_DLQ_URL: the SQS dead-letter queue
	ConnectKey           string         // RECOUP_CONNECT_API_KEY: the API destination's secret
}

// LoadSettings reads Settings through getenv (os.Getenv). The errors name
// the variable at fault.
func LoadSettings(getenv func(string) string) (Settings, error) {
	s := Settings{Stream: getenv("RECOUP_EVENTS_STREAM"), DLQURL: getenv("RECOUP_DLQ_URL"),
		ConnectKey: getenv("RECOUP_CONNECT_API_KEY"), SESTopics: list(getenv("RECOUP_SES_TOPICS")),
		SMSTopics: list(getenv("RECOUP_SMS_TOPICS")), Numbers: sms.MapNumbers{}}
	if s.Stream == "" {
		s.Stream = DefaultStream
	}
	if s.DLQURL == "" {
		return Settings{}, errors.New("RECOUP_DLQ_URL is not set: the webhooks need the dead-letter queue's URL, or refused deliveries would be lost")
	}
	if js := getenv("RECOUP_SMS_NUMBERS"); js != "" {
		n, err := sms.ParseNumbers([]byte(js))
		if err != nil {
			return Settings{}, errors.New("RECOUP_SMS_NUMBERS: " + err.Error())
		}
		s.Numbers = n
	}
	return s, nil
}

func list(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
