package handler_test

import (
	"context"
	"os"
	"testing"
)

// FuzzHandleRequest: any body on any route is answered (never a panic),
// and only with a status the handler documents; with healthy dependencies
// never a 5xx, and nothing unverified is published.
func FuzzHandleRequest(f *testing.F) {
	for _, p := range []string{"../ses/testdata/delivery.json", "../connect/testdata/disconnected.json",
		"../snsverify/testdata/notification.json"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add("/webhooks/ses", b)
		f.Add("/webhooks/connect", b)
	}
	r := newRig(f)
	f.Fuzz(func(t *testing.T, path string, body []byte) {
		r.pub.got, r.pub.keys, r.dl.letters = nil, nil, nil
		req := post(path, body)
		req.Headers["X-Recoup-Webhook-Key"] = key
		resp, err := r.h.HandleRequest(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		switch resp.StatusCode {
		case 200, 400, 403, 404:
		default:
			t.Fatalf("status %d for %q", resp.StatusCode, body)
		}
		if path != "/webhooks/connect" && len(r.pub.got) > 0 {
			t.Fatalf("published from an unsigned SNS body: %q", body)
		}
	})
}
