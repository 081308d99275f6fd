package sqslocal

import "fmt"

// apiError is an error SQS reports to the caller. Over AWS JSON 1.0 the body
// carries the Smithy shape in __type and the x-amzn-query-error header carries
// the code the old query protocol used, which aws-sdk-go-v2 (sending
// X-Amzn-Query-Mode: true) reports as the error code.
type apiError struct {
	shape     string // __type, e.g. com.amazonaws.sqs#QueueDoesNotExist
	queryCode string // x-amzn-query-error code, e.g. AWS.SimpleQueueService.NonExistentQueue
	status    int
	sender    bool // Sender (client) or Receiver (server) fault
	message   string
}

func (e *apiError) Error() string { return e.queryCode + ": " + e.message }

// Code is the error code a batch result entry carries (the query code, as SQS
// puts it in BatchResultErrorEntry.Code).
func (e *apiError) Code() string { return e.queryCode }

// Modelled errors: their shapes and query codes come from the SQS Smithy
// model (aws-sdk-go-v2 service/sqs schemas, the awsQueryError traits).
func newModelled(shape, queryCode, format string, args ...any) *apiError {
	return &apiError{
		shape: "com.amazonaws.sqs#" + shape, queryCode: queryCode, status: 400, sender: true,
		message: fmt.Sprintf(format, args...),
	}
}

func errQueueDoesNotExist() *apiError {
	return newModelled("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.")
}

func errQueueNameExists(attr string) *apiError {
	return newModelled("QueueNameExists", "QueueAlreadyExists",
		"A queue already exists with the same name and a different value for attribute %s", attr)
}

func errInvalidAddress(url string) *apiError {
	return newModelled("InvalidAddress", "InvalidAddress", "The address %s is not valid for this endpoint.", url)
}

func errReceiptHandleIsInvalid(h string) *apiError {
	return newModelled("ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid",
		"The input receipt handle %q is not a valid receipt handle.", h)
}

func errMessageNotInflight() *apiError {
	return newModelled("MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight", "The message referred to isn't in flight.")
}

func errTooManyEntries(n int) *apiError {
	return newModelled("TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
		"Maximum number of entries per request are 10. You have sent %d.", n)
}

func errEmptyBatch() *apiError {
	return newModelled("EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest",
		"There should be at least one SendMessageBatchRequestEntry in the request.")
}

func errIDsNotDistinct(id string) *apiError {
	return newModelled("BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
		"Id %s repeated.", id)
}

func errInvalidBatchEntryID(id string) *apiError {
	return newModelled("InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId",
		"A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long. Got %q.", id)
}

func errBatchTooLong(n, limit int) *apiError {
	return newModelled("BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong",
		"Batch requests cannot be longer than %d bytes. You have sent %d bytes.", limit, n)
}

func errInvalidAttributeName(name string) *apiError {
	return newModelled("InvalidAttributeName", "InvalidAttributeName", "Unknown Attribute %s.", name)
}

func errInvalidAttributeValue(format string, args ...any) *apiError {
	return newModelled("InvalidAttributeValue", "InvalidAttributeValue", format, args...)
}

func errInvalidMessageContents() *apiError {
	return newModelled("InvalidMessageContents", "InvalidMessageContents",
		"Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF")
}

func errPurgeInProgress(name string) *apiError {
	return newModelled("PurgeQueueInProgress", "AWS.SimpleQueueService.PurgeQueueInProgress",
		"Only one PurgeQueue operation on %s is allowed every 60 seconds.", name)
}

// InvalidParameterValue and MissingParameter are common SQS errors with no
// shape of their own in the model; the query code is what callers test.
func errInvalidParameterValue(format string, args ...any) *apiError {
	return newModelled("InvalidParameterValue", "InvalidParameterValue", format, args...)
}

func errMissingParameter(name string) *apiError {
	return newModelled("MissingParameter", "MissingParameter", "The request must contain the parameter %s.", name)
}

// Protocol-level errors come from the service framework (coral), not SQS.
func errSerialization(format string, args ...any) *apiError {
	return &apiError{shape: "com.amazon.coral.service#SerializationException", status: 400, sender: true,
		message: fmt.Sprintf(format, args...)}
}

func errUnknownOperation(target string) *apiError {
	return &apiError{shape: "com.amazon.coral.service#UnknownOperationException", status: 400, sender: true,
		message: fmt.Sprintf("Unknown operation %q: this server speaks AWS JSON 1.0 (X-Amz-Target: AmazonSQS.<Operation>, Content-Type: application/x-amz-json-1.0) only", target)}
}

func errInternal(err error) *apiError {
	return &apiError{shape: "com.amazonaws.sqs#InternalError", queryCode: "InternalError", status: 500,
		message: err.Error()}
}
