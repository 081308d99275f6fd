// Package connect normalises Amazon Connect contact events (EventBridge
// detail-type "Amazon Connect Contact Event") into call.outcome events.
// Only the end of an outbound voice call our sender placed becomes an
// event; shared/webhooks/README.md says how the outcome is read and which tags
// our sender must set.
package connect

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/recoup-dev/recoup/events"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/deadletter"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/webhooks"
)

// Source is the producer name on every event.
const Source = "connect"

// EventBridge source and detail-type of contact events.
const (
	EventSource = "aws.connect"
	DetailType  = "Amazon Connect Contact Event"
)

// Detail is the contact event's detail, the fields we read. Connect's own
// samples spell some names in two cases ("AgentInfo" and "agentInfo");
// encoding/json matches names without regard to case, so both are read.
type Detail struct {
	EventType                       string            `json:"eventType"`
	ContactID                       string            `json:"contactId"`
	Channel                         string            `json:"channel"` // "VOICE" in the data model, "Voice" in a sample
	InitiationMethod                string            `json:"initiationMethod"`
	InitiationTimestamp             string            `json:"initiationTimestamp"`
	ConnectedToSystemTimestamp      string            `json:"connectedToSystemTimestamp"`
	DisconnectTimestamp             string            `json:"disconnectTimestamp"`
	DisconnectReason                string            `json:"disconnectReason"`
	AnsweringMachineDetectionStatus string            `json:"answeringMachineDetectionStatus"`
	AgentInfo                       *AgentInfo        `json:"agentInfo"`
	CustomerEndpoint                *Endpoint         `json:"customerEndpoint"`
	Tags                            map[string]string `json:"tags"`
}

// AgentInfo is the agent the contact reached.
type AgentInfo struct {
	ConnectedToAgentTimestamp string `json:"connectedToAgentTimestamp"`
}

// Endpoint is a contact's endpoint.
type Endpoint struct {
	Address string `json:"address"`
}

// outbound are the initiation methods of calls we place: StartOutboundVoiceContact
// gives OUTBOUND (or API when queued to an agent); campaigns give CAMPAIGN.
var outbound = map[string]bool{"OUTBOUND": true, "API": true, "CAMPAIGN": true}

// ParseEvent reads an EventBridge event as delivered to a Lambda target or
// POSTed by an API destination (the whole event, no input transformer).
func ParseEvent(body []byte) (lambdaevents.EventBridgeEvent, error) {
	t := bytes.TrimSpace(body)
	if len(t) == 0 || t[0] != '{' {
		return lambdaevents.EventBridgeEvent{}, webhooks.Malformed("EventBridge event is not a JSON object")
	}
	var ev lambdaevents.EventBridgeEvent
	if err := json.Unmarshal(t, &ev); err != nil {
		return lambdaevents.EventBridgeEvent{}, webhooks.Malformed("not an EventBridge event of the documented shape")
	}
	if ev.DetailType == "" || ev.Source == "" || len(ev.Detail) == 0 {
		return lambdaevents.EventBridgeEvent{}, webhooks.Malformed("EventBridge event has no source, detail-type or detail")
	}
	return ev, nil
}

// Normalise turns one contact event into at most one call.outcome.
func Normalise(ev lambdaevents.EventBridgeEvent) (webhooks.Outcome, error) {
	var o webhooks.Outcome
	if ev.Source != EventSource || ev.DetailType != DetailType {
		o.Refuse(deadletter.KindUnsupported, ev.ID, "", "EventBridge event %s from %.40q of type %.60q is not a Connect contact event",
			ev.ID, ev.Source, ev.DetailType)
		return o, nil
	}
	var d Detail
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		return o, webhooks.Malformed("Connect contact event detail is not of the documented shape")
	}
	if d.ContactID == "" || d.EventType == "" {
		return o, webhooks.Malformed("Connect contact event has no contactId or eventType")
	}
	switch {
	case d.EventType != "DISCONNECTED":
		o.Ignore("Connect contact %s: %.40s is not the end of a contact", d.ContactID, d.EventType)
		return o, nil
	case !strings.EqualFold(d.Channel, "VOICE"):
		o.Ignore("Connect contact %s: channel %.20s is not a call", d.ContactID, d.Channel)
		return o, nil
	case !outbound[d.InitiationMethod]:
		o.Ignore("Connect contact %s: initiation method %.20s is not a call we placed", d.ContactID, d.InitiationMethod)
		return o, nil
	}
	get := func(k string) (string, bool) { v, ok := d.Tags[k]; return v, ok }
	corr, err := webhooks.ReadCorrelation(get)
	if err != nil {
		// An outbound call without our tags did not go through the
		// dispatch gate: a person must know.
		o.Refuse(deadletter.KindUnknownTenant, d.ContactID, "", "Connect outbound contact %s: tags %v", d.ContactID, err)
		return o, nil
	}
	if corr.Attempt == "" {
		o.Refuse(deadletter.KindRejected, d.ContactID, corr.Tenant,
			"Connect contact %s has no %s tag: a call outcome must join its attempt (12 CFR 1006.14(b))", d.ContactID, webhooks.KeyAttempt)
		return o, nil
	}
	to := ""
	if d.CustomerEndpoint != nil {
		to = d.CustomerEndpoint.Address
	}
	if v, ok := get(webhooks.KeyTo); ok {
		if to, err = webhooks.DecodeValue(v); err != nil {
			to = ""
		}
	}
	cp, err := consent.NormalisePhone(to)
	if err != nil {
		o.Refuse(deadletter.KindInvalid, d.ContactID, corr.Tenant, "Connect contact %s: no dialled number (tag %s or customerEndpoint)",
			d.ContactID, webhooks.KeyTo)
		return o, nil
	}
	channel := events.ChannelVoice
	if v, ok := get(webhooks.KeyChannel); ok {
		channel = events.Channel(v)
	}
	outcome, seconds, ok := Outcome(d)
	if !ok {
		o.Refuse(deadletter.KindRejected, d.ContactID, corr.Tenant,
			"Connect contact %s ended with %.60s: the call was never placed (our resources or parameters failed); the attempt needs a look",
			d.ContactID, d.DisconnectReason)
		return o, nil
	}
	at, err := time.Parse(time.RFC3339Nano, d.DisconnectTimestamp)
	if err != nil {
		at = ev.Time
	}
	o.Add(events.Event{ID: webhooks.EventID(Source, d.ContactID, d.EventType), Tenant: ledger.TenantID(corr.Tenant),
		Customer: corr.Customer, Debt: corr.Debt, Channel: channel, ContactPoint: webhooks.ContactPoint(cp),
		OccurredAt: at.UTC(), Source: Source,
		Payload: events.CallOutcome{Outcome: outcome, DurationSeconds: seconds, AttemptID: corr.Attempt}}, d.ContactID)
	return o, nil
}

// Outcome reads how a call ended and for how long it was connected, in
// this order (shared/webhooks/README.md gives the reasons):
//
//  1. answering machine detection: a voicemail greeting → voicemail; a
//     special information tone or a fax → not_in_service;
//  2. connected to an agent → conversation; connected to the system only
//     (media established, no agent) → connected;
//  3. otherwise the disconnect reason: busy, not in service, no answer;
//     a failure on our side before dialling → ok is false.
//
// The duration is from the connection (agent, else system) to the
// disconnect, in whole seconds; 0 when the call never connected.
func Outcome(d Detail) (o events.Outcome, seconds int, ok bool) {
	end, endErr := time.Parse(time.RFC3339Nano, d.DisconnectTimestamp)
	since := func(ts string) int {
		start, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil || endErr != nil || end.Before(start) {
			return 0
		}
		return min(int(end.Sub(start)/time.Second), 86400)
	}
	agent := ""
	if d.AgentInfo != nil {
		agent = d.AgentInfo.ConnectedToAgentTimestamp
	}
	switch d.AnsweringMachineDetectionStatus {
	case "VOICEMAIL_BEEP", "VOICEMAIL_NO_BEEP":
		return events.OutcomeVoicemail, since(d.ConnectedToSystemTimestamp), true
	case "SIT_TONE_DETECTED", "SIT_TONE_BUSY", "SIT_TONE_INVALID_NUMBER", "FAX_MACHINE_DETECTED":
		return events.OutcomeNotInService, 0, true
	}
	switch {
	case agent != "":
		return events.OutcomeConversation, since(agent), true
	case d.ConnectedToSystemTimestamp != "":
		return events.OutcomeConnected, since(d.ConnectedToSystemTimestamp), true
	}
	switch d.DisconnectReason {
	case "TELECOM_BUSY":
		return events.OutcomeBusy, 0, true
	case "TELECOM_NUMBER_INVALID", "OUTBOUND_DESTINATION_ENDPOINT_ERROR":
		return events.OutcomeNotInService, 0, true
	case "OUTBOUND_RESOURCE_ERROR", "OUTBOUND_ATTEMPT_FAILED":
		return "", 0, false
	}
	// TELECOM_UNANSWERED, TELECOM_TIMEOUT, TELECOM_ORIGINATOR_CANCEL,
	// TELECOM_PROBLEM, TELECOM_POTENTIAL_BLOCKING, CUSTOMER_DISCONNECT
	// before any connection, and anything new: it rang (or was meant to)
	// and nobody was reached.
	return events.OutcomeNoAnswer, 0, true
}
