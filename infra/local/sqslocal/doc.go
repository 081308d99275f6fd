// Package sqslocal is a small Amazon SQS emulator for the local stack. It
// speaks the AWS JSON 1.0 protocol that aws-sdk-go-v2's SQS client uses
// (POST /, X-Amz-Target: AmazonSQS.<Operation>, Content-Type:
// application/x-amz-json-1.0), with SQS's error shapes (__type
// com.amazonaws.sqs#<Shape> and the x-amzn-query-error header), MD5 digests,
// visibility timeouts, long polling, redrive to dead-letter queues and FIFO
// queues. State lives in memory and, with a data directory, is written to
// disk on Close and read back by New, so dead letters survive a restart.
//
// It exists because no emulator installable here speaks this protocol:
// sqslite, elasticmq (npm) and goaws speak only the query/XML protocol.
// Differences from SQS are listed in infra/local/README.md.
package sqslocal
