package erp

import (
	"errors"
	"fmt"
	"time"
)

// State is where an action stands in its delivery.
type State string

// The delivery states.
//
//	pending ──► sent ──► confirmed
//	   ▲         │ └───► failed ─────────┐
//	   │         ▼                       │ replay
//	   └──── dead_lettered ◄─────────────┘ (failed or dead-lettered back to pending)
//
// Sent means a request may have reached the ERP and its answer is not yet
// known: the next attempt reads back before writing again.
const (
	StatePending      State = "pending"
	StateSent         State = "sent"
	StateConfirmed    State = "confirmed"
	StateFailed       State = "failed"
	StateDeadLettered State = "dead_lettered"
)

// States lists every state in delivery order.
var States = []State{StatePending, StateSent, StateConfirmed, StateFailed, StateDeadLettered}

// Valid reports whether s is one of States.
func (s State) Valid() bool {
	for _, v := range States {
		if s == v {
			return true
		}
	}
	return false
}

// Final reports whether nothing more happens to an action in state s
// unless someone replays it.
func (s State) Final() bool {
	return s == StateConfirmed || s == StateFailed || s == StateDeadLettered
}

// transitions are the moves an action may make; the delivery checks each.
// Every request goes out from sent, so pending moves only to sent. A sent
// action goes back to pending only when its attempt surely never reached
// the ERP (the circuit was open, the connection was refused); confirmed is
// final; failed and dead-lettered go back to pending only by a replay.
var transitions = map[State][]State{
	StatePending:      {StateSent},
	StateSent:         {StateSent, StatePending, StateConfirmed, StateFailed, StateDeadLettered},
	StateFailed:       {StatePending},
	StateDeadLettered: {StatePending},
}

// CanMove reports whether an action may go from s to t.
func (s State) CanMove(t State) bool {
	for _, v := range transitions[s] {
		if v == t {
			return true
		}
	}
	return false
}

// Status is an action's delivery record.
type Status struct {
	Action Action `json:"action"`
	State  State  `json:"state"`
	// Attempts counts the requests that may have reached the ERP.
	Attempts int `json:"attempts"`
	// Ref is the ERP's own id of what the action created or changed (a
	// note id, a task id, a profile id), once confirmed.
	Ref string `json:"ref,omitempty"`
	// Error is the last failure: its class, the ERP's code and message.
	Error *Error `json:"error,omitempty"`
	// LeaseUntil is set while a delivery has a request out to the ERP: no
	// other delivery reads back or writes the action before it passes,
	// so two copies of one action delivered at once never both write.
	LeaseUntil time.Time `json:"lease_until,omitzero"`
	// Version increases with every change; stores update on it.
	Version int       `json:"version"`
	Updated time.Time `json:"updated"`
}

// Class says what to do about a failure.
type Class string

// The failure classes.
const (
	// ClassPermanent fails the same way until someone fixes the data or the
	// configuration: an unknown account, a closed period, a refused login.
	ClassPermanent Class = "permanent"
	// ClassTransient may pass if tried again later: a timeout, a 5xx, a
	// throttle, an open circuit. Whether the ERP applied the action is
	// unknown unless NotSent says it never left.
	ClassTransient Class = "transient"
)

// Error is an ERP failure, classified. Message is the ERP's own message
// (names of accounts and amounts an ERP may put in it are the tenant's
// business data, kept in the action's status and audit record, never in
// logs).
type Error struct {
	Class Class `json:"class"`
	// Code is the ERP's or transport's code: an HTTP status, the API's
	// message name (HZ_API_NO_RECORD), "timeout", "circuit_open".
	Code    string `json:"code"`
	Message string `json:"message"`
	// NotSent says the request surely never reached the ERP, so the action
	// can go back to pending without a read-back.
	NotSent bool `json:"not_sent,omitempty"`
	// Credentials says the ERP (or its identity provider) refused the
	// integration user's credentials: nothing ran, and the same request
	// with a rotated password may pass (writeback.Reconnecting).
	Credentials bool `json:"credentials,omitempty"`
}

func (e *Error) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("erp: %s failure %s", e.Class, e.Code)
	}
	return fmt.Sprintf("erp: %s failure %s: %s", e.Class, e.Code, e.Message)
}

// Permanent is a permanent failure with the ERP's code and message.
func Permanent(code, format string, args ...any) *Error {
	return &Error{Class: ClassPermanent, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Transient is a transient failure with its code and message.
func Transient(code, format string, args ...any) *Error {
	return &Error{Class: ClassTransient, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Classify returns err as an *Error. An error that is none is transient:
// a failure nobody classified is not a reason to give up on an action, and
// the delivery's attempt limit stops it from being retried for ever.
func Classify(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, ErrInvalid) {
		return &Error{Class: ClassPermanent, Code: "invalid_action", Message: err.Error(), NotSent: true}
	}
	return &Error{Class: ClassTransient, Code: "unclassified", Message: err.Error()}
}
