package outbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/recoup-dev/recoup/shared/sender"
)

// apiError is an error answer in a service's own shape. REST-JSON services
// (SES v2, Connect) name the code in the x-amzn-ErrorType header and put
// the message in the body; AWS JSON 1.0 (SMS) puts the Smithy shape id in
// __type. The SDKs read either.
type apiError struct {
	status  int
	code    string
	message string
	// extra members of the error shape (ValidationException Reason and
	// Fields, ConflictException Reason and ResourceType).
	extra map[string]any
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

// namespaces are the Smithy namespaces of the services' error shapes.
var namespaces = map[Service]string{
	ServiceSES: "com.amazonaws.sesv2", ServiceSMS: "com.amazonaws.pinpointsmsvoicev2", ServiceConnect: "com.amazonaws.connect",
}

func (e *apiError) write(w http.ResponseWriter, p protocol, svc Service) {
	body := map[string]any{}
	for k, v := range e.extra {
		body[k] = v
	}
	body["message"] = e.message
	if p == awsJSON {
		ns := namespaces[svc]
		if ns == "" || strings.Contains(e.code, "#") {
			body["__type"] = e.code
		} else {
			body["__type"] = ns + "#" + e.code
		}
	} else if svc == ServiceConnect {
		// Connect's errors spell the member Message.
		delete(body, "message")
		body["Message"] = e.message
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", p.contentType())
	w.Header().Set("X-Amzn-ErrorType", e.code)
	w.Header().Set("X-Amzn-RequestId", newUUID())
	w.WriteHeader(e.status)
	w.Write(b)
}

func errSerialization(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "SerializationException", message: fmt.Sprintf(format, args...)}
}

func errUnknownOperation(target string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "UnknownOperationException",
		message: fmt.Sprintf("unknown operation %q: this outbox serves PinpointSMSVoiceV2.SendTextMessage only", target)}
}

// errThrottle is each service's throttling answer for a send.
func errThrottle(svc Service) *apiError {
	switch svc {
	case ServiceSES:
		return &apiError{status: http.StatusTooManyRequests, code: "TooManyRequestsException", message: "Maximum sending rate exceeded."}
	case ServiceConnect:
		return &apiError{status: http.StatusTooManyRequests, code: "LimitExceededException", message: "The allowed limit for the resource has been exceeded."}
	}
	return &apiError{status: http.StatusBadRequest, code: "ThrottlingException", message: "Rate exceeded."}
}

// errInternal is each service's internal failure.
func errInternal(svc Service) *apiError {
	switch svc {
	case ServiceSES:
		return &apiError{status: http.StatusInternalServerError, code: "InternalServiceErrorException", message: "The request couldn't be processed because an error occurred with the Amazon SES API v2."}
	case ServiceConnect:
		return &apiError{status: http.StatusInternalServerError, code: "InternalServiceException", message: "Request processing failed because of an error or failure with the service."}
	}
	return &apiError{status: http.StatusInternalServerError, code: "InternalServerException", message: "The API encountered an unexpected error and couldn't complete the request."}
}

var (
	credentialScope = regexp.MustCompile(`^[^/]+/(\d{8})/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request$`)
	hexSignature    = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// checkAuth checks that a request is SigV4-signed for svc: the shape of the
// Authorization header, the signing name and region in its credential scope,
// the signed headers and X-Amz-Date. The signature itself is not verified:
// local credentials are dummies.
func checkAuth(h http.Header, svc Service, region string) *apiError {
	denied := func(code, format string, args ...any) *apiError {
		return &apiError{status: http.StatusForbidden, code: code, message: fmt.Sprintf(format, args...)}
	}
	a := h.Get("Authorization")
	if a == "" {
		return denied("MissingAuthenticationTokenException", "Missing Authentication Token")
	}
	rest, ok := strings.CutPrefix(a, "AWS4-HMAC-SHA256 ")
	if !ok {
		return denied("IncompleteSignatureException", "Authorization header must start with AWS4-HMAC-SHA256")
	}
	fields := map[string]string{}
	for part := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return denied("IncompleteSignatureException", "Authorization header element %q is not key=value", strings.TrimSpace(part))
		}
		fields[k] = v
	}
	m := credentialScope.FindStringSubmatch(fields["Credential"])
	switch {
	case m == nil:
		return denied("IncompleteSignatureException", "Credential must be <key>/<yyyymmdd>/<region>/<service>/aws4_request")
	case m[3] != string(svc):
		return denied("InvalidSignatureException", "Credential should be scoped to correct service: '%s'.", svc)
	case region != "" && m[2] != region:
		return denied("InvalidSignatureException", "Credential should be scoped to a valid region: '%s'.", region)
	case !hexSignature.MatchString(fields["Signature"]):
		return denied("IncompleteSignatureException", "Signature must be 64 hexadecimal digits")
	}
	signed := map[string]bool{}
	for name := range strings.SplitSeq(fields["SignedHeaders"], ";") {
		signed[name] = true
	}
	if !signed["host"] || !signed["x-amz-date"] {
		return denied("IncompleteSignatureException", "SignedHeaders must include host and x-amz-date")
	}
	d, err := time.Parse("20060102T150405Z", h.Get("X-Amz-Date"))
	if err != nil {
		return denied("IncompleteSignatureException", "X-Amz-Date must be yyyymmddThhmmssZ")
	}
	if d.Format("20060102") != m[1] {
		return denied("InvalidSignatureException", "Date in Credential scope does not match X-Amz-Date")
	}
	return nil
}

func mask(s string) string {
	if s == "" {
		return ""
	}
	return sender.MaskAddress(s)
}
