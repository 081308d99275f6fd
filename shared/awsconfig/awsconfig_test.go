package awsconfig

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestDynamoEndpoint(t *testing.T) {
	tests := []struct {
		env      map[string]string
		want     string
		loopback bool
	}{
		{map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8100"}, "http://127.0.0.1:8100", true},
		{map[string]string{"AWS_ENDPOINT_URL": "http://localhost:4566"}, "http://localhost:4566", true},
		{map[string]string{"AWS_ENDPOINT_URL": "http://[::1]:9001"}, "http://[::1]:9001", true},
		{map[string]string{"AWS_ENDPOINT_URL": "http://10.0.0.5:8000"}, "http://10.0.0.5:8000", false},
		{nil, "dynamodb.eu-west-1.amazonaws.com", false},
	}
	for _, tt := range tests {
		t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "")
		t.Setenv("AWS_ENDPOINT_URL", "")
		for k, v := range tt.env {
			t.Setenv(k, v)
		}
		got := DynamoEndpoint(aws.Config{Region: "eu-west-1"})
		if got != tt.want || IsLoopback(got) != tt.loopback {
			t.Errorf("DynamoEndpoint with %v = %q (loopback %v), want %q (%v)", tt.env, got, IsLoopback(got), tt.want, tt.loopback)
		}
	}
}

func TestS3PathStyle(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000"}, true},
		{map[string]string{"AWS_ENDPOINT_URL": "http://localhost:4566"}, true},
		{nil, false},
	}
	for _, tt := range tests {
		t.Setenv("AWS_ENDPOINT_URL_S3", "")
		t.Setenv("AWS_ENDPOINT_URL", "")
		for k, v := range tt.env {
			t.Setenv(k, v)
		}
		cfg, err := Load(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if got := S3(cfg).Options().UsePathStyle; got != tt.want {
			t.Errorf("S3 with %v: UsePathStyle %v, want %v", tt.env, got, tt.want)
		}
	}
}
