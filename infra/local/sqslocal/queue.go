package sqslocal

import (
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Queue attribute limits and defaults from the SQS API reference
// (CreateQueue, SetQueueAttributes).
const (
	defaultVisibility  = 30
	maxVisibility      = 43200
	defaultRetention   = 345600
	minRetention       = 60
	maxRetention       = 1209600
	maxDelay           = 900
	maxWait            = 20
	defaultMaxSize     = 262144
	minMaxSize         = 1024
	maxMaxSize         = 1048576
	maxReceiveCountMax = 1000
	dedupWindow        = 5 * time.Minute
	purgeInterval      = 60 * time.Second
)

var queueNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

// queue is one queue and its messages, guarded by Server.mu.
type queue struct {
	Name     string            `json:"name"`
	Attrs    map[string]string `json:"attributes"` // settable attributes, normalised
	Tags     map[string]string `json:"tags,omitempty"`
	Created  time.Time         `json:"created"`
	Modified time.Time         `json:"modified"`
	Messages []*message        `json:"messages"`
	// Dedup maps a FIFO deduplication id to the message it first accepted.
	Dedup     map[string]dedupEntry `json:"dedup,omitempty"`
	LastPurge time.Time             `json:"last_purge"`
	Seq       uint64                `json:"seq"`

	// wake is closed (and replaced) whenever a message may have become
	// receivable, so long polls can return at once.
	wake chan struct{}
	// attempts remembers FIFO receives by ReceiveRequestAttemptId, so a
	// receive retried after its answer was lost gets the same messages
	// instead of leaving them in flight for the visibility timeout.
	attempts map[string]receiveAttempt
}

// receiveAttempt is one FIFO receive: the messages and the receipt handles
// it gave out.
type receiveAttempt struct {
	at      time.Time
	ids     []string
	handles []string
}

// attemptWindow is how long SQS honours a ReceiveRequestAttemptId.
const attemptWindow = 5 * time.Minute

type dedupEntry struct {
	MessageID string    `json:"message_id"`
	Seq       string    `json:"seq,omitempty"`
	Until     time.Time `json:"until"`
}

// message is one message in a queue.
type message struct {
	ID        string                    `json:"id"`
	Body      string                    `json:"body"`
	Attrs     map[string]attributeValue `json:"attributes,omitempty"`
	SysAttrs  map[string]attributeValue `json:"system_attributes,omitempty"`
	Sent      time.Time                 `json:"sent"`
	VisibleAt time.Time                 `json:"visible_at"`
	Receives  int                       `json:"receives"`
	FirstRecv time.Time                 `json:"first_receive"`
	Handle    string                    `json:"handle,omitempty"` // current receipt handle
	GroupID   string                    `json:"group_id,omitempty"`
	DedupID   string                    `json:"dedup_id,omitempty"`
	Seq       string                    `json:"seq,omitempty"`
	DLQSource string                    `json:"dlq_source,omitempty"` // ARN of the queue it was moved from
}

func (q *queue) fifo() bool { return q.Attrs["FifoQueue"] == "true" }

func (q *queue) intAttr(name string) int {
	n, _ := strconv.Atoi(q.Attrs[name])
	return n
}

// notify wakes every long poll waiting on q.
func (q *queue) notify() {
	close(q.wake)
	q.wake = make(chan struct{})
}

// redrive is a parsed RedrivePolicy.
type redrive struct {
	TargetARN       string
	MaxReceiveCount int
}

func (q *queue) redrivePolicy() (redrive, bool) {
	p := q.Attrs["RedrivePolicy"]
	if p == "" {
		return redrive{}, false
	}
	r, err := parseRedrive(p)
	return r, err == nil
}

// String is the policy as SQS returns it: the count as a number.
func (r redrive) String() string {
	b, _ := json.Marshal(struct {
		Target string `json:"deadLetterTargetArn"`
		Max    int    `json:"maxReceiveCount"`
	}{r.TargetARN, r.MaxReceiveCount})
	return string(b)
}

// parseRedrive reads {"deadLetterTargetArn": ..., "maxReceiveCount": N},
// where SQS accepts the count as a number or a string.
func parseRedrive(s string) (redrive, *apiError) {
	var raw struct {
		Target string          `json:"deadLetterTargetArn"`
		Max    json.RawMessage `json:"maxReceiveCount"`
	}
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return redrive{}, errInvalidParameterValue("Invalid value for the parameter RedrivePolicy. Reason: Redrive policy is not a valid JSON map.")
	}
	if raw.Target == "" {
		return redrive{}, errInvalidParameterValue("Value %s for parameter RedrivePolicy is invalid. Reason: Redrive policy does not contain mandatory attribute: deadLetterTargetArn.", s)
	}
	if len(raw.Max) == 0 {
		return redrive{}, errInvalidParameterValue("Value %s for parameter RedrivePolicy is invalid. Reason: Redrive policy does not contain mandatory attribute: maxReceiveCount.", s)
	}
	m := strings.Trim(string(raw.Max), `"`)
	n, err := strconv.Atoi(m)
	if err != nil || n < 1 || n > maxReceiveCountMax {
		return redrive{}, errInvalidParameterValue("Value %s for parameter RedrivePolicy is invalid. Reason: Invalid value for maxReceiveCount: %s, valid values are from 1 to 1000 both inclusive.", s, m)
	}
	return redrive{TargetARN: raw.Target, MaxReceiveCount: n}, nil
}

// defaultAttrs are the settable attributes of a new queue.
func defaultAttrs(fifo bool) map[string]string {
	a := map[string]string{
		"VisibilityTimeout":             strconv.Itoa(defaultVisibility),
		"MaximumMessageSize":            strconv.Itoa(defaultMaxSize),
		"MessageRetentionPeriod":        strconv.Itoa(defaultRetention),
		"DelaySeconds":                  "0",
		"ReceiveMessageWaitTimeSeconds": "0",
		"SqsManagedSseEnabled":          "true",
	}
	if fifo {
		a["FifoQueue"] = "true"
		a["ContentBasedDeduplication"] = "false"
		a["DeduplicationScope"] = "queue"
		a["FifoThroughputLimit"] = "perQueue"
	}
	return a
}

// settable lists the attributes CreateQueue and SetQueueAttributes accept;
// the value says whether SetQueueAttributes may change it.
var settable = map[string]bool{
	"DelaySeconds": true, "MaximumMessageSize": true, "MessageRetentionPeriod": true,
	"Policy": true, "ReceiveMessageWaitTimeSeconds": true, "VisibilityTimeout": true,
	"RedrivePolicy": true, "RedriveAllowPolicy": true,
	"KmsMasterKeyId": true, "KmsDataKeyReusePeriodSeconds": true, "SqsManagedSseEnabled": true,
	"FifoQueue": false, "ContentBasedDeduplication": true, "DeduplicationScope": true, "FifoThroughputLimit": true,
}

// readOnly lists the attributes GetQueueAttributes computes.
var readOnly = []string{
	"QueueArn", "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
	"ApproximateNumberOfMessagesDelayed", "CreatedTimestamp", "LastModifiedTimestamp",
}

// checkAttr validates one settable attribute and returns its normalised
// value. lookupARN says whether a queue ARN exists (for RedrivePolicy) and
// whether it is FIFO.
func checkAttr(name, value string, fifo bool, lookupARN func(string) (exists, isFIFO bool)) (string, *apiError) {
	intIn := func(lo, hi int) (string, *apiError) {
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil || n < lo || n > hi {
			return "", errInvalidAttributeValue("Invalid value for the parameter %s.", name)
		}
		return strconv.Itoa(n), nil
	}
	boolean := func() (string, *apiError) {
		switch strings.ToLower(value) {
		case "true", "false":
			return strings.ToLower(value), nil
		}
		return "", errInvalidAttributeValue("Invalid value for the parameter %s.", name)
	}
	switch name {
	case "DelaySeconds":
		return intIn(0, maxDelay)
	case "MaximumMessageSize":
		return intIn(minMaxSize, maxMaxSize)
	case "MessageRetentionPeriod":
		return intIn(minRetention, maxRetention)
	case "ReceiveMessageWaitTimeSeconds":
		return intIn(0, maxWait)
	case "VisibilityTimeout":
		return intIn(0, maxVisibility)
	case "KmsDataKeyReusePeriodSeconds":
		return intIn(60, 86400)
	case "SqsManagedSseEnabled":
		return boolean()
	case "Policy", "KmsMasterKeyId", "RedriveAllowPolicy":
		return value, nil
	case "RedrivePolicy":
		if value == "" {
			return "", nil // removes the policy
		}
		r, err := parseRedrive(value)
		if err != nil {
			return "", err
		}
		exists, targetFIFO := lookupARN(r.TargetARN)
		if !exists {
			return "", errInvalidParameterValue("Value %s for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.", value)
		}
		if targetFIFO != fifo {
			return "", errInvalidParameterValue("Value %s for parameter RedrivePolicy is invalid. Reason: Dead-letter target owner should be same as the source and both queues should be either standard or FIFO.", value)
		}
		// Normalised the way SQS returns it, so that CreateQueue's
		// idempotency check compares meaning, not spelling.
		return r.String(), nil
	case "FifoQueue":
		v, err := boolean()
		if err != nil {
			return "", err
		}
		if v == "false" && fifo {
			return "", errInvalidAttributeValue("Invalid value for the parameter FifoQueue.")
		}
		return v, nil
	case "ContentBasedDeduplication":
		if !fifo {
			return "", errInvalidAttributeName(name)
		}
		return boolean()
	case "DeduplicationScope":
		if !fifo {
			return "", errInvalidAttributeName(name)
		}
		if value != "queue" && value != "messageGroup" {
			return "", errInvalidAttributeValue("Invalid value for the parameter DeduplicationScope.")
		}
		return value, nil
	case "FifoThroughputLimit":
		if !fifo {
			return "", errInvalidAttributeName(name)
		}
		if value != "perQueue" && value != "perMessageGroupId" {
			return "", errInvalidAttributeValue("Invalid value for the parameter FifoThroughputLimit.")
		}
		return value, nil
	}
	return "", errInvalidAttributeName(name)
}

// counts returns the approximate numbers GetQueueAttributes reports.
func (q *queue) counts(now time.Time) (visible, inFlight, delayed int) {
	for _, m := range q.Messages {
		switch {
		case !m.VisibleAt.After(now):
			visible++
		case m.Receives > 0:
			inFlight++
		default:
			delayed++
		}
	}
	return
}

// expire drops messages older than the retention period.
func (q *queue) expire(now time.Time) {
	keep := q.Messages[:0]
	ret := time.Duration(q.intAttr("MessageRetentionPeriod")) * time.Second
	for _, m := range q.Messages {
		if now.Sub(m.Sent) < ret {
			keep = append(keep, m)
		}
	}
	clear(q.Messages[len(keep):])
	q.Messages = keep
	for id, d := range q.Dedup {
		if now.After(d.Until) {
			delete(q.Dedup, id)
		}
	}
}

func (q *queue) find(id string) (int, *message) {
	for i, m := range q.Messages {
		if m.ID == id {
			return i, m
		}
	}
	return -1, nil
}

func (q *queue) remove(i int) {
	q.Messages = slices.Delete(q.Messages, i, i+1)
}

// nextWake is the earliest future time a message becomes visible, or zero.
func (q *queue) nextWake(now time.Time) time.Time {
	var t time.Time
	for _, m := range q.Messages {
		if m.VisibleAt.After(now) && (t.IsZero() || m.VisibleAt.Before(t)) {
			t = m.VisibleAt
		}
	}
	return t
}
