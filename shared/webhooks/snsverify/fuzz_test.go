package snsverify_test

import (
	"context"
	"os"
	"testing"

	"github.com/recoup-dev/recoup/shared/webhooks/snsverify"
	"github.com/recoup-dev/recoup/shared/webhooks/snsverify/snstest"
)

// FuzzParse: Parse never panics, refuses only with ReasonMalformed, and
// whatever it accepts has the fields its type signs; and no fuzzed body
// verifies (it was never signed by the test CA).
func FuzzParse(f *testing.F) {
	for _, file := range []string{"testdata/notification.json", "testdata/subscription-confirmation.json"} {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"Type":"Notification","MessageId":"1","TopicArn":"` + topic + `","Timestamp":"t","Message":"","SignatureVersion":"2","Signature":"AAAA","SigningCertURL":"` + snstest.CertURL + `"}`))
	f.Add([]byte(`{"Type":"UnsubscribeConfirmation","MessageId":"1","TopicArn":"a","Timestamp":"t","Message":"m","Token":"x","SubscribeURL":"u","Type":"Notification"}`))
	s := snstest.NewSigner(f)
	v, err := snsverify.NewVerifier(s.Fetcher, snsverify.Options{Roots: s.Roots})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := snsverify.Parse(body)
		if err != nil {
			if r := snsverify.ReasonOf(err); r != snsverify.ReasonMalformed {
				t.Fatalf("Parse refused with reason %q, want malformed", r)
			}
			return
		}
		if m.Type == "" || m.MessageID == "" || m.TopicArn == "" || m.Timestamp == "" {
			t.Fatalf("accepted a message without a signed field: %+v", m)
		}
		if again, err := snsverify.Parse(body); err != nil || again.StringToSign() != m.StringToSign() {
			t.Fatal("parsing the same body twice gave another string to sign")
		}
		if err := v.Verify(context.Background(), m, []string{m.TopicArn}); err == nil {
			t.Fatalf("an unsigned fuzz input verified: %q", body)
		}
	})
}
