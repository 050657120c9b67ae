package httphook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/streamscaler/streamscaler/adapters/podhttp"
	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

// Defaults of Config.
const (
	DefaultPath    = "/streamscaler/evict"
	DefaultTimeout = 10 * time.Second
	DefaultMaxBody = 64 << 10
)

// Sentinels for why a hook call failed; match them with errors.Is.
var (
	// ErrNoPodIP: the pod has no IP, so its hook cannot be reached.
	ErrNoPodIP = podhttp.ErrNoPodIP
	// ErrStatus: the hook answered a non-2xx status.
	ErrStatus = errors.New("unexpected HTTP status")
	// ErrBodyTooLarge: the answer was longer than MaxBody.
	ErrBodyTooLarge = podhttp.ErrBodyTooLarge
	// ErrBadResponse: the answer was not {"moved": n} with a plausible n.
	ErrBadResponse = errors.New("bad hook response")
)

// Config configures Evictor.
type Config struct {
	// Port the hook listens on in the pod; required.
	Port int
	// Path of the hook, default /streamscaler/evict.
	Path string
	// Timeout bounds the whole call, default 10s: moving streams may take a while.
	Timeout time.Duration
	// MaxBody bounds the answer, default 64 KiB.
	MaxBody int64
	// Address maps a pod to the host:port of its hook, default podhttp.PodAddress.
	Address func(pod *corev1.Pod, port int) (string, error)
}

// Evictor calls the pod's hook.
type Evictor struct {
	cfg Config
	// client bounds each call by Timeout and its answer by MaxBody.
	client *podhttp.Client
}

// New checks Config and fills in its defaults.
func New(cfg Config) (*Evictor, error) {
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("configuring the HTTP hook evictor: port %d is not in 1-65535", cfg.Port)
	}
	if cfg.Timeout < 0 || cfg.MaxBody < 0 {
		return nil, fmt.Errorf("configuring the HTTP hook evictor: negative timeout or body bound")
	}
	if cfg.Path == "" {
		cfg.Path = DefaultPath
	}
	if cfg.Path[0] != '/' {
		return nil, fmt.Errorf("configuring the HTTP hook evictor: path %q does not start with /", cfg.Path)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Address == nil {
		cfg.Address = podhttp.PodAddress
	}
	return &Evictor{cfg: cfg, client: podhttp.New(cfg.Timeout, cfg.MaxBody)}, nil
}

// request is the body sent to the hook.
type request struct {
	Policy      string `json:"policy"`
	Pod         string `json:"pod"`
	StreamsLeft int    `json:"streamsLeft"`
}

// Evict asks the pod's hook to move its streams and returns how many it says it moved.
func (e *Evictor) Evict(ctx context.Context, policy *v1alpha1.ScalingPolicy, pod *corev1.Pod, streamsLeft int) (int, error) {
	streamsLeft = max(streamsLeft, 0)
	moved, err := e.call(ctx, policy, pod, streamsLeft)
	if err != nil {
		return 0, fmt.Errorf("calling the eviction hook of pod %s: %w", pod.Name, err)
	}
	return moved, nil
}

func (e *Evictor) call(ctx context.Context, policy *v1alpha1.ScalingPolicy, pod *corev1.Pod, streamsLeft int) (int, error) {
	addr, err := e.cfg.Address(pod, e.cfg.Port)
	if err != nil {
		return 0, err
	}
	req := request{Pod: pod.Name, StreamsLeft: streamsLeft}
	if policy != nil {
		req.Policy = policy.Namespace + "/" + policy.Name
	}
	body, err := json.Marshal(req)
	if err != nil {
		return 0, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+e.cfg.Path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	hr.Header.Set("Content-Type", "application/json")
	status, answer, err := e.client.Do(hr)
	if err != nil {
		return 0, err
	}
	if status/100 != 2 {
		return 0, fmt.Errorf("%w: POST %s answered %d", ErrStatus, e.cfg.Path, status)
	}
	return parseMoved(answer, streamsLeft)
}

// parseMoved reads {"moved": n}: a whole number from 0 to streamsLeft*10+1000. More
// than that is no count of this pod's streams but a bug in the hook, and would
// mislead the eviction record.
func parseMoved(answer []byte, streamsLeft int) (int, error) {
	var r struct {
		Moved json.RawMessage `json:"moved"`
	}
	if err := json.Unmarshal(answer, &r); err != nil {
		return 0, fmt.Errorf("%w: %v", ErrBadResponse, err)
	}
	if len(r.Moved) == 0 || string(r.Moved) == "null" {
		return 0, fmt.Errorf("%w: no moved", ErrBadResponse)
	}
	// A JSON number only: json.Number alone would also take "12" in quotes.
	n, err := strconv.ParseInt(string(r.Moved), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: moved %.40s is not a whole number", ErrBadResponse, r.Moved)
	}
	limit := int64(min(streamsLeft, math.MaxInt32))*10 + 1000
	if n < 0 || n > limit {
		return 0, fmt.Errorf("%w: moved %d is outside 0-%d for %d streams left", ErrBadResponse, n, limit, streamsLeft)
	}
	return int(n), nil
}
