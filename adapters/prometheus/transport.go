package prometheus

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"

	"github.com/prometheus/common/config"
)

// MaxResponseBytes bounds one query response. A policy's 100-pod vector is tens of KiB;
// a body past this is a runaway query (no by (pod), a wrong selector) or a broken proxy.
const MaxResponseBytes = 16 << 20

// newTransport is the one connection pool every query shares, built by prometheus/common
// as Prometheus builds its own clients:
//   - the controller-wide bearer token; a token file is read at every request, so a
//     rotated projected ServiceAccount token or mounted Secret is used without a restart;
//   - TLS with the CA file, re-read when it changes; InsecureSkipVerify is the operator's
//     explicit choice (a lab, a self-signed proxy);
//   - the proxy from HTTPS_PROXY, HTTP_PROXY and NO_PROXY.
//
// Redirects are the http.Client's business (connect follows up to 10); the token is
// never sent to another host than the one asked.
func newTransport(cfg Config) (http.RoundTripper, error) {
	hc := config.HTTPClientConfig{
		BearerToken:     config.Secret(cfg.BearerToken),
		BearerTokenFile: cfg.BearerTokenFile,
		TLSConfig: config.TLSConfig{
			CAFile:             cfg.CAFile,
			InsecureSkipVerify: cfg.InsecureSkipVerify,
			MinVersion:         config.TLSVersion(tls.VersionTLS12),
		},
		EnableHTTP2: true,
		ProxyConfig: config.ProxyConfig{ProxyFromEnvironment: true},
	}
	// Validate refuses a token and a token file together, and turns either into an
	// Authorization.
	if err := hc.Validate(); err != nil {
		return nil, fmt.Errorf("prometheus client settings: %w", err)
	}
	if a := hc.Authorization; a != nil && a.CredentialsFile != "" {
		// Fail at start, not at the first query, when the file is not there.
		if _, err := config.NewFileSecret(a.CredentialsFile).Fetch(context.Background()); err != nil {
			return nil, fmt.Errorf("reading bearer token file: %w", err)
		}
	}
	rt, err := config.NewRoundTripperFromConfig(hc, "prometheus")
	if err != nil {
		return nil, fmt.Errorf("prometheus client settings: %w", err)
	}
	return rt, nil
}

// withToken sends a policy's own token instead of the controller-wide one.
func withToken(rt http.RoundTripper, token string) http.RoundTripper {
	return config.NewAuthorizationCredentialsRoundTripper("Bearer", config.NewInlineSecret(token), rt)
}

// limitBody bounds every response body to limit bytes.
type limitBody struct {
	next  http.RoundTripper
	limit int64
}

func (rt limitBody) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := rt.next.RoundTrip(req)
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
