package sqslocal

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

type empty struct{}

// queueByURL resolves a QueueUrl; the caller holds s.mu. Any host is
// accepted (clients may say localhost), but the path must be
// /<account>/<name>.
func (s *Server) queueByURL(u *string) (*queue, *apiError) {
	if u == nil || *u == "" {
		return nil, errMissingParameter("QueueUrl")
	}
	parsed, err := url.Parse(*u)
	if err != nil || parsed.Host == "" {
		return nil, errInvalidAddress(*u)
	}
	parts := strings.Split(strings.Trim(parsed.Path, "/"), "/")
	if len(parts) != 2 {
		return nil, errInvalidAddress(*u)
	}
	if parts[0] != s.account {
		return nil, errQueueDoesNotExist()
	}
	q, ok := s.queues[parts[1]]
	if !ok {
		return nil, errQueueDoesNotExist()
	}
	return q, nil
}

// withQueue runs op under s.mu on the queue a QueueUrl names.
func (s *Server) withQueue(u *string, op func(*queue) (any, error)) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueByURL(u)
	if err != nil {
		return nil, err
	}
	return op(q)
}

// queueByARN resolves a queue ARN of this server's region and account; the
// caller holds s.mu.
func (s *Server) queueByARN(arn string) *queue {
	name, ok := strings.CutPrefix(arn, s.arn(""))
	if !ok {
		return nil
	}
	return s.queues[name]
}

func (s *Server) lookupARN(arn string) (bool, bool) {
	q := s.queueByARN(arn)
	if q == nil {
		return false, false
	}
	return true, q.fifo()
}

// checkAttrs validates queue attributes in name order and returns their
// normalised values. SetQueueAttributes (set) also refuses the attributes
// fixed at creation.
func (s *Server) checkAttrs(attrs map[string]string, fifo, set bool) (map[string]string, *apiError) {
	out := make(map[string]string, len(attrs))
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		if set && !settable[k] {
			return nil, errInvalidAttributeName(k)
		}
		v, err := checkAttr(k, attrs[k], fifo, s.lookupARN)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

// applyAttrs sets checked attributes on dst; an empty value (a cleared
// policy or key id) removes the attribute.
func applyAttrs(dst, checked map[string]string) {
	for k, v := range checked {
		if v == "" {
			delete(dst, k)
			continue
		}
		dst[k] = v
	}
}

func (s *Server) createQueue(base string, in *createQueueInput) (any, error) {
	name := deref(in.QueueName)
	if name == "" {
		return nil, errMissingParameter("QueueName")
	}
	fifo := strings.HasSuffix(name, ".fifo")
	stem := strings.TrimSuffix(name, ".fifo")
	if len(name) > 80 || !queueNameRE.MatchString(stem) {
		return nil, errInvalidParameterValue("Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
	}
	wantFIFO := strings.EqualFold(in.Attributes["FifoQueue"], "true")
	if fifo != wantFIFO {
		return nil, errInvalidParameterValue("The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	given, err := s.checkAttrs(in.Attributes, fifo, false)
	if err != nil {
		return nil, err
	}
	if q, ok := s.queues[name]; ok {
		for _, k := range slices.Sorted(maps.Keys(given)) {
			if q.Attrs[k] != given[k] {
				return nil, errQueueNameExists(k)
			}
		}
		return map[string]string{"QueueUrl": s.url(base, name)}, nil
	}
	now := time.Now()
	attrs := defaultAttrs(fifo)
	applyAttrs(attrs, given)
	s.queues[name] = &queue{
		Name: name, Attrs: attrs, Tags: in.Tags, Created: now, Modified: now,
		Dedup: map[string]dedupEntry{}, wake: make(chan struct{}),
	}
	return map[string]string{"QueueUrl": s.url(base, name)}, nil
}

func (s *Server) getQueueURL(base string, in *getQueueURLInput) (any, error) {
	name := deref(in.QueueName)
	if name == "" {
		return nil, errMissingParameter("QueueName")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if in.QueueOwnerAWSAccountId != nil && *in.QueueOwnerAWSAccountId != s.account {
		return nil, errQueueDoesNotExist()
	}
	if _, ok := s.queues[name]; !ok {
		return nil, errQueueDoesNotExist()
	}
	return map[string]string{"QueueUrl": s.url(base, name)}, nil
}

type listQueuesOutput struct {
	QueueUrls []string `json:"QueueUrls,omitempty"`
	NextToken string   `json:"NextToken,omitempty"`
}

func (s *Server) listQueues(base string, in *listQueuesInput) (any, error) {
	limit := 1000
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 1000 {
			return nil, errInvalidParameterValue("Value %d for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000.", *in.MaxResults)
		}
		limit = *in.MaxResults
	}
	after := ""
	if in.NextToken != nil && *in.NextToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(*in.NextToken)
		if err != nil {
			return nil, errInvalidParameterValue("Invalid NextToken value.")
		}
		after = string(b)
	}
	s.mu.Lock()
	names := slices.Sorted(maps.Keys(s.queues))
	s.mu.Unlock()
	var out listQueuesOutput
	prefix := deref(in.QueueNamePrefix)
	last := ""
	for _, n := range names {
		if !strings.HasPrefix(n, prefix) || (after != "" && n <= after) {
			continue
		}
		if len(out.QueueUrls) == limit {
			// SQS pages only when the caller asked for MaxResults.
			if in.MaxResults != nil {
				out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(last))
			}
			break
		}
		out.QueueUrls = append(out.QueueUrls, s.url(base, n))
		last = n
	}
	return out, nil
}

type attributesOutput struct {
	Attributes map[string]string `json:"Attributes,omitempty"`
}

func (s *Server) getQueueAttributes(in *getQueueAttributesInput) (any, error) {
	return s.withQueue(in.QueueUrl, func(q *queue) (any, error) {
		now := time.Now()
		q.expire(now)
		visible, inFlight, delayed := q.counts(now)
		all := map[string]string{
			"QueueArn":                              s.arn(q.Name),
			"ApproximateNumberOfMessages":           strconv.Itoa(visible),
			"ApproximateNumberOfMessagesNotVisible": strconv.Itoa(inFlight),
			"ApproximateNumberOfMessagesDelayed":    strconv.Itoa(delayed),
			"CreatedTimestamp":                      strconv.FormatInt(q.Created.Unix(), 10),
			"LastModifiedTimestamp":                 strconv.FormatInt(q.Modified.Unix(), 10),
		}
		maps.Copy(all, q.Attrs)
		out := attributesOutput{Attributes: map[string]string{}}
		for _, n := range in.AttributeNames {
			if n == "All" {
				out.Attributes = all
				break
			}
			if _, ok := settable[n]; !ok && !slices.Contains(readOnly, n) {
				return nil, errInvalidAttributeName(n)
			}
			if v, ok := all[n]; ok {
				out.Attributes[n] = v
			}
		}
		return out, nil
	})
}

func (s *Server) setQueueAttributes(in *setQueueAttributesInput) (any, error) {
	return s.withQueue(in.QueueUrl, func(q *queue) (any, error) {
		if len(in.Attributes) == 0 {
			return nil, errMissingParameter("Attributes")
		}
		set, err := s.checkAttrs(in.Attributes, q.fifo(), true)
		if err != nil {
			return nil, err
		}
		applyAttrs(q.Attrs, set)
		q.Modified = time.Now()
		q.notify()
		return empty{}, nil
	})
}

func (s *Server) deleteQueue(in *queueURLInput) (any, error) {
	return s.withQueue(in.QueueUrl, func(q *queue) (any, error) {
		delete(s.queues, q.Name)
		q.notify()
		return empty{}, nil
	})
}

func (s *Server) purgeQueue(in *queueURLInput) (any, error) {
	return s.withQueue(in.QueueUrl, func(q *queue) (any, error) {
		now := time.Now()
		if !q.LastPurge.IsZero() && now.Sub(q.LastPurge) < purgeInterval {
			return nil, errPurgeInProgress(q.Name)
		}
		q.Messages = nil
		q.LastPurge = now
		return empty{}, nil
	})
}

var (
	attrNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,256}$`)
	numberRE   = regexp.MustCompile(`^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$`)
	batchIDRE  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)
)

// validBody reports whether every character is one SQS accepts.
func validBody(s string) bool {
	for _, r := range s {
		switch {
		case r == 0x9 || r == 0xA || r == 0xD:
		case r >= 0x20 && r <= 0xD7FF:
		case r >= 0xE000 && r <= 0xFFFD:
		case r >= 0x10000 && r <= 0x10FFFF:
		default:
			return false
		}
	}
	return utf8.ValidString(s)
}

// checkAttributes validates message attributes and returns their size in
// bytes as SQS counts it towards the message size (name, type and value).
func checkAttributes(attrs map[string]attributeValue) (int, *apiError) {
	if len(attrs) > 10 {
		return 0, errInvalidParameterValue("Number of message attributes [%d] exceeds the allowed maximum [10].", len(attrs))
	}
	size := 0
	for _, n := range slices.Sorted(maps.Keys(attrs)) {
		v := attrs[n]
		low := strings.ToLower(n)
		if !attrNameRE.MatchString(n) || strings.HasPrefix(n, ".") || strings.HasSuffix(n, ".") ||
			strings.Contains(n, "..") || strings.HasPrefix(low, "aws.") || strings.HasPrefix(low, "amazon.") {
			return 0, errInvalidParameterValue("Message (user) attribute '%s' has an invalid name.", n)
		}
		base, _, _ := strings.Cut(v.DataType, ".")
		switch base {
		case "String", "Number":
			if v.StringValue == nil || *v.StringValue == "" {
				return 0, errInvalidParameterValue("Message (user) attribute '%s' must contain a non-empty value of message attribute type '%s'.", n, v.DataType)
			}
			if v.BinaryValue != nil {
				return 0, errInvalidParameterValue("Message (user) attribute '%s' has a binary value for type '%s'.", n, v.DataType)
			}
			if base == "Number" && !numberRE.MatchString(*v.StringValue) {
				return 0, errInvalidParameterValue("Could not cast message attribute '%s' value to number.", n)
			}
			if !validBody(*v.StringValue) {
				return 0, errInvalidMessageContents()
			}
			size += len(*v.StringValue)
		case "Binary":
			if len(v.BinaryValue) == 0 {
				return 0, errInvalidParameterValue("Message (user) attribute '%s' must contain a non-empty value of message attribute type '%s'.", n, v.DataType)
			}
			if v.StringValue != nil {
				return 0, errInvalidParameterValue("Message (user) attribute '%s' has a string value for type '%s'.", n, v.DataType)
			}
			size += len(v.BinaryValue)
		default:
			return 0, errInvalidParameterValue("The type of message (user) attribute '%s' is invalid. You must use only the following supported type prefixes: Binary, Number, String.", n)
		}
		if len(v.StringListValues) > 0 || len(v.BinaryListValues) > 0 {
			return 0, errInvalidParameterValue("Message (user) attribute '%s': StringListValues and BinaryListValues are not supported.", n)
		}
		size += len(n) + len(v.DataType)
	}
	return size, nil
}

// entrySize is what an entry counts towards a batch's payload limit.
func entrySize(e sendEntry) int {
	n := len(deref(e.MessageBody))
	for k, v := range e.MessageAttributes {
		n += len(k) + len(v.DataType) + len(deref(v.StringValue)) + len(v.BinaryValue)
	}
	return n
}

// prepare validates a send and builds its message. A FIFO duplicate inside
// the deduplication window returns dup with the first message's result and
// no message.
func (s *Server) prepare(q *queue, e sendEntry, now time.Time) (*message, *sendResult, *apiError) {
	body := deref(e.MessageBody)
	if body == "" {
		return nil, nil, errMissingParameter("MessageBody")
	}
	if !validBody(body) {
		return nil, nil, errInvalidMessageContents()
	}
	attrSize, err := checkAttributes(e.MessageAttributes)
	if err != nil {
		return nil, nil, err
	}
	for n, v := range e.MessageSystemAttributes {
		if n != "AWSTraceHeader" || v.DataType != "String" || v.StringValue == nil || *v.StringValue == "" {
			return nil, nil, errInvalidParameterValue("Message system attribute '%s' is invalid: only AWSTraceHeader of type String is supported.", n)
		}
	}
	if limit := q.intAttr("MaximumMessageSize"); len(body)+attrSize > limit {
		return nil, nil, errInvalidParameterValue("One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", limit)
	}
	delay := q.intAttr("DelaySeconds")
	if e.DelaySeconds != nil {
		if q.fifo() {
			return nil, nil, errInvalidParameterValue("Value %d for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.", *e.DelaySeconds)
		}
		if *e.DelaySeconds < 0 || *e.DelaySeconds > maxDelay {
			return nil, nil, errInvalidParameterValue("Value %d for parameter DelaySeconds is invalid. Reason: must be between 0 and 900, if provided.", *e.DelaySeconds)
		}
		delay = *e.DelaySeconds
	}
	m := &message{
		ID: newUUID(), Body: body, Attrs: e.MessageAttributes, SysAttrs: e.MessageSystemAttributes,
		Sent: now, VisibleAt: now.Add(time.Duration(delay) * time.Second),
	}
	for _, p := range []struct {
		name string
		v    *string
	}{{"MessageGroupId", e.MessageGroupId}, {"MessageDeduplicationId", e.MessageDeduplicationId}} {
		if p.v != nil && !validFIFOID(*p.v) {
			return nil, nil, errInvalidParameterValue("Value %s for parameter %s is invalid. Reason: It can only contain alphanumeric characters and punctuation, 1 to 128 characters long.", *p.v, p.name)
		}
	}
	if e.MessageGroupId != nil {
		m.GroupID = *e.MessageGroupId
	}
	if !q.fifo() {
		if e.MessageDeduplicationId != nil {
			return nil, nil, errInvalidParameterValue("The request include parameter MessageDeduplicationId that is not valid for this queue type")
		}
		return m, nil, nil
	}
	if e.MessageGroupId == nil {
		return nil, nil, errMissingParameter("MessageGroupId")
	}
	switch {
	case e.MessageDeduplicationId != nil:
		m.DedupID = *e.MessageDeduplicationId
	case q.Attrs["ContentBasedDeduplication"] == "true":
		sum := sha256.Sum256([]byte(body))
		m.DedupID = hex.EncodeToString(sum[:])
	default:
		return nil, nil, errInvalidParameterValue("The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
	}
	key := m.DedupID
	if q.Attrs["DeduplicationScope"] == "messageGroup" {
		key = m.GroupID + "\x00" + key
	}
	if d, ok := q.Dedup[key]; ok && now.Before(d.Until) {
		return nil, &sendResult{MessageId: d.MessageID, SequenceNumber: d.Seq}, nil
	}
	q.Seq++
	m.Seq = fmt.Sprintf("%020d", q.Seq)
	q.Dedup[key] = dedupEntry{MessageID: m.ID, Seq: m.Seq, Until: now.Add(dedupWindow)}
	return m, nil, nil
}

func validFIFOID(s string) bool {
	if len(s) < 1 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 33 || s[i] > 126 {
			return false
		}
	}
	return true
}

// enqueue validates e, adds its message to q and returns what SQS reports
// for it. A FIFO duplicate adds nothing and reports the first message.
func (s *Server) enqueue(q *queue, e sendEntry, now time.Time) (sendResult, *apiError) {
	m, dup, err := s.prepare(q, e, now)
	if err != nil {
		return sendResult{}, err
	}
	r := sendResult{
		Id:                           deref(e.Id),
		MD5OfMessageBody:             md5Hex(deref(e.MessageBody)),
		MD5OfMessageAttributes:       md5OfAttributes(e.MessageAttributes),
		MD5OfMessageSystemAttributes: md5OfAttributes(e.MessageSystemAttributes),
	}
	if dup != nil {
		r.MessageId, r.SequenceNumber = dup.MessageId, dup.SequenceNumber
		return r, nil
	}
	r.MessageId, r.SequenceNumber = m.ID, m.Seq
	q.Messages = append(q.Messages, m)
	q.notify()
	return r, nil
}

func (s *Server) sendMessage(in *sendMessageInput) (any, error) {
	return s.withQueue(in.QueueUrl, func(q *queue) (any, error) {
		now := time.Now()
		q.expire(now)
		r, err := s.enqueue(q, in.sendEntry, now)
		if err != nil {
			return nil, err
		}
		r.Id = "" // SendMessage has no entry id
		return r, nil
	})
}

// checkBatch applies the request-level batch rules, in the order SQS does.
func checkBatch(ids []*string) *apiError {
	if len(ids) == 0 {
		return errEmptyBatch()
	}
	if len(ids) > 10 {
		return errTooManyEntries(len(ids))
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if id == nil || !batchIDRE.MatchString(*id) {
			return errInvalidBatchEntryID(deref(id))
		}
		if seen[*id] {
			return errIDsNotDistinct(*id)
		}
		seen[*id] = true
	}
	return nil
}

func failed(id string, err *apiError) batchErrorEntry {
	return batchErrorEntry{Id: id, Code: err.Code(), Message: err.message, SenderFault: err.sender}
}

type sendBatchOutput struct {
	Successful []sendResult      `json:"Successful"`
	Failed     []batchErrorEntry `json:"Failed"`
}

func (s *Server) sendMessageBatch(in *sendMessageBatchInput) (any, error) {
	return s.withQueue(in.QueueUrl, func(q *queue) (any, error) {
		ids := make([]*string, len(in.Entries))
		total := 0
		for i, e := range in.Entries {
			ids[i] = e.Id
			total += entrySize(e)
		}
		if err := checkBatch(ids); err != nil {
			return nil, err
		}
		limit := defaultMaxSize
		if q.intAttr("MaximumMessageSize") > defaultMaxSize {
			limit = maxMaxSize
		}
		if total > limit {
			return nil, errBatchTooLong(total, limit)
		}
		now := time.Now()
		q.expire(now)
		out := sendBatchOutput{Successful: []sendResult{}, Failed: []batchErrorEntry{}}
		for _, e := range in.Entries {
			r, err := s.enqueue(q, e, now)
			if err != nil {
				out.Failed = append(out.Failed, failed(*e.Id, err))
				continue
			}
			out.Successful = append(out.Successful, r)
		}
		return out, nil
	})
}

type receiveOutput struct {
	Messages []messageOut `json:"Messages,omitempty"`
}

func (s *Server) receiveMessage(ctx context.Context, in *receiveMessageInput) (any, error) {
	s.mu.Lock()
	q, err := s.queueByURL(in.QueueUrl)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	max, vis, wait := 1, q.intAttr("VisibilityTimeout"), q.intAttr("ReceiveMessageWaitTimeSeconds")
	s.mu.Unlock()
	if in.MaxNumberOfMessages != nil {
		max = *in.MaxNumberOfMessages
		if max < 1 || max > 10 {
			return nil, errInvalidParameterValue("Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", max)
		}
	}
	if in.VisibilityTimeout != nil {
		vis = *in.VisibilityTimeout
		if vis < 0 || vis > maxVisibility {
			return nil, errInvalidParameterValue("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.", vis)
		}
	}
	if in.WaitTimeSeconds != nil {
		wait = *in.WaitTimeSeconds
		if wait < 0 || wait > maxWait {
			return nil, errInvalidParameterValue("Value %d for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.", wait)
		}
	}
	sysNames := append(append([]string(nil), in.AttributeNames...), in.MessageSystemAttributeNames...)
	for _, n := range sysNames {
		if !slices.Contains(systemAttributeNames, n) {
			return nil, errInvalidAttributeName(n)
		}
	}
	deadline := time.Now().Add(time.Duration(wait) * time.Second)
	for {
		s.mu.Lock()
		q, err := s.queueByURL(in.QueueUrl)
		if err != nil {
			s.mu.Unlock()
			if wait > 0 {
				// Deleted while we waited: the poll ends empty.
				return receiveOutput{}, nil
			}
			return nil, err
		}
		now := time.Now()
		var got []*message
		if id := deref(in.ReceiveRequestAttemptId); id != "" && q.fifo() {
			var retried bool
			var rerr error
			if got, retried, rerr = q.retryReceive(id, now, vis); rerr != nil {
				s.mu.Unlock()
				return nil, rerr
			}
			if !retried {
				got = s.receive(q, now, max, vis)
				q.rememberReceive(id, now, got)
			}
		} else {
			got = s.receive(q, now, max, vis)
		}
		if len(got) > 0 || !now.Before(deadline) {
			out := receiveOutput{}
			for _, m := range got {
				out.Messages = append(out.Messages, s.render(q, m, sysNames, in.MessageAttributeNames))
			}
			s.mu.Unlock()
			return out, nil
		}
		wake := q.wake
		until := deadline
		if next := q.nextWake(now); !next.IsZero() && next.Before(until) {
			until = next
		}
		s.mu.Unlock()
		t := time.NewTimer(time.Until(until))
		select {
		case <-wake:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return receiveOutput{}, nil
		case <-s.closing:
			t.Stop()
			return receiveOutput{}, nil
		}
		t.Stop()
	}
}

// retryReceive answers a FIFO receive whose ReceiveRequestAttemptId was
// seen in the last five minutes: the same messages with the same receipt
// handles, their visibility timeout restarted, as SQS does. An attempt whose
// messages were since deleted or changed cannot be retried.
func (q *queue) retryReceive(id string, now time.Time, vis int) ([]*message, bool, error) {
	for k, a := range q.attempts {
		if now.Sub(a.at) > attemptWindow {
			delete(q.attempts, k)
		}
	}
	a, ok := q.attempts[id]
	if !ok {
		return nil, false, nil
	}
	var out []*message
	for i, mid := range a.ids {
		var m *message
		for _, c := range q.Messages {
			if c.ID == mid {
				m = c
				break
			}
		}
		if m == nil || m.Handle != a.handles[i] || !m.VisibleAt.After(now) {
			return nil, false, errInvalidParameterValue("Value %s for parameter ReceiveRequestAttemptId is invalid. Reason: The receiveRequestAttemptId is not valid anymore since the receive call is not retryable.", id)
		}
		out = append(out, m)
	}
	for _, m := range out {
		m.VisibleAt = now.Add(time.Duration(vis) * time.Second)
	}
	return out, true, nil
}

// rememberReceive records a FIFO receive under its attempt id.
func (q *queue) rememberReceive(id string, now time.Time, got []*message) {
	if len(got) == 0 {
		return
	}
	if q.attempts == nil {
		q.attempts = map[string]receiveAttempt{}
	}
	a := receiveAttempt{at: now}
	for _, m := range got {
		a.ids, a.handles = append(a.ids, m.ID), append(a.handles, m.Handle)
	}
	q.attempts[id] = a
}

// receive takes up to max visible messages from q, moving those received
// maxReceiveCount times already to the dead-letter queue instead. FIFO
// queues deliver a group's messages in order and none of a group while one
// of its messages is in flight. The caller holds s.mu.
func (s *Server) receive(q *queue, now time.Time, max, vis int) []*message {
	q.expire(now)
	policy, hasPolicy := q.redrivePolicy()
	var dlq *queue
	if hasPolicy {
		if dlq = s.queueByARN(policy.TargetARN); dlq != nil {
			dlq.expire(now)
		}
	}
	blocked := map[string]bool{}
	if q.fifo() {
		for _, m := range q.Messages {
			if m.Receives > 0 && m.VisibleAt.After(now) {
				blocked[m.GroupID] = true
			}
		}
	}
	var out []*message
	moved := false
	for i := 0; i < len(q.Messages) && len(out) < max; {
		m := q.Messages[i]
		if q.fifo() && blocked[m.GroupID] {
			i++
			continue
		}
		if m.VisibleAt.After(now) {
			if q.fifo() {
				blocked[m.GroupID] = true
			}
			i++
			continue
		}
		if dlq != nil && m.Receives >= policy.MaxReceiveCount {
			q.remove(i)
			m.Receives, m.FirstRecv, m.Handle = 0, time.Time{}, ""
			m.DLQSource = s.arn(q.Name)
			m.VisibleAt = now
			dlq.Messages = append(dlq.Messages, m)
			moved = true
			continue
		}
		m.Receives++
		if m.FirstRecv.IsZero() {
			m.FirstRecv = now
		}
		m.VisibleAt = now.Add(time.Duration(vis) * time.Second)
		m.Handle = newHandle(q.Name, m.ID)
		out = append(out, m)
		i++
	}
	if moved {
		dlq.notify()
	}
	return out
}

// systemAttributeNames are the names ReceiveMessage accepts in
// MessageSystemAttributeNames (and the deprecated AttributeNames).
var systemAttributeNames = []string{
	"All", "SenderId", "SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp",
	"SequenceNumber", "MessageDeduplicationId", "MessageGroupId", "AWSTraceHeader", "DeadLetterQueueSourceArn",
}

func (s *Server) render(q *queue, m *message, sysNames, attrNames []string) messageOut {
	out := messageOut{MessageId: m.ID, ReceiptHandle: m.Handle, MD5OfBody: md5Hex(m.Body), Body: m.Body}
	ms := func(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }
	sys := map[string]string{
		"SenderId":                         s.account,
		"SentTimestamp":                    ms(m.Sent),
		"ApproximateReceiveCount":          strconv.Itoa(m.Receives),
		"ApproximateFirstReceiveTimestamp": ms(m.FirstRecv),
	}
	if m.GroupID != "" {
		sys["MessageGroupId"] = m.GroupID
	}
	if q.fifo() || m.Seq != "" {
		sys["SequenceNumber"] = m.Seq
		sys["MessageDeduplicationId"] = m.DedupID
	}
	if v, ok := m.SysAttrs["AWSTraceHeader"]; ok {
		sys["AWSTraceHeader"] = deref(v.StringValue)
	}
	if m.DLQSource != "" {
		sys["DeadLetterQueueSourceArn"] = m.DLQSource
	}
	for _, n := range sysNames {
		if n == "All" {
			out.Attributes = sys
			break
		}
		if v, ok := sys[n]; ok {
			if out.Attributes == nil {
				out.Attributes = map[string]string{}
			}
			out.Attributes[n] = v
		}
	}
	for name, v := range m.Attrs {
		if wantAttribute(name, attrNames) {
			if out.MessageAttributes == nil {
				out.MessageAttributes = map[string]attributeValue{}
			}
			out.MessageAttributes[name] = v
		}
	}
	out.MD5OfMessageAttributes = md5OfAttributes(out.MessageAttributes)
	return out
}

// wantAttribute applies MessageAttributeNames: "All" or ".*" for every
// attribute, "prefix.*" for those starting with "prefix.", else exact names.
func wantAttribute(name string, patterns []string) bool {
	for _, p := range patterns {
		switch {
		case p == "All" || p == ".*":
			return true
		case strings.HasSuffix(p, ".*"):
			if strings.HasPrefix(name, strings.TrimSuffix(p, "*")) {
				return true
			}
		case p == name:
			return true
		}
	}
	return false
}

// Receipt handles are opaque to clients; here they name the queue and the
// message, plus a nonce so every receive gets a new one.
func newHandle(queueName, messageID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(queueName + "\n" + messageID + "\n" + newUUID()))
}

func parseHandle(h string) (queueName, messageID string, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return "", "", false
	}
	parts := strings.Split(string(b), "\n")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return "", "", false
	}
	return parts[0], parts[1], true
}

// handleMessageID checks that a receipt handle is present and names a
// message of q, and returns that message's id.
func handleMessageID(q *queue, handle *string) (string, *apiError) {
	h := deref(handle)
	if h == "" {
		return "", errMissingParameter("ReceiptHandle")
	}
	name, id, ok := parseHandle(h)
	if !ok || name != q.Name {
		return "", errReceiptHandleIsInvalid(h)
	}
	return id, nil
}

// deleteOne deletes the message a handle names. SQS documents that an
// older handle of a message received again "succeeds, but the message will
// not be deleted", and deleting a message already gone succeeds too.
func deleteOne(q *queue, handle *string) *apiError {
	id, err := handleMessageID(q, handle)
	if err != nil {
		return err
	}
	if i, m := q.find(id); m != nil && m.Handle == *handle {
		q.remove(i)
	}
	return nil
}

func (s *Server) deleteMessage(in *deleteMessageInput) (any, error) {
	return s.withQueue(in.QueueUrl, func(q *queue) (any, error) {
		if err := deleteOne(q, in.ReceiptHandle); err != nil {
			return nil, err
		}
		return empty{}, nil
	})
}

func changeOne(q *queue, handle *string, timeout *int, now time.Time) *apiError {
	id, err := handleMessageID(q, handle)
	if err != nil {
		return err
	}
	if timeout == nil {
		return errMissingParameter("VisibilityTimeout")
	}
	if *timeout < 0 || *timeout > maxVisibility {
		return errInvalidParameterValue("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.", *timeout)
	}
	_, m := q.find(id)
	if m == nil {
		return errInvalidParameterValue("Value %s for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.", *handle)
	}
	if m.Handle != *handle || !m.VisibleAt.After(now) {
		return errMessageNotInflight()
	}
	m.VisibleAt = now.Add(time.Duration(*timeout) * time.Second)
	if *timeout == 0 {
		q.notify()
	}
	return nil
}

func (s *Server) changeVisibility(in *changeVisibilityInput) (any, error) {
	return s.withQueue(in.QueueUrl, func(q *queue) (any, error) {
		if err := changeOne(q, in.ReceiptHandle, in.VisibilityTimeout, time.Now()); err != nil {
			return nil, err
		}
		return empty{}, nil
	})
}

type idBatchOutput struct {
	Successful []idEntry         `json:"Successful"`
	Failed     []batchErrorEntry `json:"Failed"`
}

func (s *Server) handleBatch(in *batchHandleInput, apply func(*queue, handleEntry) *apiError) (any, error) {
	return s.withQueue(in.QueueUrl, func(q *queue) (any, error) {
		ids := make([]*string, len(in.Entries))
		for i, e := range in.Entries {
			ids[i] = e.Id
		}
		if err := checkBatch(ids); err != nil {
			return nil, err
		}
		out := idBatchOutput{Successful: []idEntry{}, Failed: []batchErrorEntry{}}
		for _, e := range in.Entries {
			if err := apply(q, e); err != nil {
				out.Failed = append(out.Failed, failed(*e.Id, err))
				continue
			}
			out.Successful = append(out.Successful, idEntry{Id: *e.Id})
		}
		return out, nil
	})
}

func (s *Server) deleteMessageBatch(in *batchHandleInput) (any, error) {
	return s.handleBatch(in, func(q *queue, e handleEntry) *apiError { return deleteOne(q, e.ReceiptHandle) })
}

func (s *Server) changeVisibilityBatch(in *batchHandleInput) (any, error) {
	now := time.Now()
	return s.handleBatch(in, func(q *queue, e handleEntry) *apiError {
		return changeOne(q, e.ReceiptHandle, e.VisibilityTimeout, now)
	})
}
