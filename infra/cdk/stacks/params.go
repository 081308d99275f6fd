package stacks

import (
	"debug/elf"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// The context keys a deployment is configured by (`cdk -c key=value`, or
// the "context" of cdk.json); `make deploy` passes them from its
// variables TENANT, MODEL_ID, ERP_ENDPOINT and ALARM_EMAIL.
const (
	KeyTenant      = "recoup:tenant"
	KeyModelID     = "recoup:modelId"
	KeyERPEndpoint = "recoup:erpEndpoint"
	KeyAlarmEmail  = "recoup:alarmEmail"
	// KeyEmailFrom and KeySMSOrigination configure the e-mail and SMS
	// channels; without them the cycle sends letters (and calls, once
	// configured) only.
	KeyEmailFrom      = "recoup:emailFrom"
	KeySMSOrigination = "recoup:smsOrigination"
	// KeySMSNumber is the E.164 number of the SMS origination: replies to
	// it (STOP among them) are the tenant's.
	KeySMSNumber = "recoup:smsNumber"
	// KeyDist names the folder of the built functions, <dist>/<name>/bootstrap
	// (default ../../dist: the repository's dist/, seen from infra/cdk).
	KeyDist = "recoup:dist"
)

// Params are what one deployment is for: Recoup is deployed once per
// tenant, into the tenant's own account.
type Params struct {
	// Tenant is the tenant id every key of the deployment starts with; IAM
	// confines the functions to it (dynamodb:LeadingKeys).
	Tenant string
	// ModelID is the Bedrock model (or cross-region inference profile) the
	// draft function calls, such as amazon.nova-micro-v1:0.
	ModelID string
	// ERPEndpoint is the ERP's base URL (https). The write-back and the
	// ERP pull refuse a connection document naming another, so a changed
	// secret cannot send a ledger elsewhere.
	ERPEndpoint string
	// AlarmEmail receives the alarms.
	AlarmEmail string
	// EmailFrom is the SES identity e-mails are sent from (optional).
	EmailFrom string
	// SMSOrigination is the ARN of the End User Messaging phone number or
	// pool texts are sent from (optional).
	SMSOrigination string
	// SMSNumber is the origination's E.164 number; required with
	// SMSOrigination, so that replies reach the tenant's consent ledger.
	SMSNumber string
	// Dist is the folder holding <name>/bootstrap for every function.
	Dist string
}

// smsOriginationPattern is an End User Messaging SMS origination ARN: a
// phone number, pool or sender id, so IAM can name the one resource.
var smsOriginationPattern = regexp.MustCompile(`^arn:aws[a-z-]*:sms-voice:[a-z0-9-]+:[0-9]{12}:(phone-number|pool|sender-id)/[A-Za-z0-9_:-]+$`)

// tenantPattern is stricter than ledger.TenantID: the tenant goes into
// IAM condition patterns, where '*' and '?' are wildcards, and into
// resource names.
var tenantPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,30}[a-z0-9]$|^[a-z0-9]$`)

// modelPattern is a Bedrock foundation-model id (provider.model[:version]),
// optionally behind a geographic inference profile prefix (us., eu., apac.).
var modelPattern = regexp.MustCompile(`^(?:(us|us-gov|eu|apac|ca|jp|au|global)\.)?[a-z0-9-]+(?:\.[a-zA-Z0-9_-]+)+(?::[0-9]+(?::[0-9a-z]+)?)?$`)

// ParamsFromContext reads the parameters from the app's context (get is
// app.Node().TryGetContext) and checks them, naming every one that is
// missing or wrong.
func ParamsFromContext(get func(key string) any) (Params, error) {
	str := func(key string) string {
		v, _ := get(key).(string)
		return strings.TrimSpace(v)
	}
	p := Params{Tenant: str(KeyTenant), ModelID: str(KeyModelID), ERPEndpoint: str(KeyERPEndpoint),
		AlarmEmail: str(KeyAlarmEmail), EmailFrom: str(KeyEmailFrom), SMSOrigination: str(KeySMSOrigination), SMSNumber: str(KeySMSNumber), Dist: str(KeyDist)}
	if p.Dist == "" {
		p.Dist = filepath.Join("..", "..", "dist")
	}
	return p, p.Validate()
}

// Validate names each parameter that is missing or malformed.
func (p Params) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	missing := func(key, value, example string) bool {
		if value == "" {
			bad(key, "is required (pass -c %s=%s)", key, example)
			return true
		}
		return false
	}
	if !missing(KeyTenant, p.Tenant, "acme") && !tenantPattern.MatchString(p.Tenant) {
		bad(KeyTenant, "%q is not a deployable tenant id: 1 to 32 of a-z, 0-9 and '-', not starting or ending with '-'", p.Tenant)
	}
	if !missing(KeyModelID, p.ModelID, "amazon.nova-micro-v1:0") && !modelPattern.MatchString(p.ModelID) {
		bad(KeyModelID, "%q is not a Bedrock model id such as amazon.nova-micro-v1:0 or us.anthropic.claude-3-5-haiku-20241022-v1:0", p.ModelID)
	}
	if !missing(KeyERPEndpoint, p.ERPEndpoint, "https://ebs.example.com:4443") {
		if err := checkEndpoint(p.ERPEndpoint); err != nil {
			bad(KeyERPEndpoint, "%q %v", p.ERPEndpoint, err)
		}
	}
	if !missing(KeyAlarmEmail, p.AlarmEmail, "ar-alerts@example.com") && !isEmail(p.AlarmEmail) {
		bad(KeyAlarmEmail, "%q is not an e-mail address such as ar-alerts@example.com", p.AlarmEmail)
	}
	if p.EmailFrom != "" && !isEmail(p.EmailFrom) {
		bad(KeyEmailFrom, "%q is not an e-mail address such as ar@example.com", p.EmailFrom)
	}
	if p.SMSOrigination != "" && !smsOriginationPattern.MatchString(p.SMSOrigination) {
		bad(KeySMSOrigination, "%q is not the ARN of an End User Messaging phone number, pool or sender id "+
			"(arn:aws:sms-voice:<region>:<account>:phone-number/<id>)", p.SMSOrigination)
	}
	switch {
	case p.SMSOrigination != "" && p.SMSNumber == "":
		bad(KeySMSNumber, "is required with an SMS origination: replies such as STOP to the number must reach the tenant (pass -c %s=+18005550100)", KeySMSNumber)
	case p.SMSNumber != "" && p.SMSOrigination == "":
		bad(KeySMSNumber, "is given without the SMS origination it is the number of")
	case p.SMSNumber != "" && !e164Pattern.MatchString(p.SMSNumber):
		bad(KeySMSNumber, "%q is not an E.164 number such as +18005550100", p.SMSNumber)
	}
	return errors.Join(errs...)
}

var e164Pattern = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// isEmail accepts a bare address with a dotted domain.
func isEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && strings.Contains(s[strings.LastIndex(s, "@"):], ".")
}

func checkEndpoint(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("is not a URL")
	case u.Scheme != "https":
		return errors.New("must be an https URL: the ERP connection carries credentials and the ledger")
	case u.Hostname() == "":
		return errors.New("has no host")
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return errors.New("must be a base URL, without credentials, query or fragment")
	}
	return nil
}

// CheckAssets checks that every function's bootstrap is built for arm64
// Linux, naming each missing or wrong one: CDK would otherwise fail deep
// inside jsii with a stack trace, or deploy a binary that cannot start.
func CheckAssets(dist string, names []string) error {
	var errs []error
	for _, name := range names {
		path := filepath.Join(dist, name, "bootstrap")
		f, err := elf.Open(path)
		switch {
		case errors.Is(err, os.ErrNotExist):
			errs = append(errs, fmt.Errorf("function %s: %s is missing (run make lambdas LAMBDA_ARCH=arm64)", name, path))
			continue
		case err != nil:
			errs = append(errs, fmt.Errorf("function %s: %s is not a Linux executable: %v", name, path, err))
			continue
		}
		if f.Machine != elf.EM_AARCH64 {
			errs = append(errs, fmt.Errorf("function %s: %s is built for %s; the functions run on arm64 (run make lambdas LAMBDA_ARCH=arm64)", name, path, f.Machine))
		}
		f.Close()
	}
	return errors.Join(errs...)
}
