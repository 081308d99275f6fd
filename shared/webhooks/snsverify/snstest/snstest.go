// Package snstest signs SNS messages the way Amazon SNS does, with a CA and
// signing certificate of its own, so tests of anything behind
// snsverify.Verifier can post genuine-looking deliveries without a network.
package snstest

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // SignatureVersion 1 is SHA1withRSA.
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/recoup-dev/recoup/shared/webhooks/snsverify"
)

// CertURL is where the signer's certificate is served.
const CertURL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000000000test.pem"

// Signer is a test CA with one SNS signing certificate.
type Signer struct {
	Roots   *x509.CertPool
	Key     *rsa.PrivateKey
	CertPEM []byte
	Fetcher *Fetcher
}

// CertOptions shape a signing certificate.
type CertOptions struct {
	DNSName             string // default sns.amazonaws.com
	NotBefore, NotAfter time.Time
}

// NewSigner makes a CA and a signing certificate valid around now, served
// by its Fetcher at CertURL.
func NewSigner(t testing.TB) *Signer {
	t.Helper()
	caKey, caCert := NewCA(t)
	s := &Signer{Roots: x509.NewCertPool(), Fetcher: NewFetcher()}
	s.Roots.AddCert(caCert)
	s.Key, s.CertPEM = Issue(t, caKey, caCert, CertOptions{})
	s.Fetcher.Serve(CertURL, s.CertPEM)
	return s
}

// NewCA returns a fresh CA key and certificate, for tests that need a
// second CA (trusted once added to the Signer's Roots, untrusted otherwise).
func NewCA(t testing.TB) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Recoup Test Root CA"},
		NotBefore: time.Now().Add(-24 * time.Hour), NotAfter: time.Now().Add(10 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, c
}

var serial = struct {
	sync.Mutex
	n int64
}{n: 100}

// Issue signs a new leaf certificate with the CA and returns its key and PEM.
func Issue(t testing.TB, caKey *rsa.PrivateKey, ca *x509.Certificate, o CertOptions) (*rsa.PrivateKey, []byte) {
	t.Helper()
	if o.DNSName == "" {
		o.DNSName = "sns.amazonaws.com"
	}
	if o.NotBefore.IsZero() {
		o.NotBefore = time.Now().Add(-time.Hour)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = time.Now().Add(365 * 24 * time.Hour)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	serial.Lock()
	serial.n++
	n := serial.n
	serial.Unlock()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(n), Subject: pkix.Name{CommonName: o.DNSName},
		DNSNames: []string{o.DNSName}, NotBefore: o.NotBefore, NotAfter: o.NotAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// Sign sets m's SignatureVersion, SigningCertURL (CertURL unless set) and
// Signature, signing with key.
func Sign(t testing.TB, key *rsa.PrivateKey, m *snsverify.Message, version string) {
	t.Helper()
	m.SignatureVersion = version
	if m.SigningCertURL == "" {
		m.SigningCertURL = CertURL
	}
	var (
		h      crypto.Hash
		digest []byte
	)
	if version == "1" {
		d := sha1.Sum([]byte(m.StringToSign())) //nolint:gosec // see the import
		h, digest = crypto.SHA1, d[:]
	} else {
		d := sha256.Sum256([]byte(m.StringToSign()))
		h, digest = crypto.SHA256, d[:]
	}
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, h, digest)
	if err != nil {
		t.Fatal(err)
	}
	m.Signature = base64.StdEncoding.EncodeToString(sig)
}

// Sign signs m with the signer's certificate, SignatureVersion 2.
func (s *Signer) Sign(t testing.TB, m *snsverify.Message) { Sign(t, s.Key, m, "2") }

// Fetcher serves fixed bodies by URL and counts fetches.
type Fetcher struct {
	mu     sync.Mutex
	bodies map[string][]byte
	errs   map[string]error
	calls  map[string]int
}

// NewFetcher returns an empty fetcher.
func NewFetcher() *Fetcher {
	return &Fetcher{bodies: map[string][]byte{}, errs: map[string]error{}, calls: map[string]int{}}
}

// Serve makes url return body.
func (f *Fetcher) Serve(url string, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bodies[url] = body
}

// Fail makes url return err.
func (f *Fetcher) Fail(url string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs[url] = err
}

// Count returns how often url was fetched.
func (f *Fetcher) Count(url string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[url]
}

// Fetch implements snsverify.Fetcher; an unknown URL is a 404.
func (f *Fetcher) Fetch(_ context.Context, url string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[url]++
	if err := f.errs[url]; err != nil {
		return nil, err
	}
	b, ok := f.bodies[url]
	if !ok {
		return nil, fmt.Errorf("test fetcher: %s: %w", url, snsverify.ErrNotFound)
	}
	return b, nil
}

// Body writes m as SNS posts it to an HTTP(S) endpoint, omitting empty
// optional fields as SNS does.
func Body(t testing.TB, m snsverify.Message) []byte {
	t.Helper()
	w := map[string]string{"Type": m.Type, "MessageId": m.MessageID, "TopicArn": m.TopicArn, "Message": m.Message,
		"Timestamp": m.Timestamp}
	for k, v := range map[string]string{"Token": m.Token, "Subject": m.Subject, "SignatureVersion": m.SignatureVersion,
		"Signature": m.Signature, "SigningCertURL": m.SigningCertURL, "SubscribeURL": m.SubscribeURL,
		"UnsubscribeURL": m.UnsubscribeURL} {
		if v != "" {
			w[k] = v
		}
	}
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
