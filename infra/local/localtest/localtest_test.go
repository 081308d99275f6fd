package localtest

import "testing"

func TestLoopback(t *testing.T) {
	tests := map[string]bool{
		"http://127.0.0.1:8100":                    true,
		"http://localhost:4566":                    true,
		"http://[::1]:9001":                        true,
		"https://dynamodb.us-east-1.amazonaws.com": false,
		"http://10.0.0.5:8000":                     false,
		"::not a url":                              false,
	}
	for in, want := range tests {
		if got := loopback(in); got != want {
			t.Errorf("loopback(%q) = %v, want %v", in, got, want)
		}
	}
}
