package snsverify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// HTTPFetcher fetches over https with a short timeout, no redirects and a
// size cap: the URLs are checked to be SNS's before fetching, and a
// redirect would leave that check behind.
type HTTPFetcher struct {
	Client *http.Client
}

// NewHTTPFetcher returns a fetcher with a 5-second timeout.
func NewHTTPFetcher() *HTTPFetcher {
	return &HTTPFetcher{Client: &http.Client{
		Timeout:       5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// maxFetch bounds a certificate or confirmation response.
const maxFetch = 64 << 10

// Fetch implements Fetcher. A 4xx answer wraps ErrNotFound.
func (f *HTTPFetcher) Fetch(ctx context.Context, url string) ([]byte, error) {
	if _, err := CheckURL(url); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := f.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch from SNS: %w", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		return nil, fmt.Errorf("SNS answered %d: %w", resp.StatusCode, ErrNotFound)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("SNS answered %d", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxFetch+1))
	if err != nil {
		return nil, fmt.Errorf("read from SNS: %w", err)
	}
	if len(b) > maxFetch {
		return nil, errors.New("SNS response over 64 KiB")
	}
	return b, nil
}
