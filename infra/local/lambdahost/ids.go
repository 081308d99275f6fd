package lambdahost

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// accountID is the fake account every local ARN uses; it matches what
// LocalStack and the AWS docs use, so ARNs look familiar in logs.
const accountID = "000000000000"

// newRequestID returns a random version 4 UUID, the shape of a Lambda
// request ID.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// newTraceID returns an X-Ray trace header value in the format Lambda
// passes as Lambda-Runtime-Trace-Id (not sampled: there is no local X-Ray).
func newTraceID() string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0",
		time.Now().Unix(), hex.EncodeToString(b[:12]), hex.EncodeToString(b[12:20]))
}

// FunctionARN returns the unqualified ARN of a local function.
func FunctionARN(region, name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", region, accountID, name)
}

// StreamARN returns the ARN of a local Kinesis stream, as put in
// eventSourceARN.
func StreamARN(region, stream string) string {
	return fmt.Sprintf("arn:aws:kinesis:%s:%s:stream/%s", region, accountID, stream)
}
