package outbox

import (
	"net/http"
	"strings"
	"testing"
)

// The request decoders must refuse anything malformed with an error answer
// and never panic; what they accept satisfies the checks each one makes.

func FuzzDecodeSendEmail(f *testing.F) {
	f.Add([]byte(goodEmail))
	f.Add([]byte(`{"Destination":{"ToAddresses":[]},"Content":{"Raw":{}}}`))
	f.Add([]byte(`{"FromEmailAddress":"a@b","Destination":{"BccAddresses":["x@y"]},"Content":{"Simple":{"Subject":{"Data":""},"Body":{"Html":{"Data":""}}}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		in, e := decodeSendEmail(b)
		if e != nil {
			if e.status < 400 || e.status > 499 || e.code == "" {
				t.Fatalf("refusal %+v is not a client error", e)
			}
			return
		}
		d := in.Destination
		if n := len(d.ToAddresses) + len(d.CcAddresses) + len(d.BccAddresses); n < 1 || n > 50 {
			t.Fatalf("accepted %d recipients", n)
		}
		if in.Content.Simple.Subject.Data == nil || (text(in.Content.Simple.Body.Text) == nil && text(in.Content.Simple.Body.Html) == nil) {
			t.Fatal("accepted a message without subject or body")
		}
	})
}

func FuzzDecodeSendText(f *testing.F) {
	f.Add([]byte(goodText))
	f.Add([]byte(`{"DestinationPhoneNumber":"+1","MessageBody":"x","Context":{"":""}}`))
	f.Add([]byte(`{"DestinationPhoneNumber":"+16175550142","MessageBody":"x","TimeToLive":1e99}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		in, e := decodeSendText(b)
		if e != nil {
			if e.status != 400 || e.code == "" {
				t.Fatalf("refusal %+v is not a 400", e)
			}
			return
		}
		if !e164.MatchString(*in.DestinationPhoneNumber) || *in.MessageBody == "" || len(in.Context) > 5 {
			t.Fatalf("accepted %+v", in)
		}
	})
}

func FuzzDecodeStart(f *testing.F) {
	f.Add([]byte(goodCall))
	f.Add([]byte(`{"InstanceId":"i","ContactFlowId":"f","DestinationPhoneNumber":"+16175550142","QueueId":"q","RingTimeoutInSeconds":14}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		in, e := decodeStart(b)
		if e != nil {
			if e.status != 400 || e.code == "" {
				t.Fatalf("refusal %+v is not a 400", e)
			}
			return
		}
		if in.InstanceId == "" || in.ContactFlowId == "" || !e164.MatchString(in.DestinationPhoneNumber) ||
			(in.SourcePhoneNumber == "" && in.QueueId == "") {
			t.Fatalf("accepted %+v", in)
		}
	})
}

func FuzzDecodeTag(f *testing.F) {
	f.Add([]byte(`{"InstanceId":"i1","ContactId":"c","Tags":{"recoup_tenant":"acme"}}`))
	f.Add([]byte(`{"InstanceId":"i1","ContactId":"c","Tags":{"aws:x":"y"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		in, e := decodeTag(b)
		if e != nil {
			return
		}
		for k := range in.Tags {
			if strings.HasPrefix(k, "aws:") || k == "" {
				t.Fatalf("accepted tag key %q", k)
			}
		}
	})
}

func FuzzCheckAuth(f *testing.F) {
	f.Add(auth("ses"), "20260504T150405Z", "ses")
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/e", "x", "connect")
	f.Add("AWS4-HMAC-SHA256 ,,,=", "", "sms-voice")
	f.Fuzz(func(t *testing.T, authorization, date, svc string) {
		h := http.Header{}
		h.Set("Authorization", authorization)
		h.Set("X-Amz-Date", date)
		if e := checkAuth(h, Service(svc), "us-east-1"); e != nil {
			if e.status != 403 {
				t.Fatalf("refusal %+v is not a 403", e)
			}
			return
		}
		if !strings.Contains(authorization, "/us-east-1/"+svc+"/aws4_request") {
			t.Fatalf("accepted %q for %s", authorization, svc)
		}
	})
}
