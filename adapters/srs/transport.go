package srs

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/streamscaler/streamscaler/adapters/podhttp"
	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

// apiPort is the policy's metricsSource.srs.port, else def, else 1985. The evictor uses
// it too: it kicks through the same API the source reads.
func apiPort(policy *v1alpha1.ScalingPolicy, def int) int {
	if policy != nil && policy.Spec.MetricsSource != nil && policy.Spec.MetricsSource.SRS != nil && policy.Spec.MetricsSource.SRS.Port > 0 {
		return int(policy.Spec.MetricsSource.SRS.Port)
	}
	if def > 0 {
		return def
	}
	return int(v1alpha1.DefaultSRSPort)
}

// api makes requests to one SRS HTTP API at a time.
type api struct{ client *podhttp.Client }

// do sends one request and returns the status and the (bounded) answer.
func (a api) do(ctx context.Context, method, addr, path string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://"+addr+path, nil)
	if err != nil {
		return 0, nil, err
	}
	return a.client.Do(req)
}

// get returns the body of a 2xx answer.
func (a api) get(ctx context.Context, addr, path string) ([]byte, error) {
	status, body, err := a.do(ctx, http.MethodGet, addr, path)
	if err != nil {
		return nil, err
	}
	if status/100 != 2 {
		return nil, fmt.Errorf("%w: GET %s answered %d", ErrStatus, path, status)
	}
	return body, nil
}

// list reads a paged list (/api/v1/clients/ or /api/v1/streams/) from start 0 until a
// short page, the reported total, or a page with nothing new (an SRS that ignores
// paging answers everything every time). Entries that move between pages while clients
// come and go are counted once, by id. It keeps at most max entries; truncated says
// there were more.
func list[T any](ctx context.Context, a api, addr, path string, pageSize, max int, parse func([]byte) (page[T], error), id func(T) string) (items []T, truncated bool, err error) {
	seen := map[string]bool{}
	for start := 0; ; {
		q := path + "?start=" + strconv.Itoa(start) + "&count=" + strconv.Itoa(pageSize)
		body, err := a.get(ctx, addr, q)
		if err != nil {
			return nil, false, err
		}
		p, err := parse(body)
		if err != nil {
			return nil, false, fmt.Errorf("GET %s: %w", q, err)
		}
		fresh := 0
		for _, it := range p.items {
			k := id(it)
			if seen[k] {
				continue
			}
			if len(items) == max {
				return items, true, nil
			}
			seen[k] = true
			items = append(items, it)
			fresh++
		}
		start += len(p.items)
		if len(p.items) < pageSize || fresh == 0 || (p.total >= 0 && start >= p.total) {
			return items, false, nil
		}
	}
}

func clientID(c client) string { return c.id }
func streamID(s stream) string { return s.id }

// fillConnection sets the defaults the source and the evictor share: how long a pod
// may take, how much it may send and where its API is.
func fillConnection(timeout *time.Duration, maxBody *int64, address *func(*corev1.Pod, int) (string, error)) {
	if *timeout == 0 {
		*timeout = DefaultTimeout
	}
	if *maxBody == 0 {
		*maxBody = DefaultMaxBody
	}
	if *address == nil {
		*address = podhttp.PodAddress
	}
}
