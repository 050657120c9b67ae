package podhttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Sentinels for why a request failed; match them with errors.Is.
var (
	// ErrNoPodIP: the pod has no IP yet, so it cannot be reached.
	ErrNoPodIP = errors.New("pod has no IP")
	// ErrBodyTooLarge: the answer was longer than the client's bound.
	ErrBodyTooLarge = errors.New("response body too large")
)

// PodAddress is the pod's IP and port as host:port (IPv6 in brackets).
func PodAddress(pod *corev1.Pod, port int) (string, error) {
	if pod.Status.PodIP == "" {
		return "", ErrNoPodIP
	}
	return net.JoinHostPort(pod.Status.PodIP, strconv.Itoa(port)), nil
}

// Client sends requests straight to pods. It is safe for concurrent use.
type Client struct {
	// http is direct (no proxy) and refuses redirects.
	http *http.Client
	// timeout bounds each request, its answer's body included; 0 leaves it to the caller's
	// context.
	timeout time.Duration
	// maxBody bounds each answer's body.
	maxBody int64
}

// New returns a Client whose requests each take at most timeout (0: only the request's
// context bounds them) and whose answers may hold at most maxBody bytes.
func New(timeout time.Duration, maxBody int64) *Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	return &Client{
		http: &http.Client{
			Transport: t,
			// The 3xx itself is the answer: the caller sees a status that is not 2xx.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		timeout: timeout,
		maxBody: maxBody,
	}
}

// Do sends req and returns the answer's status and body, whatever the status. A body
// longer than the bound is an error wrapping ErrBodyTooLarge.
func (c *Client) Do(req *http.Request) (int, []byte, error) {
	if c.timeout > 0 {
		ctx, cancel := context.WithTimeout(req.Context(), c.timeout)
		defer cancel()
		req = req.WithContext(ctx)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := ReadBody(resp.Body, c.maxBody)
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("reading the answer to %s %s: %w", req.Method, req.URL.Path, err)
	}
	return resp.StatusCode, body, nil
}

// ReadBody reads all of r, failing rather than truncating when it holds more than limit
// bytes: a cut JSON body could still decode into a shorter, wrong answer.
func ReadBody(r io.Reader, limit int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, limit)
	}
	return body, nil
}
