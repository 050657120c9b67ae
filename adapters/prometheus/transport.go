package prometheus

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// MaxResponseBytes bounds one query response. A policy's 100-pod vector is tens of KiB;
// a body past this is a runaway query (no by (pod), a wrong selector) or a broken proxy.
const MaxResponseBytes = 16 << 20

// newTransport is the one connection pool every query shares.
func newTransport(caFile string, insecure bool, timeout time.Duration) (*http.Transport, error) {
	// InsecureSkipVerify is the operator's explicit choice (a lab, a self-signed proxy).
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("reading CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", caFile)
		}
		tlsConfig.RootCAs = pool
	}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsConfig,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		IdleConnTimeout:       90 * time.Second,
		// A read sends one query per metric key at once.
		MaxIdleConnsPerHost: 16,
		ForceAttemptHTTP2:   true,
	}, nil
}

// tokenSource gives the bearer token for one request; "" sends none.
type tokenSource func() (string, error)

// staticToken always gives the same token.
func staticToken(token string) tokenSource {
	return func() (string, error) { return token, nil }
}

// fileToken reads the file at every request, so a rotated token (a projected service
// account token, a mounted Secret) is picked up without a restart.
func fileToken(path string) tokenSource {
	return func() (string, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("reading bearer token file: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
}

// roundTripper adds the bearer token and bounds the response body.
type roundTripper struct {
	base  http.RoundTripper
	token tokenSource
	limit int64
}

func (rt *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if rt.token != nil {
		token, err := rt.token()
		if err != nil {
			return nil, err
		}
		if token != "" {
			req = req.Clone(req.Context()) // a RoundTripper must not change the caller's request
			req.Header.Set("Authorization", "Bearer "+token)
		}
	}
	resp, err := rt.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > rt.limit {
		resp.Body.Close()
		return nil, fmt.Errorf("%w: Content-Length %d is over %d bytes", ErrResponseTooLarge, resp.ContentLength, rt.limit)
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, limit: rt.limit, left: rt.limit}
	return resp, nil
}

// limitedBody fails the read, rather than truncating it, once more than limit bytes came:
// a truncated body could still decode into a shorter, wrong answer.
type limitedBody struct {
	io.ReadCloser
	limit, left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, fmt.Errorf("%w: over %d bytes", ErrResponseTooLarge, b.limit)
	}
	// Read one byte past the limit to tell "exactly limit" from "more".
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return 0, fmt.Errorf("%w: over %d bytes", ErrResponseTooLarge, b.limit)
	}
	return n, err
}
