// Package snsverify reads Amazon SNS HTTP(S) deliveries and verifies their
// signatures, so that a notification posted to a webhook by anyone but
// Amazon SNS, or changed on the way, is refused before it is read.
//
// It implements "Verifying the signatures of Amazon SNS messages" of the SNS
// Developer Guide: SignatureVersion 1 (SHA1withRSA) and 2 (SHA256withRSA),
// the canonical string per message type, a signing certificate fetched only
// over https from an SNS host and checked against trusted roots, and an
// allow-list of topics. It imports no AWS SDK: the certificate comes through
// a Fetcher, so tests sign with their own CA.
package snsverify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Message types.
const (
	TypeNotification             = "Notification"
	TypeSubscriptionConfirmation = "SubscriptionConfirmation"
	TypeUnsubscribeConfirmation  = "UnsubscribeConfirmation"
)

// MaxBody bounds an SNS delivery: a message is at most 256 KiB, and the
// envelope escapes it as a JSON string (up to 6 bytes for one). Anything
// larger is not from SNS and is refused before parsing.
const MaxBody = 2 << 20

// Message is one SNS HTTP(S) delivery as posted to the endpoint. Every
// field is the string as sent, unparsed: the signature covers those exact
// bytes, and aws-lambda-go's events.SNSEntity parses Timestamp into a
// time.Time (which may not write back the same digits) and has no Token or
// SubscribeURL, so it cannot be verified from.
type Message struct {
	Type             string
	MessageID        string
	Token            string // confirmations only
	TopicArn         string
	Subject          string // optional, notifications only
	Message          string
	Timestamp        string
	SignatureVersion string
	Signature        string
	SigningCertURL   string
	SubscribeURL     string // confirmations only
	UnsubscribeURL   string // notifications only
}

// wireMessage spells the field names as SNS does. encoding/json matches
// names without regard to case, so "SigningCertUrl" (Lambda's spelling)
// is read too.
type wireMessage struct {
	Type             *string `json:"Type"`
	MessageID        *string `json:"MessageId"`
	Token            *string `json:"Token"`
	TopicArn         *string `json:"TopicArn"`
	Subject          *string `json:"Subject"`
	Message          *string `json:"Message"`
	Timestamp        *string `json:"Timestamp"`
	SignatureVersion *string `json:"SignatureVersion"`
	Signature        *string `json:"Signature"`
	SigningCertURL   *string `json:"SigningCertURL"`
	SubscribeURL     *string `json:"SubscribeURL"`
	UnsubscribeURL   *string `json:"UnsubscribeURL"`
}

// Parse reads an SNS delivery. It refuses what SNS never sends: something
// other than one JSON object, an unknown Type, a field that should be a
// string and is not, a missing field the signature covers. It does not
// check the signature (Verifier.Verify does); a body without one parses, so
// the verifier can name the reason as unsigned.
func Parse(body []byte) (Message, error) {
	if len(body) > MaxBody {
		return Message{}, &Error{Reason: ReasonMalformed, Detail: fmt.Sprintf("body of %d bytes is over %d", len(body), MaxBody)}
	}
	if !utf8.Valid(body) {
		return Message{}, &Error{Reason: ReasonMalformed, Detail: "body is not UTF-8"}
	}
	t := bytes.TrimSpace(body)
	if len(t) == 0 || t[0] != '{' {
		return Message{}, &Error{Reason: ReasonMalformed, Detail: "body is not a JSON object"}
	}
	var w wireMessage
	dec := json.NewDecoder(bytes.NewReader(t))
	if err := dec.Decode(&w); err != nil {
		return Message{}, &Error{Reason: ReasonMalformed, Detail: "body is not an SNS message: " + jsonError(err)}
	}
	if dec.More() {
		return Message{}, &Error{Reason: ReasonMalformed, Detail: "more data after the JSON object"}
	}
	m := Message{
		Type: deref(w.Type), MessageID: deref(w.MessageID), Token: deref(w.Token), TopicArn: deref(w.TopicArn),
		Subject: deref(w.Subject), Message: deref(w.Message), Timestamp: deref(w.Timestamp),
		SignatureVersion: deref(w.SignatureVersion), Signature: deref(w.Signature),
		SigningCertURL: deref(w.SigningCertURL), SubscribeURL: deref(w.SubscribeURL), UnsubscribeURL: deref(w.UnsubscribeURL),
	}
	required := []struct{ name, v string }{{"Type", m.Type}, {"MessageId", m.MessageID}, {"TopicArn", m.TopicArn},
		{"Timestamp", m.Timestamp}}
	switch m.Type {
	case TypeNotification:
	case TypeSubscriptionConfirmation, TypeUnsubscribeConfirmation:
		required = append(required, struct{ name, v string }{"Token", m.Token}, struct{ name, v string }{"SubscribeURL", m.SubscribeURL})
	case "":
		return Message{}, &Error{Reason: ReasonMalformed, Detail: "no Type: not an SNS message"}
	default:
		return Message{}, &Error{Reason: ReasonMalformed, Detail: fmt.Sprintf("unknown Type %.40q", m.Type)}
	}
	for _, f := range required {
		if f.v == "" {
			return Message{}, &Error{Reason: ReasonMalformed, Detail: "no " + f.name}
		}
	}
	if w.Message == nil {
		return Message{}, &Error{Reason: ReasonMalformed, Detail: "no Message"}
	}
	return m, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// jsonError names a decoding error without quoting the body.
func jsonError(err error) string {
	if te, ok := err.(*json.UnmarshalTypeError); ok {
		return fmt.Sprintf("field %s is a JSON %s, want a string", te.Field, te.Value)
	}
	return "invalid JSON"
}

// StringToSign is the canonical string the signature covers: for each
// field the message type signs, in this order, its name, a newline, its
// value and a newline. A Notification signs Message, MessageId, Subject
// (only when present), Timestamp, TopicArn, Type; a confirmation signs
// Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type.
func (m Message) StringToSign() string {
	var b strings.Builder
	add := func(k, v string) {
		b.WriteString(k)
		b.WriteByte('\n')
		b.WriteString(v)
		b.WriteByte('\n')
	}
	add("Message", m.Message)
	add("MessageId", m.MessageID)
	if m.Type == TypeNotification {
		if m.Subject != "" {
			add("Subject", m.Subject)
		}
	} else {
		add("SubscribeURL", m.SubscribeURL)
	}
	add("Timestamp", m.Timestamp)
	if m.Type != TypeNotification {
		add("Token", m.Token)
	}
	add("TopicArn", m.TopicArn)
	add("Type", m.Type)
	return b.String()
}
