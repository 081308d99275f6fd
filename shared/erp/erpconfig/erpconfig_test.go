package erpconfig

import (
	"strings"
	"testing"
)

const ebs = `{"erp":"oracle-ebs","oracle_ebs":{"base_url":"http://127.0.0.1:8690","user":"RECOUP_ISG","password":"p",
 "responsibility":"RECEIVABLES_MANAGER","resp_application":"AR","security_group":"STANDARD","nls_language":"AMERICAN",
 "org_id":"204","resource":"100001234","aliases":{"notes":"my_notes"}}}`

const d365 = `{"erp":"dynamics-365","dynamics_365":{"base_url":"https://contoso.operations.dynamics.com",
 "token_url":"https://login.microsoftonline.com/t/oauth2/v2.0/token","client_id":"app","client_secret":"s","company":"usmf"}}`

func TestParseAndOpen(t *testing.T) {
	tests := []struct {
		name, doc string
		want      string // substring of the error; "" opens an adapter
	}{
		{"ebs", ebs, ""},
		{"dynamics", d365, ""},
		{"dynamics section missing", `{"erp":"dynamics-365"}`, "dynamics_365 is missing"},
		{"both sections", strings.Replace(d365, `"dynamics_365"`, `"oracle_ebs":{},"dynamics_365"`, 1), "not both"},
		{"dynamics without a company", strings.Replace(d365, `,"company":"usmf"`, ``, 1), "Company"},
		{"no erp", `{}`, "erp is missing"},
		{"unknown erp", `{"erp":"sage"}`, `erp "sage" is not one`},
		{"section missing", `{"erp":"oracle-ebs"}`, "oracle_ebs is missing"},
		{"typo", `{"erp":"oracle-ebs","oracle_ebs":{"base_ulr":"x"}}`, `unknown field "base_ulr"`},
		{"trailing", ebs + `{}`, "data after"},
		{"missing password", strings.Replace(ebs, `"password":"p",`, ``, 1), "missing Password"},
		{"bad alias", strings.Replace(ebs, `"notes":"my_notes"`, `"letters":"x"`, 1), "aliases.letters is not a service"},
		{"negative timeout", strings.Replace(ebs, `"org_id"`, `"timeout_seconds":-1,"org_id"`, 1), "timeout_seconds is negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.doc))
			if err == nil {
				var e interface{ Name() string }
				e, err = c.Open()
				if want := map[string]string{ERPOracleEBS: "oracle-ebs", ERPDynamics: "dynamics-365"}[c.ERP]; err == nil && e.Name() != want {
					t.Errorf("adapter %s", e.Name())
				}
			}
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(ebs))
	f.Add([]byte(`{"erp":"oracle-ebs","oracle_ebs":{}}`))
	f.Add([]byte(d365))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			return
		}
		if (c.ERP != ERPOracleEBS || c.OracleEBS == nil) && (c.ERP != ERPDynamics || c.Dynamics == nil) {
			t.Fatalf("accepted a document naming no usable ERP: %+v", c)
		}
		_, _ = c.Open()
	})
}

func TestCheckEndpoint(t *testing.T) {
	tests := []struct {
		name, doc, endpoint string
		ok                  bool
	}{
		{"same", d365, "https://contoso.operations.dynamics.com", true},
		{"case and trailing slash", d365, "HTTPS://Contoso.Operations.Dynamics.com/", true},
		{"ebs with port", ebs, "http://127.0.0.1:8690", true},
		{"another host", d365, "https://evil.example.com", false},
		{"another port", ebs, "http://127.0.0.1:8691", false},
		{"another scheme", d365, "http://contoso.operations.dynamics.com", false},
		{"a path added", d365, "https://contoso.operations.dynamics.com/x", false},
		{"the default port spelt out", d365, "https://contoso.operations.dynamics.com:443", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			err = c.CheckEndpoint(tc.endpoint)
			if (err == nil) != tc.ok {
				t.Errorf("CheckEndpoint(%q) = %v, want ok %v", tc.endpoint, err, tc.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "base_url") {
				t.Errorf("error %q does not name base_url", err)
			}
		})
	}
	// A base_url that is not a URL never matches, even the same text.
	bad, err := Parse([]byte(strings.Replace(d365, "https://contoso.operations.dynamics.com", "http://[::1", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if err := bad.CheckEndpoint("http://[::1"); err == nil || !strings.Contains(err.Error(), "base_url") {
		t.Errorf("CheckEndpoint of an unparsable base_url = %v, want a refusal naming base_url", err)
	}
	// Credentials in a URL never reach the message.
	c, err := Parse([]byte(strings.Replace(d365, "https://contoso", "https://user:hunter2@contoso", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckEndpoint("https://other.example"); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("CheckEndpoint = %v, want a refusal without the password", err)
	}
}
