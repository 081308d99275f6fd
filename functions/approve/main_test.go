package main

import (
	"strings"
	"testing"
)

func TestTenantFunc(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // substring; "" builds a TenantFunc
	}{
		{name: "local stack: unset", env: map[string]string{}},
		{name: "cognito", env: map[string]string{"RECOUP_API_AUTH": "cognito"}},
		{name: "cognito for one tenant", env: map[string]string{"RECOUP_API_AUTH": "cognito", "RECOUP_TENANT": "acme"}},
		{name: "a typo does not fall back to trusting the client", env: map[string]string{"RECOUP_API_AUTH": "cognitio"}, wantErr: "RECOUP_API_AUTH"},
		{name: "a tenant that is not one", env: map[string]string{"RECOUP_API_AUTH": "cognito", "RECOUP_TENANT": "a#b"}, wantErr: "RECOUP_TENANT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := tenantFunc(func(k string) string { return tc.env[k] })
			switch {
			case tc.wantErr == "" && (err != nil || f == nil):
				t.Fatalf("tenantFunc: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("tenantFunc error %v, want one naming %s", err, tc.wantErr)
			}
		})
	}
}
