package secrets

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// fakeSecrets answers GetSecretValue as Secrets Manager's JSON 1.1
// protocol does, after checking the request is shaped like the real one.
func fakeSecrets(t *testing.T, secrets map[string]map[string]any) *secretsmanager.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var in map[string]any
		switch {
		case r.Method != http.MethodPost || r.URL.Path != "/":
			t.Errorf("request %s %s", r.Method, r.URL.Path)
		case r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue":
			t.Errorf("target %q", r.Header.Get("X-Amz-Target"))
		case r.Header.Get("Content-Type") != "application/x-amz-json-1.1":
			t.Errorf("content type %q", r.Header.Get("Content-Type"))
		case !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") || !strings.Contains(r.Header.Get("Authorization"), "/secretsmanager/aws4_request"):
			t.Errorf("not signed for secretsmanager: %q", r.Header.Get("Authorization"))
		case json.Unmarshal(body, &in) != nil:
			t.Errorf("body %q", body)
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		out, ok := secrets[in["SecretId"].(string)]
		if !ok || len(in) != 1 {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}`))
			return
		}
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(srv.Close)
	return secretsmanager.New(secretsmanager.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")})
}

func TestGet(t *testing.T) {
	api := fakeSecrets(t, map[string]map[string]any{
		"recoup/erp":    {"ARN": "arn:aws:secretsmanager:us-east-1:1:secret:recoup/erp-abc", "Name": "recoup/erp", "SecretString": `{"erp":"oracle-ebs"}`},
		"recoup/binary": {"ARN": "arn:aws:secretsmanager:us-east-1:1:secret:recoup/binary-abc", "Name": "recoup/binary", "SecretBinary": "AAEC"},
	})
	tests := []struct{ id, want, err string }{
		{"recoup/erp", `{"erp":"oracle-ebs"}`, ""},
		{"recoup/binary", "", "holds binary data"},
		{"recoup/missing", "", "ResourceNotFoundException"},
		{"", "", "no secret id"},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			got, err := Get(context.Background(), api, tc.id)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("got %q, %v", got, err)
			}
		})
	}
}
