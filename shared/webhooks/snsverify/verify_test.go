package snsverify_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/shared/webhooks/snsverify"
	"github.com/recoup-dev/recoup/shared/webhooks/snsverify/snstest"
)

const topic = "arn:aws:sns:us-east-1:123456789012:recoup-ses"

func notification() snsverify.Message {
	return snsverify.Message{Type: snsverify.TypeNotification, MessageID: "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
		TopicArn: topic, Subject: "Amazon SES Email Event Notification", Message: `{"eventType":"Delivery"}`,
		Timestamp:      "2026-04-14T15:04:05.123Z",
		UnsubscribeURL: "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" + topic + ":c9135db0"}
}

func confirmation(typ string) snsverify.Message {
	return snsverify.Message{Type: typ, MessageID: "165545c9-2a5c-472c-8df2-7ff2be2b3b1b", Token: "2336412f37fb687f",
		TopicArn: topic, Message: "You have chosen to subscribe to the topic " + topic + ".",
		SubscribeURL: "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=" + topic + "&Token=2336412f37fb687f",
		Timestamp:    "2026-04-14T15:00:00.000Z"}
}

func TestParseDocumentedExamples(t *testing.T) {
	tests := []struct {
		file string
		want snsverify.Message
	}{
		{"testdata/notification.json", snsverify.Message{Type: "Notification", MessageID: "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
			TopicArn: "arn:aws:sns:us-west-2:123456789012:MyTopic", Subject: "My First Message", Message: "Hello world!",
			Timestamp: "2012-05-02T00:54:06.655Z", SignatureVersion: "1",
			SigningCertURL: "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
			UnsubscribeURL: "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-west-2:123456789012:MyTopic:c9135db0-26c4-47ec-8998-413945fb5a96"}},
	}
	for _, tt := range tests {
		b, err := os.ReadFile(tt.file)
		if err != nil {
			t.Fatal(err)
		}
		got, err := snsverify.Parse(b)
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		got.Signature = ""
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.file, diff)
		}
	}
	b, err := os.ReadFile("testdata/subscription-confirmation.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := snsverify.Parse(b)
	if err != nil || m.Type != snsverify.TypeSubscriptionConfirmation || m.Token == "" || m.SubscribeURL == "" {
		t.Errorf("confirmation parsed as %+v, %v", m, err)
	}
}

func TestStringToSign(t *testing.T) {
	n := notification()
	want := "Message\n" + n.Message + "\nMessageId\n" + n.MessageID + "\nSubject\n" + n.Subject + "\nTimestamp\n" +
		n.Timestamp + "\nTopicArn\n" + topic + "\nType\nNotification\n"
	if diff := cmp.Diff(want, n.StringToSign()); diff != "" {
		t.Errorf("notification (-want +got):\n%s", diff)
	}
	n.Subject = ""
	want = "Message\n" + n.Message + "\nMessageId\n" + n.MessageID + "\nTimestamp\n" + n.Timestamp + "\nTopicArn\n" +
		topic + "\nType\nNotification\n"
	if diff := cmp.Diff(want, n.StringToSign()); diff != "" {
		t.Errorf("notification without subject (-want +got):\n%s", diff)
	}
	c := confirmation(snsverify.TypeSubscriptionConfirmation)
	c.Subject = "ignored: confirmations never sign a subject"
	want = "Message\n" + c.Message + "\nMessageId\n" + c.MessageID + "\nSubscribeURL\n" + c.SubscribeURL +
		"\nTimestamp\n" + c.Timestamp + "\nToken\n" + c.Token + "\nTopicArn\n" + topic + "\nType\nSubscriptionConfirmation\n"
	if diff := cmp.Diff(want, c.StringToSign()); diff != "" {
		t.Errorf("confirmation (-want +got):\n%s", diff)
	}
}

func TestVerifyAccepts(t *testing.T) {
	s := snstest.NewSigner(t)
	v, err := snsverify.NewVerifier(s.Fetcher, snsverify.Options{Roots: s.Roots})
	if err != nil {
		t.Fatal(err)
	}
	noSubject := notification()
	noSubject.Subject = ""
	tests := []struct {
		name    string
		m       snsverify.Message
		version string
	}{
		{"notification v1", notification(), "1"},
		{"notification v2", notification(), "2"},
		{"notification without subject", noSubject, "2"},
		{"subscription confirmation", confirmation(snsverify.TypeSubscriptionConfirmation), "1"},
		{"unsubscribe confirmation", confirmation(snsverify.TypeUnsubscribeConfirmation), "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.m
			snstest.Sign(t, s.Key, &m, tt.version)
			// Through the wire form, as a webhook receives it.
			parsed, err := snsverify.Parse(snstest.Body(t, m))
			if err != nil {
				t.Fatal(err)
			}
			if err := v.Verify(context.Background(), parsed, []string{topic}); err != nil {
				t.Fatal(err)
			}
		})
	}
	if n := s.Fetcher.Count(snstest.CertURL); n != 1 {
		t.Errorf("certificate fetched %d times, want once (cached)", n)
	}
}

func TestVerifyRefuses(t *testing.T) {
	s := snstest.NewSigner(t)
	caKey, ca := snstest.NewCA(t) // never added to the roots
	// A certificate from a CA nobody trusts, one that has expired, and one
	// issued to someone other than SNS, each served at its own SNS URL.
	rogueKey, roguePEM := snstest.Issue(t, caKey, ca, snstest.CertOptions{})
	const rogueURL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-rogue.pem"
	s.Fetcher.Serve(rogueURL, roguePEM)
	trustedKey, trustedCA := snstest.NewCA(t)
	s.Roots.AddCert(trustedCA)
	expiredKey, expiredPEM := snstest.Issue(t, trustedKey, trustedCA, snstest.CertOptions{
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	const expiredURL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-expired.pem"
	s.Fetcher.Serve(expiredURL, expiredPEM)
	otherKey, otherPEM := snstest.Issue(t, trustedKey, trustedCA, snstest.CertOptions{DNSName: "www.example.com"})
	const otherURL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-other.pem"
	s.Fetcher.Serve(otherURL, otherPEM)
	const downURL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-down.pem"
	s.Fetcher.Fail(downURL, errors.New("connection reset"))

	v, err := snsverify.NewVerifier(s.Fetcher, snsverify.Options{Roots: s.Roots})
	if err != nil {
		t.Fatal(err)
	}
	signed := func(mutate func(*snsverify.Message)) snsverify.Message {
		m := notification()
		mutate(&m)
		s.Sign(t, &m)
		return m
	}
	tests := []struct {
		name string
		m    snsverify.Message
		want snsverify.Reason
	}{
		{"forged: Message changed after signing", func() snsverify.Message {
			m := signed(func(*snsverify.Message) {})
			m.Message = `{"eventType":"Complaint"}`
			return m
		}(), snsverify.ReasonBadSignature},
		{"forged: Subject added after signing", func() snsverify.Message {
			m := signed(func(m *snsverify.Message) { m.Subject = "" })
			m.Subject = "added"
			return m
		}(), snsverify.ReasonBadSignature},
		{"signature not base64", func() snsverify.Message {
			m := signed(func(*snsverify.Message) {})
			m.Signature = "not base64!"
			return m
		}(), snsverify.ReasonBadSignature},
		{"unsigned", notification(), snsverify.ReasonUnsigned},
		{"no certificate URL", func() snsverify.Message {
			m := signed(func(*snsverify.Message) {})
			m.SigningCertURL = ""
			return m
		}(), snsverify.ReasonUnsigned},
		{"wrong signature version", func() snsverify.Message {
			m := signed(func(*snsverify.Message) {})
			m.SignatureVersion = "3"
			return m
		}(), snsverify.ReasonSignatureVersion},
		{"certificate over http", signed(func(m *snsverify.Message) {
			m.SigningCertURL = "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem"
		}), snsverify.ReasonCertURL},
		{"certificate on another host", signed(func(m *snsverify.Message) {
			m.SigningCertURL = "https://sns.us-east-1.amazonaws.com.attacker.example.com/x.pem"
		}), snsverify.ReasonCertURL},
		{"certificate on an S3 host", signed(func(m *snsverify.Message) {
			m.SigningCertURL = "https://s3.amazonaws.com/attacker/SimpleNotificationService-x.pem"
		}), snsverify.ReasonCertURL},
		{"certificate URL with a port", signed(func(m *snsverify.Message) {
			m.SigningCertURL = "https://sns.us-east-1.amazonaws.com:8443/x.pem"
		}), snsverify.ReasonCertURL},
		{"certificate URL not a .pem", signed(func(m *snsverify.Message) {
			m.SigningCertURL = "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"
		}), snsverify.ReasonCertURL},
		{"untrusted CA", func() snsverify.Message {
			m := notification()
			m.SigningCertURL = rogueURL
			snstest.Sign(t, rogueKey, &m, "2")
			return m
		}(), snsverify.ReasonCertInvalid},
		{"expired certificate", func() snsverify.Message {
			m := notification()
			m.SigningCertURL = expiredURL
			snstest.Sign(t, expiredKey, &m, "2")
			return m
		}(), snsverify.ReasonCertInvalid},
		{"certificate not issued to SNS", func() snsverify.Message {
			m := notification()
			m.SigningCertURL = otherURL
			snstest.Sign(t, otherKey, &m, "2")
			return m
		}(), snsverify.ReasonCertInvalid},
		{"no certificate at the URL", signed(func(m *snsverify.Message) {
			m.SigningCertURL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-missing.pem"
		}), snsverify.ReasonCertInvalid},
		{"certificate host down", signed(func(m *snsverify.Message) { m.SigningCertURL = downURL }),
			snsverify.ReasonCertUnavailable},
		{"wrong topic", signed(func(m *snsverify.Message) { m.TopicArn = "arn:aws:sns:us-east-1:999999999999:other" }),
			snsverify.ReasonTopic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := v.Verify(context.Background(), tt.m, []string{topic})
			if got := snsverify.ReasonOf(err); got != tt.want {
				t.Fatalf("Verify = %v (reason %q), want reason %q", err, got, tt.want)
			}
			if snsverify.Transient(err) != (tt.want == snsverify.ReasonCertUnavailable) {
				t.Errorf("Transient(%v) is wrong", err)
			}
		})
	}
	for _, u := range []string{"http://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem",
		"https://sns.us-east-1.amazonaws.com.attacker.example.com/x.pem"} {
		if n := s.Fetcher.Count(u); n != 0 {
			t.Errorf("%s fetched %d times; a refused URL must never be fetched", u, n)
		}
	}
}

func TestCachedCertificateExpires(t *testing.T) {
	s := snstest.NewSigner(t)
	now := time.Now()
	v, err := snsverify.NewVerifier(s.Fetcher, snsverify.Options{Roots: s.Roots, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	m := notification()
	s.Sign(t, &m)
	if err := v.Verify(context.Background(), m, []string{topic}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * 365 * 24 * time.Hour)
	if got := snsverify.ReasonOf(v.Verify(context.Background(), m, []string{topic})); got != snsverify.ReasonCertInvalid {
		t.Errorf("after expiry: reason %q, want %q", got, snsverify.ReasonCertInvalid)
	}
}

func TestCheckURLPartitions(t *testing.T) {
	for _, u := range []string{
		"https://sns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem",
		"https://sns.eu-central-2.amazonaws.com/SimpleNotificationService-a.pem",
		"https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-a.pem",
		"https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-a.pem",
		"https://sns.cn-northwest-1.amazonaws.com.cn/SimpleNotificationService-a.pem",
	} {
		if _, err := snsverify.CheckURL(u); err != nil {
			t.Errorf("CheckURL(%s) = %v, want accepted", u, err)
		}
	}
	for _, u := range []string{
		"https://sns.amazonaws.com/a.pem", "https://sns.us-east-1.amazonaws.com.cn.example.com/a.pem",
		"https://xsns.us-east-1.amazonaws.com/a.pem", "https://user@sns.us-east-1.amazonaws.com/a.pem",
		"ftp://sns.us-east-1.amazonaws.com/a.pem", "https://SNS.US-EAST-1.AMAZONAWS.COM/a.pem", "not a url\x00",
	} {
		if _, err := snsverify.CheckURL(u); err == nil {
			t.Errorf("CheckURL(%q) accepted", u)
		}
	}
}

func TestConfirm(t *testing.T) {
	s := snstest.NewSigner(t)
	v, err := snsverify.NewVerifier(s.Fetcher, snsverify.Options{Roots: s.Roots})
	if err != nil {
		t.Fatal(err)
	}
	c := confirmation(snsverify.TypeSubscriptionConfirmation)
	s.Fetcher.Serve(c.SubscribeURL, []byte("<ConfirmSubscriptionResponse/>"))
	s.Sign(t, &c)
	if err := v.Verify(context.Background(), c, []string{topic}); err != nil {
		t.Fatal(err)
	}
	if err := v.Confirm(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if n := s.Fetcher.Count(c.SubscribeURL); n != 1 {
		t.Errorf("SubscribeURL fetched %d times, want 1", n)
	}

	bad := c
	bad.SubscribeURL = "https://attacker.example.com/?Action=ConfirmSubscription"
	if got := snsverify.ReasonOf(v.Confirm(context.Background(), bad)); got != snsverify.ReasonSubscribeURL {
		t.Errorf("Confirm with a foreign SubscribeURL: reason %q, want %q", got, snsverify.ReasonSubscribeURL)
	}
	if n := s.Fetcher.Count(bad.SubscribeURL); n != 0 {
		t.Errorf("foreign SubscribeURL fetched %d times", n)
	}
	down := c
	down.SubscribeURL = "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=gone"
	if err := v.Confirm(context.Background(), down); !snsverify.Transient(err) {
		t.Errorf("Confirm with a failing fetch = %v, want a transient error", err)
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct{ name, body string }{
		{"empty", ""},
		{"array", `[]`},
		{"not JSON", `{"Type":`},
		{"trailing data", `{"Type":"Notification"} {}`},
		{"no type", `{"MessageId":"1"}`},
		{"unknown type", `{"Type":"Other","MessageId":"1","TopicArn":"a","Timestamp":"t","Message":"m"}`},
		{"number field", `{"Type":"Notification","MessageId":1,"TopicArn":"a","Timestamp":"t","Message":"m"}`},
		{"no message", `{"Type":"Notification","MessageId":"1","TopicArn":"a","Timestamp":"t"}`},
		{"confirmation without token", `{"Type":"SubscriptionConfirmation","MessageId":"1","TopicArn":"a","Timestamp":"t","Message":"m","SubscribeURL":"u"}`},
		{"not UTF-8", "{\"Type\":\"\xff\"}"},
	}
	for _, tt := range tests {
		_, err := snsverify.Parse([]byte(tt.body))
		if got := snsverify.ReasonOf(err); got != snsverify.ReasonMalformed {
			t.Errorf("%s: Parse = %v, want reason malformed", tt.name, err)
		}
	}
}
