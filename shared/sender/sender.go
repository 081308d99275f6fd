// Package sender puts a message in front of a person once the dispatch gate
// has allowed it: e-mail through SES, texts through End User Messaging SMS,
// calls and AI voice through Amazon Connect, each behind the small Sender
// interface (adapters in the ses, sms and connect sub-packages).
//
// Deliver runs gate → claim → send → complete. The gate records the attempt
// (one decision per attempt id); the send ledger then claims the attempt id
// before the provider is called and records the provider's answer after, so a
// retried task never sends twice:
//
//   - sent: the stored receipt is returned and nothing is sent;
//   - failed (the provider refused for good): the reason is returned, no resend;
//   - sending, claim still fresh: another delivery is in progress (ErrInProgress);
//   - sending, claim stale: a delivery died between claim and answer. E-mail and
//     texts are not sent again: the outcome is "in doubt" and a person
//     reconciles it, since a message sent twice is worse than one to re-check.
//     Connect deduplicates on its ClientToken, so a call is placed again with
//     the same token and Connect answers with the contact already started.
//
// A transient provider error (throttling, 5xx, the request never left)
// releases the claim so the task's retry can send. The package imports no AWS
// SDK.
package sender

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/ledger"
)

// Content is what a message says. Each sender reads the fields of its
// channel: e-mail Subject, Text and HTML; SMS Text; calls Script.
type Content struct {
	Subject string `json:"subject,omitempty"`
	Text    string `json:"text,omitempty"`
	HTML    string `json:"html,omitempty"`
	// Script is what a call is about: the flow plays it (prerecorded), the
	// AI agent is primed with it, or the agent sees it.
	Script string `json:"script,omitempty"`
}

// Message is one message to one person, as the gate allowed it. Deliver
// builds it from the gate's request, so a sender can only reach the address
// the gate judged.
type Message struct {
	Tenant    ledger.TenantID
	Customer  string
	AttemptID string
	Debt      string // "" when the message is about no single invoice
	Channel   compliance.Channel
	// To is the destination: an E.164 number or a lower-case e-mail address.
	To      string
	Content Content
}

// Receipt is the provider's acknowledgement of a send.
type Receipt struct {
	// Provider names the service: ProviderSES, ProviderSMS, ProviderConnect.
	Provider string `json:"provider"`
	// ProviderID is the SES or SMS MessageId or the Connect ContactId: what
	// the provider's delivery events name.
	ProviderID string    `json:"provider_id"`
	At         time.Time `json:"at"`
}

// Providers named in receipts.
const (
	ProviderSES     = "ses"
	ProviderSMS     = "sms"
	ProviderConnect = "connect"
	ProviderLetters = "letters"
)

// Sender sends one message through one provider.
type Sender interface {
	// Send hands m to the provider. Errors are *ProviderError values (or
	// are treated as ClassInDoubt when they are not).
	Send(ctx context.Context, m Message) (Receipt, error)
	// DedupWindow is how long the provider recognises a repeated send of one
	// attempt and answers it without sending again (Connect's ClientToken:
	// 7 days); 0 when it does not. Only within it may a send left in doubt be
	// repeated.
	DedupWindow() time.Duration
}

// Class says what a failed send means for sending again.
type Class int

// Classes of provider errors.
const (
	// ClassTransient: the provider did not send (throttled, 5xx, the request
	// never left); sending again later may succeed.
	ClassTransient Class = iota + 1
	// ClassPermanent: the provider refused (validation, bad or opted-out
	// address, unverified identity); sending again fails the same way.
	ClassPermanent
	// ClassInDoubt: the provider may have sent (the connection broke after
	// the request left, the answer could not be read).
	ClassInDoubt
)

func (c Class) String() string {
	switch c {
	case ClassTransient:
		return "transient"
	case ClassPermanent:
		return "permanent"
	case ClassInDoubt:
		return "in doubt"
	}
	return fmt.Sprintf("Class(%d)", int(c))
}

// ProviderError is a failed send, classified. Its message names the class,
// the code and Detail only: provider messages can quote the destination, so
// they stay in Err, reachable with errors.As but out of logs and task
// errors.
type ProviderError struct {
	Class Class
	// Code is the provider's error code (MessageRejected,
	// ThrottlingException...) or a short name of the local failure.
	Code string
	// Detail is free of personal data: an HTTP status, a transport failure.
	Detail string
	// Err is the underlying error.
	Err error
}

func (e *ProviderError) Error() string {
	s := e.Class.String() + " provider error " + e.Code
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

func (e *ProviderError) Unwrap() error { return e.Err }

// ClassOf returns the class of a send error; an error that is not a
// *ProviderError is in doubt, the safe reading for at-most-once sends.
func ClassOf(err error) Class {
	var pe *ProviderError
	if errors.As(err, &pe) && pe.Class != 0 {
		return pe.Class
	}
	return ClassInDoubt
}

// Invalid returns a permanent error for a message the sender refuses before
// calling the provider (no body, no flow configured for the channel). The
// text becomes Detail, so it must not quote the message.
func Invalid(format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &ProviderError{Class: ClassPermanent, Code: "InvalidMessage", Detail: err.Error(), Err: err}
}

// MaskAddress hides most of a phone number or e-mail address for logs and
// listings: "p***@example.com", "+1*******23".
func MaskAddress(s string) string {
	if at := strings.LastIndexByte(s, '@'); at >= 0 {
		local, domain := s[:at], s[at+1:]
		if local == "" {
			return "***@" + domain
		}
		r := []rune(local)
		return string(r[0]) + "***@" + domain
	}
	r := []rune(s)
	if len(r) <= 4 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:2]) + strings.Repeat("*", len(r)-4) + string(r[len(r)-2:])
}
