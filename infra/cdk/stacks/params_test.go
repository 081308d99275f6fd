package stacks

// Tests of the deployment parameters and the asset check: pure Go, though
// they run under the package's TestMain.

import (
	"debug/elf"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// validParams is a deployment every check accepts; each case changes it.
func validParams() Params {
	return Params{Tenant: "acme", ModelID: "amazon.nova-micro-v1:0", ERPEndpoint: "https://ebs.acme.example:4443",
		AlarmEmail: "ar-alerts@acme.example", Dist: "dist"}
}

var allKeys = []string{KeyTenant, KeyModelID, KeyERPEndpoint, KeyAlarmEmail, KeyEmailFrom, KeySMSOrigination, KeySMSNumber}

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Params)
		// bad is the key the error must name; "" when the parameters are valid.
		bad string
		// say are further texts the error must contain.
		say []string
	}{
		{name: "valid", edit: func(*Params) {}},
		{name: "valid with channels", edit: func(p *Params) {
			p.EmailFrom = "ar@acme.example"
			p.SMSOrigination = "arn:aws:sms-voice:us-east-1:111122223333:phone-number/phone-0123456789abcdef"
			p.SMSNumber = "+18005550100"
		}},

		// Required keys.
		{name: "tenant missing", edit: func(p *Params) { p.Tenant = "" }, bad: KeyTenant, say: []string{"-c " + KeyTenant + "="}},
		{name: "model missing", edit: func(p *Params) { p.ModelID = "" }, bad: KeyModelID, say: []string{"-c " + KeyModelID + "="}},
		{name: "erp endpoint missing", edit: func(p *Params) { p.ERPEndpoint = "" }, bad: KeyERPEndpoint, say: []string{"-c " + KeyERPEndpoint + "="}},
		{name: "alarm e-mail missing", edit: func(p *Params) { p.AlarmEmail = "" }, bad: KeyAlarmEmail, say: []string{"-c " + KeyAlarmEmail + "="}},

		// Tenants: they go into IAM patterns and resource names.
		{name: "tenant with wildcard", edit: func(p *Params) { p.Tenant = "ac*me" }, bad: KeyTenant},
		{name: "tenant with question mark", edit: func(p *Params) { p.Tenant = "acm?" }, bad: KeyTenant},
		{name: "tenant uppercase", edit: func(p *Params) { p.Tenant = "Acme" }, bad: KeyTenant},
		{name: "tenant 33 characters", edit: func(p *Params) { p.Tenant = strings.Repeat("a", 33) }, bad: KeyTenant},
		{name: "tenant 32 characters", edit: func(p *Params) { p.Tenant = strings.Repeat("a", 32) }},
		{name: "tenant one character", edit: func(p *Params) { p.Tenant = "a" }},
		{name: "tenant with inner dash", edit: func(p *Params) { p.Tenant = "acme-eu-1" }},
		{name: "tenant leading dash", edit: func(p *Params) { p.Tenant = "-acme" }, bad: KeyTenant},
		{name: "tenant trailing dash", edit: func(p *Params) { p.Tenant = "acme-" }, bad: KeyTenant},
		{name: "tenant with hash", edit: func(p *Params) { p.Tenant = "ac#me" }, bad: KeyTenant},

		// Model ids.
		{name: "model nova micro", edit: func(p *Params) { p.ModelID = "amazon.nova-micro-v1:0" }},
		{name: "model claude haiku", edit: func(p *Params) { p.ModelID = "anthropic.claude-3-haiku-20240307-v1:0" }},
		{name: "model us inference profile", edit: func(p *Params) { p.ModelID = "us.anthropic.claude-3-5-haiku-20241022-v1:0" }},
		{name: "model without version", edit: func(p *Params) { p.ModelID = "amazon.titan-text-express-v1" }},
		{name: "model x", edit: func(p *Params) { p.ModelID = "x" }, bad: KeyModelID},
		{name: "model with space", edit: func(p *Params) { p.ModelID = "amazon nova" }, bad: KeyModelID},
		{name: "model with empty segment", edit: func(p *Params) { p.ModelID = "eu..x" }, bad: KeyModelID},

		// The ERP endpoint.
		{name: "erp http", edit: func(p *Params) { p.ERPEndpoint = "http://ebs.acme.example" }, bad: KeyERPEndpoint, say: []string{"https"}},
		{name: "erp user info", edit: func(p *Params) { p.ERPEndpoint = "https://sysadmin:secret@ebs.acme.example" }, bad: KeyERPEndpoint},
		{name: "erp query", edit: func(p *Params) { p.ERPEndpoint = "https://ebs.acme.example/?redirect=evil.example" }, bad: KeyERPEndpoint},
		{name: "erp no host", edit: func(p *Params) { p.ERPEndpoint = "https:///ebs" }, bad: KeyERPEndpoint},
		{name: "erp with path", edit: func(p *Params) { p.ERPEndpoint = "https://erp.acme.example/d365" }},

		// E-mail addresses.
		{name: "alarm e-mail without dot", edit: func(p *Params) { p.AlarmEmail = "a@b" }, bad: KeyAlarmEmail},
		{name: "alarm e-mail with name", edit: func(p *Params) { p.AlarmEmail = "Name <a@b.com>" }, bad: KeyAlarmEmail},
		{name: "alarm e-mail plain", edit: func(p *Params) { p.AlarmEmail = "ops@acme.example" }},

		// Optional channels.
		{name: "email from invalid", edit: func(p *Params) { p.EmailFrom = "ar at acme" }, bad: KeyEmailFrom},
		{name: "email from valid", edit: func(p *Params) { p.EmailFrom = "ar@acme.example" }},
		{name: "sms phone-number arn", edit: func(p *Params) {
			p.SMSOrigination = "arn:aws:sms-voice:us-east-1:111122223333:phone-number/phone-0123456789abcdef"
			p.SMSNumber = "+18005550100"
		}},
		{name: "sms pool arn", edit: func(p *Params) {
			p.SMSOrigination = "arn:aws:sms-voice:eu-west-1:111122223333:pool/pool-0123456789abcdef"
			p.SMSNumber = "+447700900123"
		}},
		{name: "sms bare number", edit: func(p *Params) { p.SMSOrigination, p.SMSNumber = "+18005550100", "+18005550100" }, bad: KeySMSOrigination},
		{name: "sms without its number", edit: func(p *Params) {
			p.SMSOrigination = "arn:aws:sms-voice:us-east-1:111122223333:phone-number/phone-0123456789abcdef"
		}, bad: KeySMSNumber, say: []string{"STOP"}},
		{name: "sms number without origination", edit: func(p *Params) { p.SMSNumber = "+18005550100" }, bad: KeySMSNumber},
		{name: "sms number not E.164", edit: func(p *Params) {
			p.SMSOrigination = "arn:aws:sms-voice:us-east-1:111122223333:phone-number/phone-0123456789abcdef"
			p.SMSNumber = "800-555-0100"
		}, bad: KeySMSNumber},
		{name: "sms other service arn", edit: func(p *Params) {
			p.SMSOrigination, p.SMSNumber = "arn:aws:sns:us-east-1:111122223333:phone-number/x", "+18005550100"
		}, bad: KeySMSOrigination},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := validParams()
			c.edit(&p)
			err := p.Validate()
			if c.bad == "" {
				if err != nil {
					t.Fatalf("Validate(%+v) = %v, want nil", p, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate(%+v) = nil, want an error naming %s", p, c.bad)
			}
			msg := err.Error()
			for _, want := range append([]string{c.bad}, c.say...) {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not say %q", msg, want)
				}
			}
			// Only the bad key is named: the others are valid.
			for _, k := range allKeys {
				if k != c.bad && strings.Contains(msg, k+":") {
					t.Errorf("error %q names %s, which is valid", msg, k)
				}
			}
		})
	}
}

func TestValidateReportsEveryError(t *testing.T) {
	p := Params{Tenant: "ACME", ModelID: "x", ERPEndpoint: "http://ebs.acme.example", AlarmEmail: "a@b",
		EmailFrom: "nobody", SMSOrigination: "+18005550100", SMSNumber: "0100"}
	err := p.Validate()
	if err == nil {
		t.Fatal("Validate accepted seven bad parameters")
	}
	for _, k := range allKeys {
		if !strings.Contains(err.Error(), k) {
			t.Errorf("error %q does not name %s", err, k)
		}
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("error %T is not a joined error (errors.Join)", err)
	}
	if n := len(joined.Unwrap()); n != len(allKeys) {
		t.Errorf("%d errors joined, want one per bad key (%d): %v", n, len(allKeys), err)
	}

	// Nothing given: each required key is named, with how to pass it.
	err = Params{}.Validate()
	for _, k := range []string{KeyTenant, KeyModelID, KeyERPEndpoint, KeyAlarmEmail} {
		if err == nil || !strings.Contains(err.Error(), "-c "+k+"=") {
			t.Errorf("empty parameters: error %v does not say -c %s=", err, k)
		}
	}
}

func TestParamsFromContext(t *testing.T) {
	ctx := map[string]any{
		KeyTenant: "acme", KeyModelID: "amazon.nova-micro-v1:0", KeyERPEndpoint: "https://ebs.acme.example:4443",
		KeyAlarmEmail: "ar-alerts@acme.example", KeyEmailFrom: "ar@acme.example",
		KeySMSOrigination: "arn:aws:sms-voice:us-east-1:111122223333:phone-number/phone-0123456789abcdef",
		KeySMSNumber:      "+18005550100",
	}
	getter := func(m map[string]any) func(string) any { return func(k string) any { return m[k] } }

	p, err := ParamsFromContext(getter(ctx))
	if err != nil {
		t.Fatalf("ParamsFromContext: %v", err)
	}
	want := Params{Tenant: "acme", ModelID: "amazon.nova-micro-v1:0", ERPEndpoint: "https://ebs.acme.example:4443",
		AlarmEmail: "ar-alerts@acme.example", EmailFrom: "ar@acme.example",
		SMSOrigination: "arn:aws:sms-voice:us-east-1:111122223333:phone-number/phone-0123456789abcdef",
		SMSNumber:      "+18005550100", Dist: filepath.Join("..", "..", "dist")}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("ParamsFromContext =\n %+v\nwant\n %+v", p, want)
	}
	if p.Dist != "../../dist" && p.Dist != filepath.FromSlash("../../dist") {
		t.Errorf("Dist defaults to %q, want ../../dist", p.Dist)
	}

	ctx[KeyDist] = "/opt/recoup/dist"
	if p, err := ParamsFromContext(getter(ctx)); err != nil || p.Dist != "/opt/recoup/dist" {
		t.Errorf("with %s set: Dist %q, err %v; want /opt/recoup/dist", KeyDist, p.Dist, err)
	}

	// Missing keys are named.
	delete(ctx, KeyTenant)
	delete(ctx, KeyAlarmEmail)
	_, err = ParamsFromContext(getter(ctx))
	if err == nil {
		t.Fatal("ParamsFromContext accepted a context without tenant and alarm e-mail")
	}
	for _, k := range []string{KeyTenant, KeyAlarmEmail} {
		if !strings.Contains(err.Error(), k) {
			t.Errorf("error %q does not name %s", err, k)
		}
	}
	for _, k := range []string{KeyModelID, KeyERPEndpoint} {
		if strings.Contains(err.Error(), k) {
			t.Errorf("error %q names %s, which was given", err, k)
		}
	}
}

func TestCheckAssets(t *testing.T) {
	names := FunctionNames()
	victim := names[len(names)/2]
	cases := []struct {
		name  string
		setup func(t *testing.T, dist string) // after every bootstrap is written for arm64
		say   []string                        // nil: no error
	}{
		{name: "all arm64", setup: func(*testing.T, string) {}},
		{name: "one missing", setup: func(t *testing.T, dist string) {
			if err := os.Remove(filepath.Join(dist, victim, "bootstrap")); err != nil {
				t.Fatal(err)
			}
		}, say: []string{victim, "make lambdas LAMBDA_ARCH=arm64"}},
		{name: "one x86-64", setup: func(t *testing.T, dist string) {
			if err := WriteELF(filepath.Join(dist, victim, "bootstrap"), elf.EM_X86_64); err != nil {
				t.Fatal(err)
			}
		}, say: []string{victim, elf.EM_X86_64.String()}},
		{name: "one not ELF", setup: func(t *testing.T, dist string) {
			if err := os.WriteFile(filepath.Join(dist, victim, "bootstrap"), []byte("#!/bin/sh\necho hello\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, say: []string{victim}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dist := t.TempDir()
			for _, n := range names {
				if err := WriteELF(filepath.Join(dist, n, "bootstrap"), elf.EM_AARCH64); err != nil {
					t.Fatal(err)
				}
			}
			c.setup(t, dist)
			err := CheckAssets(dist, names)
			if c.say == nil {
				if err != nil {
					t.Fatalf("CheckAssets = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatal("CheckAssets = nil, want an error")
			}
			for _, s := range c.say {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			// Only the broken function is named.
			for _, n := range names {
				if n != victim && strings.Contains(err.Error(), "function "+n+":") {
					t.Errorf("error %q names %s, whose bootstrap is fine", err, n)
				}
			}
		})
	}

	// An empty dist names every function.
	err := CheckAssets(t.TempDir(), names)
	for _, n := range names {
		if err == nil || !strings.Contains(err.Error(), "function "+n+":") {
			t.Errorf("empty dist: error %v does not name %s", err, n)
		}
	}
}

func TestFunctionNamesSortedAndUnique(t *testing.T) {
	names := FunctionNames()
	if len(names) == 0 {
		t.Fatal("FunctionNames() is empty")
	}
	if !slices.IsSorted(names) {
		t.Errorf("FunctionNames() is not sorted: %v", names)
	}
	if c := slices.Compact(slices.Clone(names)); len(c) != len(names) {
		t.Errorf("FunctionNames() has duplicates: %v", names)
	}
}
