package outbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/recoup-dev/recoup/shared/webhooks"
)

// SES v2 SendEmail request, as aws-sdk-go-v2's serializer writes it
// (service/sesv2 request_snapshot/SendEmail.request.snap). Members the
// outbox does not read are left out and ignored, as SES ignores nothing but
// accepts them.
type sesContent struct {
	Data    *string `json:"Data"`
	Charset string  `json:"Charset"`
}

type sesSendEmail struct {
	FromEmailAddress string `json:"FromEmailAddress"`
	Destination      *struct {
		ToAddresses  []string `json:"ToAddresses"`
		CcAddresses  []string `json:"CcAddresses"`
		BccAddresses []string `json:"BccAddresses"`
	} `json:"Destination"`
	ReplyToAddresses []string `json:"ReplyToAddresses"`
	Content          *struct {
		Simple *struct {
			Subject *sesContent `json:"Subject"`
			Body    *struct {
				Text *sesContent `json:"Text"`
				Html *sesContent `json:"Html"`
			} `json:"Body"`
		} `json:"Simple"`
		Raw      json.RawMessage `json:"Raw"`
		Template json.RawMessage `json:"Template"`
	} `json:"Content"`
	EmailTags []struct {
		Name  string `json:"Name"`
		Value string `json:"Value"`
	} `json:"EmailTags"`
	ConfigurationSetName string `json:"ConfigurationSetName"`
}

// sesTagText is what SES accepts in a message tag name or value.
var sesTagText = regexp.MustCompile(`^[A-Za-z0-9_.@-]{1,256}$`)

func sesBadRequest(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "BadRequestException", message: fmt.Sprintf(format, args...)}
}

// decodeSendEmail reads and checks a SendEmail body: what SES checks before
// it accepts a message.
func decodeSendEmail(body []byte) (sesSendEmail, *apiError) {
	var in sesSendEmail
	if err := json.Unmarshal(body, &in); err != nil {
		return in, errSerialization("SendEmail body: %v", err)
	}
	if in.Destination == nil {
		return in, sesBadRequest("Destination is required")
	}
	d := in.Destination
	all := append(append(append([]string{}, d.ToAddresses...), d.CcAddresses...), d.BccAddresses...)
	switch {
	case len(all) == 0:
		return in, sesBadRequest("Destination must name at least one recipient")
	case len(all) > 50:
		return in, sesBadRequest("Recipient count exceeds 50")
	case in.FromEmailAddress == "":
		return in, sesBadRequest("FromEmailAddress is required")
	case !plausibleEmail(in.FromEmailAddress):
		return in, sesBadRequest("Illegal address")
	case in.Content == nil:
		return in, sesBadRequest("Content is required")
	}
	for _, a := range all {
		if !plausibleEmail(a) {
			return in, sesBadRequest("Illegal address")
		}
	}
	c := in.Content
	n := 0
	for _, set := range []bool{c.Simple != nil, len(c.Raw) > 0 && string(c.Raw) != "null", len(c.Template) > 0 && string(c.Template) != "null"} {
		if set {
			n++
		}
	}
	switch {
	case n != 1:
		return in, sesBadRequest("Content must have exactly one of Simple, Raw or Template")
	case c.Simple == nil:
		return in, sesBadRequest("the local outbox records Simple content only")
	case c.Simple.Subject == nil || c.Simple.Subject.Data == nil:
		return in, sesBadRequest("Simple.Subject.Data is required")
	case c.Simple.Body == nil || (text(c.Simple.Body.Text) == nil && text(c.Simple.Body.Html) == nil):
		return in, sesBadRequest("Simple.Body needs Text or Html")
	case len(in.EmailTags) > 50:
		return in, sesBadRequest("Too many tags: at most 50")
	}
	for _, t := range in.EmailTags {
		if !sesTagText.MatchString(t.Name) || !sesTagText.MatchString(t.Value) {
			return in, sesBadRequest("Tag names and values may contain only ASCII letters, digits, '_', '-', '.' and '@', at most 256")
		}
	}
	return in, nil
}

func text(c *sesContent) *string {
	if c == nil {
		return nil
	}
	return c.Data
}

// plausibleEmail is the shape check SES makes before sending: one '@' with
// something either side, no spaces or control characters.
func plausibleEmail(a string) bool {
	at := strings.LastIndexByte(a, '@')
	if at <= 0 || at == len(a)-1 || len(a) > 320 {
		return false
	}
	for _, r := range a {
		if r <= ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

func (s *Server) sendEmail(body []byte) (accepted, *apiError) {
	in, e := decodeSendEmail(body)
	if e != nil {
		return accepted{}, e
	}
	d := in.Destination
	to := append(append(append([]string{}, d.ToAddresses...), d.CcAddresses...), d.BccAddresses...)
	for _, a := range to {
		if s.isRejected(a) {
			return accepted{}, &apiError{status: http.StatusBadRequest, code: "MessageRejected",
				message: "Email address is on the suppression list for your account."}
		}
	}
	tags := map[string]string{}
	for _, t := range in.EmailTags {
		tags[t.Name] = t.Value
	}
	id := fmt.Sprintf("0100%013x-%s-000000", s.now().UnixMilli(), newUUID())
	e2 := Entry{Time: s.now().UTC(), Service: string(ServiceSES), Channel: "email", To: to, From: in.FromEmailAddress,
		Subject: deref(in.Content.Simple.Subject.Data), Text: deref(text(in.Content.Simple.Body.Text)),
		HTML: deref(text(in.Content.Simple.Body.Html)), ProviderID: id, ConfigurationSet: in.ConfigurationSetName, Tags: tags}
	correlate(&e2, tags)
	return accepted{answer: map[string]string{"MessageId": id}, entry: &e2, to: to[0]}, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// correlate fills the entry's correlation keys from tags, decoded as the
// webhooks decode them; an undecodable value is kept as sent.
func correlate(e *Entry, tags map[string]string) {
	get := func(k string) string {
		v, ok := tags[k]
		if !ok {
			return ""
		}
		if d, err := webhooks.DecodeValue(v); err == nil {
			return d
		}
		return v
	}
	e.Tenant, e.Customer, e.Attempt, e.Debt = get(webhooks.KeyTenant), get(webhooks.KeyCustomer), get(webhooks.KeyAttempt), get(webhooks.KeyDebt)
}
