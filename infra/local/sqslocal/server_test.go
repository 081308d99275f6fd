package sqslocal

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

// start runs a server on 127.0.0.1:0 and returns it with an SDK client.
// Retries are off so each call reaches the server exactly once.
func start(t *testing.T, dataDir string) (*Server, *sqs.Client) {
	t.Helper()
	srv, err := New(Options{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	endpoint, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close(context.Background()) })
	return srv, newClient(endpoint)
}

func newClient(endpoint string) *sqs.Client {
	return sqs.New(sqs.Options{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint:     aws.String(endpoint),
		RetryMaxAttempts: 1,
	})
}

func createQueue(t *testing.T, c *sqs.Client, name string, attrs map[string]string) string {
	t.Helper()
	out, err := c.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("CreateQueue %s: %v", name, err)
	}
	return aws.ToString(out.QueueUrl)
}

func queueAttrs(t *testing.T, c *sqs.Client, url string, names ...types.QueueAttributeName) map[string]string {
	t.Helper()
	out, err := c.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: names})
	if err != nil {
		t.Fatalf("GetQueueAttributes: %v", err)
	}
	return out.Attributes
}

func receive(t *testing.T, c *sqs.Client, url string, in sqs.ReceiveMessageInput) []types.Message {
	t.Helper()
	in.QueueUrl = &url
	out, err := c.ReceiveMessage(context.Background(), &in)
	if err != nil {
		t.Fatalf("ReceiveMessage: %v", err)
	}
	return out.Messages
}

func TestMD5OfAttributes(t *testing.T) {
	tests := []struct {
		name  string
		attrs map[string]attributeValue
		want  string
	}{
		// The digest SQS returns for this attribute (as recorded by moto's
		// tests against AWS).
		{"number", map[string]attributeValue{"timestamp": {DataType: "Number", StringValue: aws.String("1493147359900")}}, "235c5c510d26fb653d073faed50ae77c"},
		{"none", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := md5OfAttributes(tt.attrs); got != tt.want {
				t.Errorf("md5OfAttributes() = %q, want %q", got, tt.want)
			}
		})
	}
	// Order of names must not matter, and binary must differ from string.
	a := md5OfAttributes(map[string]attributeValue{"a": {DataType: "String", StringValue: aws.String("x")}, "b": {DataType: "Binary", BinaryValue: []byte("x")}})
	b := md5OfAttributes(map[string]attributeValue{"b": {DataType: "Binary", BinaryValue: []byte("x")}, "a": {DataType: "String", StringValue: aws.String("x")}})
	c := md5OfAttributes(map[string]attributeValue{"a": {DataType: "String", StringValue: aws.String("x")}, "b": {DataType: "String", StringValue: aws.String("x")}})
	if a != b || a == c {
		t.Errorf("digests: a=%s b=%s c=%s; want a == b != c", a, b, c)
	}
}

func TestQueueLifecycle(t *testing.T) {
	_, c := start(t, "")
	ctx := context.Background()
	url := createQueue(t, c, "orders", map[string]string{"VisibilityTimeout": "45"})
	if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.HasSuffix(url, "/000000000000/orders") {
		t.Errorf("QueueUrl = %q, want http://127.0.0.1:<port>/000000000000/orders", url)
	}
	// Same attributes: the same URL. Different: QueueNameExists.
	if again := createQueue(t, c, "orders", map[string]string{"VisibilityTimeout": "45"}); again != url {
		t.Errorf("second CreateQueue = %q, want %q", again, url)
	}
	_, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("orders"), Attributes: map[string]string{"VisibilityTimeout": "46"}})
	var exists *types.QueueNameExists
	if !errors.As(err, &exists) {
		t.Errorf("CreateQueue with other attributes: %v, want QueueNameExists", err)
	}
	got, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("orders")})
	if err != nil || aws.ToString(got.QueueUrl) != url {
		t.Errorf("GetQueueUrl = %v, %v; want %s", got, err, url)
	}
	createQueue(t, c, "orders-dlq", nil)
	createQueue(t, c, "payments", nil)
	list, err := c.ListQueues(ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{url, url + "-dlq"}, list.QueueUrls); diff != "" {
		t.Errorf("ListQueues(prefix orders) (-want +got):\n%s", diff)
	}
	page, err := c.ListQueues(ctx, &sqs.ListQueuesInput{MaxResults: aws.Int32(2)})
	if err != nil || len(page.QueueUrls) != 2 || page.NextToken == nil {
		t.Fatalf("ListQueues(MaxResults 2) = %v, %v; want 2 URLs and a token", page, err)
	}
	rest, err := c.ListQueues(ctx, &sqs.ListQueuesInput{MaxResults: aws.Int32(2), NextToken: page.NextToken})
	if err != nil || len(rest.QueueUrls) != 1 || rest.NextToken != nil {
		t.Errorf("ListQueues(second page) = %v, %v; want 1 URL, no token", rest, err)
	}

	attrs := queueAttrs(t, c, url, types.QueueAttributeNameAll)
	for _, k := range []string{"CreatedTimestamp", "LastModifiedTimestamp"} {
		if _, err := strconv.ParseInt(attrs[k], 10, 64); err != nil {
			t.Errorf("%s = %q, want unix seconds", k, attrs[k])
		}
		delete(attrs, k)
	}
	want := map[string]string{
		"QueueArn": "arn:aws:sqs:us-east-1:000000000000:orders", "VisibilityTimeout": "45",
		"MaximumMessageSize": "262144", "MessageRetentionPeriod": "345600", "DelaySeconds": "0",
		"ReceiveMessageWaitTimeSeconds": "0", "SqsManagedSseEnabled": "true",
		"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0", "ApproximateNumberOfMessagesDelayed": "0",
	}
	if diff := cmp.Diff(want, attrs); diff != "" {
		t.Errorf("GetQueueAttributes(All) (-want +got):\n%s", diff)
	}
	if _, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: &url, Attributes: map[string]string{"DelaySeconds": "5"}}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"DelaySeconds": "5"}, queueAttrs(t, c, url, types.QueueAttributeNameDelaySeconds)); diff != "" {
		t.Errorf("after SetQueueAttributes (-want +got):\n%s", diff)
	}
	if _, err := c.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: &url}); err != nil {
		t.Fatal(err)
	}
	var missing *types.QueueDoesNotExist
	if _, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("orders")}); !errors.As(err, &missing) {
		t.Errorf("GetQueueUrl after DeleteQueue: %v, want QueueDoesNotExist", err)
	}
}

func TestSendReceiveDelete(t *testing.T) {
	_, c := start(t, "")
	ctx := context.Background()
	url := createQueue(t, c, "q", nil)
	attrs := map[string]types.MessageAttributeValue{
		"source": {DataType: aws.String("String"), StringValue: aws.String("engagement")},
		"size":   {DataType: aws.String("Number"), StringValue: aws.String("12")},
		"blob":   {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, 2}},
	}
	// The SDK checks MD5OfMessageBody itself and fails the call on a mismatch.
	sent, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("héllo ✓"), MessageAttributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	wantAttrsMD5 := md5OfAttributes(map[string]attributeValue{
		"source": {DataType: "String", StringValue: aws.String("engagement")},
		"size":   {DataType: "Number", StringValue: aws.String("12")},
		"blob":   {DataType: "Binary", BinaryValue: []byte{0, 1, 2}},
	})
	if aws.ToString(sent.MD5OfMessageAttributes) != wantAttrsMD5 {
		t.Errorf("MD5OfMessageAttributes = %s, want %s", aws.ToString(sent.MD5OfMessageAttributes), wantAttrsMD5)
	}
	before := time.Now().UnixMilli()
	msgs := receive(t, c, url, sqs.ReceiveMessageInput{
		MaxNumberOfMessages:         10,
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{"ApproximateReceiveCount", "SentTimestamp", "ApproximateFirstReceiveTimestamp"},
	})
	if len(msgs) != 1 {
		t.Fatalf("received %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if aws.ToString(m.MessageId) != aws.ToString(sent.MessageId) || aws.ToString(m.Body) != "héllo ✓" {
		t.Errorf("message = %s %q, want %s %q", aws.ToString(m.MessageId), aws.ToString(m.Body), aws.ToString(sent.MessageId), "héllo ✓")
	}
	if diff := cmp.Diff(attrs, m.MessageAttributes, cmp.AllowUnexported(types.MessageAttributeValue{})); diff != "" {
		t.Errorf("MessageAttributes (-want +got):\n%s", diff)
	}
	if aws.ToString(m.MD5OfMessageAttributes) != wantAttrsMD5 {
		t.Errorf("received MD5OfMessageAttributes = %s, want %s", aws.ToString(m.MD5OfMessageAttributes), wantAttrsMD5)
	}
	if m.Attributes["ApproximateReceiveCount"] != "1" {
		t.Errorf("ApproximateReceiveCount = %q, want 1", m.Attributes["ApproximateReceiveCount"])
	}
	for _, k := range []string{"SentTimestamp", "ApproximateFirstReceiveTimestamp"} {
		ms, err := strconv.ParseInt(m.Attributes[k], 10, 64)
		if err != nil || ms < before-5000 || ms > time.Now().UnixMilli() {
			t.Errorf("%s = %q, want a recent time in ms", k, m.Attributes[k])
		}
	}
	// Only the named attribute, and an MD5 over what was returned.
	if _, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0}); err != nil {
		t.Fatal(err)
	}
	again := receive(t, c, url, sqs.ReceiveMessageInput{MessageAttributeNames: []string{"source"}})
	if len(again) != 1 || len(again[0].MessageAttributes) != 1 || again[0].MessageAttributes["source"].StringValue == nil {
		t.Fatalf("receive with MessageAttributeNames [source] = %+v", again)
	}
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: again[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"},
		queueAttrs(t, c, url, "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")); diff != "" {
		t.Errorf("after delete (-want +got):\n%s", diff)
	}
}

func TestVisibilityTimeoutExpires(t *testing.T) {
	_, c := start(t, "")
	url := createQueue(t, c, "vis", map[string]string{"VisibilityTimeout": "1"})
	if _, err := c.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("x")}); err != nil {
		t.Fatal(err)
	}
	first := receive(t, c, url, sqs.ReceiveMessageInput{})
	if len(first) != 1 {
		t.Fatalf("first receive: %d messages", len(first))
	}
	if got := receive(t, c, url, sqs.ReceiveMessageInput{}); len(got) != 0 {
		t.Fatalf("while in flight: %d messages, want 0", len(got))
	}
	if diff := cmp.Diff(map[string]string{"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "1"},
		queueAttrs(t, c, url, "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")); diff != "" {
		t.Errorf("in flight (-want +got):\n%s", diff)
	}
	// A long poll returns when the timeout lapses, well before its 5 s.
	start := time.Now()
	second := receive(t, c, url, sqs.ReceiveMessageInput{WaitTimeSeconds: 5, MessageSystemAttributeNames: []types.MessageSystemAttributeName{"All"}})
	if len(second) != 1 || second[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("after the timeout: %+v, want the message with receive count 2", second)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("long poll took %s, want about 1 s", took)
	}
	// The first receipt handle is stale: deleting with it succeeds but keeps
	// the message (as SQS documents); changing visibility with it fails.
	if _, err := c.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: first[0].ReceiptHandle}); err != nil {
		t.Errorf("DeleteMessage(stale handle) = %v, want success", err)
	}
	var notInflight *types.MessageNotInflight
	_, err := c.ChangeMessageVisibility(context.Background(), &sqs.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: first[0].ReceiptHandle, VisibilityTimeout: 10})
	if !errors.As(err, &notInflight) {
		t.Errorf("ChangeMessageVisibility(stale handle) = %v, want MessageNotInflight", err)
	}
	if got := queueAttrs(t, c, url, "ApproximateNumberOfMessagesNotVisible"); got["ApproximateNumberOfMessagesNotVisible"] != "1" {
		t.Errorf("stale delete removed the message: %v", got)
	}
}

func TestLongPollWakesOnSend(t *testing.T) {
	_, c := start(t, "")
	url := createQueue(t, c, "poll", nil)
	done := make(chan []types.Message, 1)
	began := time.Now()
	go func() {
		out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &url, WaitTimeSeconds: 10})
		if err != nil {
			t.Error(err)
		}
		done <- out.Messages
	}()
	time.Sleep(300 * time.Millisecond)
	if _, err := c.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("wake")}); err != nil {
		t.Fatal(err)
	}
	select {
	case msgs := <-done:
		if len(msgs) != 1 || aws.ToString(msgs[0].Body) != "wake" {
			t.Errorf("long poll got %+v, want the sent message", msgs)
		}
		if took := time.Since(began); took > 3*time.Second {
			t.Errorf("long poll returned after %s, want soon after the send", took)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("long poll did not wake on send")
	}
	// With nothing sent, it waits the whole WaitTimeSeconds.
	began = time.Now()
	if got := receive(t, c, url, sqs.ReceiveMessageInput{WaitTimeSeconds: 1}); len(got) != 0 {
		t.Errorf("empty poll got %d messages", len(got))
	}
	if took := time.Since(began); took < 900*time.Millisecond {
		t.Errorf("empty long poll returned after %s, want about 1 s", took)
	}
}

func TestRedriveAfterMaxReceiveCount(t *testing.T) {
	_, c := start(t, "")
	ctx := context.Background()
	dlq := createQueue(t, c, "dlq", nil)
	dlqARN := queueAttrs(t, c, dlq, types.QueueAttributeNameQueueArn)["QueueArn"]
	src := createQueue(t, c, "src", map[string]string{
		"RedrivePolicy": fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"2"}`, dlqARN),
	})
	if got := queueAttrs(t, c, src, "RedrivePolicy")["RedrivePolicy"]; got != fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":2}`, dlqARN) {
		t.Errorf("RedrivePolicy = %s", got)
	}
	sent, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &src, MessageBody: aws.String("poison"),
		MessageAttributes: map[string]types.MessageAttributeValue{"kind": {DataType: aws.String("String"), StringValue: aws.String("invalid")}}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		got := receive(t, c, src, sqs.ReceiveMessageInput{VisibilityTimeout: 1, MessageSystemAttributeNames: []types.MessageSystemAttributeName{"ApproximateReceiveCount"}})
		if len(got) != 1 || got[0].Attributes["ApproximateReceiveCount"] != strconv.Itoa(i) {
			t.Fatalf("receive %d: %+v", i, got)
		}
		time.Sleep(1100 * time.Millisecond)
	}
	// The third receive moves it instead of delivering it.
	if got := receive(t, c, src, sqs.ReceiveMessageInput{}); len(got) != 0 {
		t.Fatalf("third receive delivered %d messages, want 0", len(got))
	}
	dead := receive(t, c, dlq, sqs.ReceiveMessageInput{MessageAttributeNames: []string{"All"}, MessageSystemAttributeNames: []types.MessageSystemAttributeName{"All"}})
	if len(dead) != 1 {
		t.Fatalf("dead-letter queue holds %d messages, want 1", len(dead))
	}
	d := dead[0]
	got := []string{aws.ToString(d.MessageId), aws.ToString(d.Body), aws.ToString(d.MessageAttributes["kind"].StringValue), d.Attributes["ApproximateReceiveCount"], d.Attributes["DeadLetterQueueSourceArn"]}
	want := []string{aws.ToString(sent.MessageId), "poison", "invalid", "1", "arn:aws:sqs:us-east-1:000000000000:src"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("dead letter (-want +got):\n%s", diff)
	}
}

func TestBatches(t *testing.T) {
	_, c := start(t, "")
	ctx := context.Background()
	url := createQueue(t, c, "batch", nil)
	out, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("ok1"), MessageBody: aws.String("one")},
		{Id: aws.String("bad-delay"), MessageBody: aws.String("two"), DelaySeconds: 901},
		{Id: aws.String("bad-chars"), MessageBody: aws.String("three\x01")},
		{Id: aws.String("ok2"), MessageBody: aws.String("four"), MessageAttributes: map[string]types.MessageAttributeValue{
			"n": {DataType: aws.String("Number"), StringValue: aws.String("1.5e3")}}},
		{Id: aws.String("bad-number"), MessageBody: aws.String("five"), MessageAttributes: map[string]types.MessageAttributeValue{
			"n": {DataType: aws.String("Number"), StringValue: aws.String("twelve")}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var okIDs []string
	for _, s := range out.Successful {
		okIDs = append(okIDs, aws.ToString(s.Id))
	}
	failed := map[string]string{}
	for _, f := range out.Failed {
		if !f.SenderFault {
			t.Errorf("entry %s: SenderFault false", aws.ToString(f.Id))
		}
		failed[aws.ToString(f.Id)] = aws.ToString(f.Code)
	}
	if diff := cmp.Diff([]string{"ok1", "ok2"}, okIDs); diff != "" {
		t.Errorf("Successful (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"bad-delay": "InvalidParameterValue", "bad-chars": "InvalidMessageContents", "bad-number": "InvalidParameterValue"}, failed); diff != "" {
		t.Errorf("Failed (-want +got):\n%s", diff)
	}
	msgs := receive(t, c, url, sqs.ReceiveMessageInput{MaxNumberOfMessages: 10})
	if len(msgs) != 2 {
		t.Fatalf("received %d, want 2", len(msgs))
	}
	del, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &url, Entries: []types.DeleteMessageBatchRequestEntry{
		{Id: aws.String("a"), ReceiptHandle: msgs[0].ReceiptHandle},
		{Id: aws.String("b"), ReceiptHandle: aws.String("not-a-handle")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(del.Successful) != 1 || len(del.Failed) != 1 || aws.ToString(del.Failed[0].Code) != "ReceiptHandleIsInvalid" {
		t.Errorf("DeleteMessageBatch = %+v / %+v", del.Successful, del.Failed)
	}
	vis, err := c.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: &url, Entries: []types.ChangeMessageVisibilityBatchRequestEntry{
		{Id: aws.String("a"), ReceiptHandle: msgs[1].ReceiptHandle, VisibilityTimeout: 0},
		{Id: aws.String("b"), ReceiptHandle: msgs[0].ReceiptHandle, VisibilityTimeout: 0},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(vis.Successful) != 1 || len(vis.Failed) != 1 || aws.ToString(vis.Failed[0].Id) != "b" {
		t.Errorf("ChangeMessageVisibilityBatch = %+v / %+v", vis.Successful, vis.Failed)
	}
	if got := receive(t, c, url, sqs.ReceiveMessageInput{}); len(got) != 1 || aws.ToString(got[0].MessageId) != aws.ToString(msgs[1].MessageId) {
		t.Errorf("after visibility 0: %+v, want the second message back", got)
	}
}

func TestFIFO(t *testing.T) {
	_, c := start(t, "")
	ctx := context.Background()
	url := createQueue(t, c, "events.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"})
	send := func(group, body string) *sqs.SendMessageOutput {
		t.Helper()
		out, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(body), MessageGroupId: aws.String(group)})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	a1 := send("a", "a1")
	send("a", "a2")
	send("b", "b1")
	if dup := send("a", "a1"); aws.ToString(dup.MessageId) != aws.ToString(a1.MessageId) {
		t.Errorf("duplicate send got id %s, want the first %s", aws.ToString(dup.MessageId), aws.ToString(a1.MessageId))
	}
	bodies := func(ms []types.Message) []string {
		var out []string
		for _, m := range ms {
			out = append(out, aws.ToString(m.Body))
		}
		return out
	}
	first := receive(t, c, url, sqs.ReceiveMessageInput{MaxNumberOfMessages: 1})
	if diff := cmp.Diff([]string{"a1"}, bodies(first)); diff != "" {
		t.Errorf("first receive (-want +got):\n%s", diff)
	}
	// Group a is blocked while a1 is in flight; b is not.
	if diff := cmp.Diff([]string{"b1"}, bodies(receive(t, c, url, sqs.ReceiveMessageInput{MaxNumberOfMessages: 10}))); diff != "" {
		t.Errorf("second receive (-want +got):\n%s", diff)
	}
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: first[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a2"}, bodies(receive(t, c, url, sqs.ReceiveMessageInput{MaxNumberOfMessages: 10}))); diff != "" {
		t.Errorf("after deleting a1 (-want +got):\n%s", diff)
	}
}

// apiCode returns the code aws-sdk-go-v2 reports for err (the
// x-amzn-query-error code when the server sent one).
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestErrorCodes(t *testing.T) {
	_, c := start(t, "")
	ctx := context.Background()
	url := createQueue(t, c, "errs", nil)
	fifo := createQueue(t, c, "errs.fifo", map[string]string{"FifoQueue": "true"})
	gone := strings.Replace(url, "/errs", "/nope", 1)
	entries := func(n int) []types.SendMessageBatchRequestEntry {
		var e []types.SendMessageBatchRequestEntry
		for i := range n {
			e = append(e, types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint("e", i)), MessageBody: aws.String("x")})
		}
		return e
	}
	big := strings.Repeat("x", 100_000)
	tests := []struct {
		name string
		call func() error
		code string
		as   any // a pointer to the modelled error type, when there is one
	}{
		{"queue does not exist", func() error {
			_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &gone, MessageBody: aws.String("x")})
			return err
		}, "AWS.SimpleQueueService.NonExistentQueue", new(*types.QueueDoesNotExist)},
		{"invalid address", func() error {
			_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String("not a url"), MessageBody: aws.String("x")})
			return err
		}, "InvalidAddress", new(*types.InvalidAddress)},
		{"queue name exists", func() error {
			_, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("errs"), Attributes: map[string]string{"DelaySeconds": "3"}})
			return err
		}, "QueueAlreadyExists", new(*types.QueueNameExists)},
		{"bad queue name", func() error {
			_, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("has space")})
			return err
		}, "InvalidParameterValue", nil},
		{"fifo name without FifoQueue", func() error {
			_, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("x.fifo")})
			return err
		}, "InvalidParameterValue", nil},
		{"unknown attribute", func() error {
			_, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("y"), Attributes: map[string]string{"Colour": "blue"}})
			return err
		}, "InvalidAttributeName", new(*types.InvalidAttributeName)},
		{"attribute out of range", func() error {
			_, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("y"), Attributes: map[string]string{"VisibilityTimeout": "43201"}})
			return err
		}, "InvalidAttributeValue", new(*types.InvalidAttributeValue)},
		{"redrive to a missing queue", func() error {
			_, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("y"), Attributes: map[string]string{
				"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:none","maxReceiveCount":3}`}})
			return err
		}, "InvalidParameterValue", nil},
		{"missing body", func() error {
			_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("")})
			return err
		}, "MissingParameter", nil},
		{"invalid characters", func() error {
			_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("\uffff")})
			return err
		}, "InvalidMessageContents", new(*types.InvalidMessageContents)},
		{"message too large", func() error {
			_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(strings.Repeat("x", 262145))})
			return err
		}, "InvalidParameterValue", nil},
		{"fifo without group", func() error {
			_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &fifo, MessageBody: aws.String("x"), MessageDeduplicationId: aws.String("d")})
			return err
		}, "MissingParameter", nil},
		{"fifo without dedup id", func() error {
			_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &fifo, MessageBody: aws.String("x"), MessageGroupId: aws.String("g")})
			return err
		}, "InvalidParameterValue", nil},
		{"max messages 11", func() error {
			_, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 11})
			return err
		}, "InvalidParameterValue", nil},
		{"wait 21 s", func() error {
			_, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, WaitTimeSeconds: 21})
			return err
		}, "InvalidParameterValue", nil},
		{"bad receipt handle", func() error {
			_, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: aws.String("garbage!")})
			return err
		}, "ReceiptHandleIsInvalid", new(*types.ReceiptHandleIsInvalid)},
		{"empty batch", func() error {
			_, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: []types.SendMessageBatchRequestEntry{}})
			return err
		}, "AWS.SimpleQueueService.EmptyBatchRequest", new(*types.EmptyBatchRequest)},
		{"11 entries", func() error {
			_, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: entries(11)})
			return err
		}, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", new(*types.TooManyEntriesInBatchRequest)},
		{"repeated ids", func() error {
			e := entries(2)
			e[1].Id = e[0].Id
			_, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: e})
			return err
		}, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", new(*types.BatchEntryIdsNotDistinct)},
		{"bad entry id", func() error {
			e := entries(1)
			e[0].Id = aws.String("no spaces")
			_, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: e})
			return err
		}, "AWS.SimpleQueueService.InvalidBatchEntryId", new(*types.InvalidBatchEntryId)},
		{"batch over 256 KiB", func() error {
			e := entries(3)
			for i := range e {
				e[i].MessageBody = &big
			}
			_, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: e})
			return err
		}, "AWS.SimpleQueueService.BatchRequestTooLong", new(*types.BatchRequestTooLong)},
		{"purge twice within 60 s", func() error {
			if _, err := c.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: &url}); err != nil {
				return err
			}
			_, err := c.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: &url})
			return err
		}, "AWS.SimpleQueueService.PurgeQueueInProgress", new(*types.PurgeQueueInProgress)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if got := apiCode(err); got != tt.code {
				t.Fatalf("error code = %q (%v), want %q", got, err, tt.code)
			}
			if tt.as != nil && !errors.As(err, tt.as) {
				t.Errorf("error %v is not a %T", err, tt.as)
			}
		})
	}
}

func TestPersistence(t *testing.T) {
	dir := t.TempDir()
	srv, c := start(t, dir)
	url := createQueue(t, c, "keep", nil)
	if _, err := c.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("survives")}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, c2 := start(t, dir)
	url2, err := c2.GetQueueUrl(context.Background(), &sqs.GetQueueUrlInput{QueueName: aws.String("keep")})
	if err != nil {
		t.Fatal(err)
	}
	got := receive(t, c2, aws.ToString(url2.QueueUrl), sqs.ReceiveMessageInput{})
	if len(got) != 1 || aws.ToString(got[0].Body) != "survives" {
		t.Errorf("after restart: %+v, want the message", got)
	}
}

func TestStartRefusesNonLoopback(t *testing.T) {
	srv, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"0.0.0.0:0", ":0", "localhost:0"} {
		if _, err := srv.Start(addr); err == nil {
			t.Errorf("Start(%q) = nil, want an error", addr)
		}
	}
}

func TestConcurrentSendersAndReceivers(t *testing.T) {
	_, c := start(t, "")
	url := createQueue(t, c, "busy", nil)
	const senders, each = 8, 25
	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := c.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(fmt.Sprint(s, "-", i))}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	seen := map[string]int{}
	var mu sync.Mutex
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, VisibilityTimeout: 60})
				if err != nil {
					t.Error(err)
					return
				}
				if len(out.Messages) == 0 {
					return
				}
				mu.Lock()
				for _, m := range out.Messages {
					seen[aws.ToString(m.Body)]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != senders*each {
		t.Errorf("received %d distinct messages, want %d", len(seen), senders*each)
	}
	for body, n := range seen {
		if n != 1 {
			t.Errorf("%s received %d times within its visibility timeout", body, n)
		}
	}
}

// A FIFO receive retried with its ReceiveRequestAttemptId (its answer
// lost) gets the same messages and receipt handles, not an empty answer
// that leaves them in flight; once one of them changes, the attempt can no
// longer be retried.
func TestFIFOReceiveRequestAttemptId(t *testing.T) {
	_, c := start(t, "")
	ctx := context.Background()
	url := createQueue(t, c, "retry.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"})
	for _, g := range []string{"a", "b", "c"} {
		if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(g + "1"), MessageGroupId: aws.String(g)}); err != nil {
			t.Fatal(err)
		}
	}
	handles := func(ms []types.Message) []string {
		var out []string
		for _, m := range ms {
			out = append(out, aws.ToString(m.Body)+" "+aws.ToString(m.ReceiptHandle))
		}
		return out
	}
	in := sqs.ReceiveMessageInput{MaxNumberOfMessages: 2, ReceiveRequestAttemptId: aws.String("attempt-1")}
	first := receive(t, c, url, in)
	again := receive(t, c, url, in)
	if len(first) != 2 {
		t.Fatalf("first receive got %d messages, want 2", len(first))
	}
	if diff := cmp.Diff(handles(first), handles(again)); diff != "" {
		t.Errorf("retried receive (-first +retry):\n%s", diff)
	}
	// Another attempt id is another receive: only c1 is left.
	other := receive(t, c, url, sqs.ReceiveMessageInput{MaxNumberOfMessages: 10, ReceiveRequestAttemptId: aws.String("attempt-2")})
	if len(other) != 1 || aws.ToString(other[0].Body) != "c1" {
		t.Errorf("a new attempt got %v, want c1", handles(other))
	}
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: first[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	_, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 2, ReceiveRequestAttemptId: aws.String("attempt-1")})
	if apiCode(err) != "InvalidParameterValue" {
		t.Errorf("retry after a delete: %v, want InvalidParameterValue", err)
	}
}
