package snsverify

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // SignatureVersion 1 is SHA1withRSA by definition; SNS still sends it by default.
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// Reason names why a message was refused. Every reason but
// ReasonCertUnavailable means the message is forged, unsigned or not for
// us; ReasonCertUnavailable means we could not check it yet (retry).
type Reason string

// Reasons.
const (
	ReasonMalformed        Reason = "malformed"           // not an SNS message at all
	ReasonUnsigned         Reason = "unsigned"            // no Signature, SignatureVersion or SigningCertURL
	ReasonSignatureVersion Reason = "signature_version"   // neither 1 nor 2
	ReasonCertURL          Reason = "cert_url"            // not https, or not an SNS host, or not a .pem
	ReasonCertUnavailable  Reason = "cert_unavailable"    // the certificate could not be fetched now
	ReasonCertInvalid      Reason = "cert_invalid"        // not a certificate, expired, untrusted chain, not SNS's
	ReasonBadSignature     Reason = "bad_signature"       // the signature does not match the message
	ReasonTopic            Reason = "topic_not_allowed"   // a topic this route does not accept
	ReasonSubscribeURL     Reason = "subscribe_url"       // SubscribeURL not https on an SNS host
	ReasonConfirmFailed    Reason = "confirmation_failed" // fetching SubscribeURL failed
)

// Error is a refusal with its reason. Detail never holds the message body.
type Error struct {
	Reason Reason
	Detail string
	Err    error
}

func (e *Error) Error() string {
	s := "sns message refused (" + string(e.Reason) + ")"
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// ReasonOf returns the reason of an *Error in err's chain, or "".
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// Transient reports whether err means "could not check now" rather than
// "refused": the caller should answer 5xx so SNS delivers again.
func Transient(err error) bool {
	r := ReasonOf(err)
	return r == ReasonCertUnavailable || r == ReasonConfirmFailed
}

// Fetcher gets the body of an https URL. Verify uses it for signing
// certificates and Confirm for SubscribeURL; both check the URL first.
type Fetcher interface {
	Fetch(ctx context.Context, url string) ([]byte, error)
}

// ErrNotFound is returned (wrapped) by a Fetcher when the server answered
// that the resource does not exist (HTTP 4xx): a certificate URL on an SNS
// host that has no certificate is a forgery, not an outage.
var ErrNotFound = errors.New("not found")

// snsHost matches the SNS endpoints that serve signing certificates:
// sns.<region>.amazonaws.com in the commercial and GovCloud partitions
// (us-gov-west-1 is a region name like any other) and
// sns.<region>.amazonaws.com.cn in China.
var snsHost = regexp.MustCompile(`^sns\.[a-z]{2}(-[a-z]+)+-[0-9]\.amazonaws\.com(\.cn)?$`)

// CheckURL reports whether u may be fetched on SNS's behalf: https, no
// user, no explicit port, an SNS host. The error says which rule failed.
func CheckURL(u string) (*url.URL, error) {
	p, err := url.Parse(u)
	switch {
	case err != nil:
		return nil, errors.New("not a URL")
	case p.Scheme != "https":
		return nil, fmt.Errorf("scheme %q is not https", p.Scheme)
	case p.User != nil || p.Port() != "" || p.Opaque != "":
		return nil, errors.New("URL carries a user or a port")
	case !snsHost.MatchString(p.Host):
		return nil, fmt.Errorf("host %.80q is not an Amazon SNS endpoint (sns.<region>.amazonaws.com[.cn])", p.Host)
	}
	return p, nil
}

// Options adjust a Verifier; the zero value is production's.
type Options struct {
	// Roots are the trusted roots; nil means the system's.
	Roots *x509.CertPool
	// Intermediates are extra intermediate certificates, for a signing
	// certificate served without its chain.
	Intermediates *x509.CertPool
	// Now is the clock for certificate validity; nil means time.Now.
	Now func() time.Time
}

// maxCached bounds the certificate cache: SNS uses one certificate per
// region at a time, so a few entries are plenty, and a bound keeps a flood
// of distinct (valid-host) URLs from growing memory.
const maxCached = 32

// Verifier checks SNS signatures. It is safe for concurrent use.
type Verifier struct {
	fetch Fetcher
	opts  Options

	mu    sync.Mutex
	certs map[string]*x509.Certificate // by SigningCertURL, chain already verified once
}

// NewVerifier returns a verifier fetching certificates through f.
func NewVerifier(f Fetcher, opts Options) (*Verifier, error) {
	if f == nil {
		return nil, errors.New("snsverify: NewVerifier needs a Fetcher")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Verifier{fetch: f, opts: opts, certs: map[string]*x509.Certificate{}}, nil
}

// Verify checks m's signature and that its topic is one of topics. It
// returns nil or an *Error naming the reason.
func (v *Verifier) Verify(ctx context.Context, m Message, topics []string) error {
	if m.Signature == "" || m.SignatureVersion == "" || m.SigningCertURL == "" {
		return &Error{Reason: ReasonUnsigned, Detail: "no Signature, SignatureVersion or SigningCertURL"}
	}
	var hash crypto.Hash
	switch m.SignatureVersion {
	case "1":
		hash = crypto.SHA1
	case "2":
		hash = crypto.SHA256
	default:
		return &Error{Reason: ReasonSignatureVersion, Detail: fmt.Sprintf("SignatureVersion %.10q is neither 1 nor 2", m.SignatureVersion)}
	}
	// The topic is checked before any fetch: a notification for someone
	// else's topic costs us nothing.
	if !slices.Contains(topics, m.TopicArn) {
		return &Error{Reason: ReasonTopic, Detail: fmt.Sprintf("topic %.200q is not allowed on this route", m.TopicArn)}
	}
	u, err := CheckURL(m.SigningCertURL)
	if err != nil {
		return &Error{Reason: ReasonCertURL, Err: err}
	}
	if !strings.HasSuffix(u.Path, ".pem") {
		return &Error{Reason: ReasonCertURL, Detail: "SigningCertURL does not name a .pem file"}
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil {
		return &Error{Reason: ReasonBadSignature, Detail: "Signature is not base64"}
	}
	cert, err := v.certificate(ctx, m.SigningCertURL, u.Host)
	if err != nil {
		return err
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return &Error{Reason: ReasonCertInvalid, Detail: "signing certificate has no RSA key"}
	}
	var digest []byte
	if hash == crypto.SHA1 {
		d := sha1.Sum([]byte(m.StringToSign())) //nolint:gosec // see the import
		digest = d[:]
	} else {
		d := sha256.Sum256([]byte(m.StringToSign()))
		digest = d[:]
	}
	if err := rsa.VerifyPKCS1v15(pub, hash, digest, sig); err != nil {
		return &Error{Reason: ReasonBadSignature, Detail: "signature does not match the message"}
	}
	return nil
}

// certificate returns the verified signing certificate at u, from the
// cache when it is there and still valid.
func (v *Verifier) certificate(ctx context.Context, u, host string) (*x509.Certificate, error) {
	now := v.opts.Now()
	v.mu.Lock()
	c := v.certs[u]
	v.mu.Unlock()
	if c != nil {
		if now.Before(c.NotBefore) || now.After(c.NotAfter) {
			return nil, &Error{Reason: ReasonCertInvalid, Detail: "signing certificate has expired or is not yet valid"}
		}
		return c, nil
	}
	body, err := v.fetch.Fetch(ctx, u)
	if errors.Is(err, ErrNotFound) {
		return nil, &Error{Reason: ReasonCertInvalid, Detail: "no certificate at SigningCertURL", Err: err}
	}
	if err != nil {
		return nil, &Error{Reason: ReasonCertUnavailable, Err: err}
	}
	c, err = v.verifyChain(body, host, now)
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	if len(v.certs) >= maxCached {
		clear(v.certs)
	}
	v.certs[u] = c
	v.mu.Unlock()
	return c, nil
}

// verifyChain parses the PEM (the signing certificate first, then any
// intermediates it is served with) and verifies it chains to a trusted root
// and was issued to SNS: its name is sns.amazonaws.com or the host it was
// fetched from.
func (v *Verifier) verifyChain(body []byte, host string, now time.Time) (*x509.Certificate, error) {
	var certs []*x509.Certificate
	for rest := body; len(certs) < 8; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, &Error{Reason: ReasonCertInvalid, Detail: "unparsable certificate", Err: err}
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, &Error{Reason: ReasonCertInvalid, Detail: "SigningCertURL holds no PEM certificate"}
	}
	inter := x509.NewCertPool()
	if v.opts.Intermediates != nil {
		inter = v.opts.Intermediates.Clone()
	}
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	leaf := certs[0]
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: v.opts.Roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return nil, &Error{Reason: ReasonCertInvalid, Detail: "certificate chain does not verify", Err: err}
	}
	if leaf.VerifyHostname("sns.amazonaws.com") != nil && leaf.VerifyHostname(host) != nil {
		return nil, &Error{Reason: ReasonCertInvalid, Detail: "certificate was not issued to Amazon SNS"}
	}
	return leaf, nil
}

// Confirm confirms a verified SubscriptionConfirmation by fetching its
// SubscribeURL, after the same host checks as a certificate URL: a forged
// confirmation must not make us fetch an arbitrary URL.
func (v *Verifier) Confirm(ctx context.Context, m Message) error {
	if m.Type != TypeSubscriptionConfirmation {
		return &Error{Reason: ReasonMalformed, Detail: "not a SubscriptionConfirmation"}
	}
	if _, err := CheckURL(m.SubscribeURL); err != nil {
		return &Error{Reason: ReasonSubscribeURL, Err: err}
	}
	if _, err := v.fetch.Fetch(ctx, m.SubscribeURL); err != nil {
		return &Error{Reason: ReasonConfirmFailed, Err: err}
	}
	return nil
}
