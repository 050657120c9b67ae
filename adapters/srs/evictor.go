package srs

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"

	"github.com/streamscaler/streamscaler/adapters/podhttp"
	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

// EvictorConfig configures Evictor.
type EvictorConfig struct {
	// Port of the SRS HTTP API, default 1985; a policy's metricsSource.srs.port overrides it.
	Port int
	// Timeout bounds each request (a page of the list, or one kick), default 2s.
	Timeout time.Duration
	// Pause between two kicks, default 100ms, so that the players who reconnect do not
	// all arrive on the other pods in the same instant; negative means none.
	Pause time.Duration
	// MaxClients bounds the clients listed and kicked in one Evict, default 10000.
	MaxClients int
	// MaxBody bounds each response, default 4 MiB.
	MaxBody int64
	// Address maps a pod to the host:port of its SRS HTTP API, default
	// podhttp.PodAddress.
	Address func(pod *corev1.Pod, port int) (string, error)
}

// Evictor kicks the clients left on a pod through DELETE /api/v1/clients/{id}: players
// first, so that they reconnect to other pods while their stream still has its
// publisher here, and publishers last.
type Evictor struct {
	cfg      EvictorConfig
	api      api
	pageSize int
}

// NewEvictor fills in EvictorConfig's defaults.
func NewEvictor(cfg EvictorConfig) (*Evictor, error) {
	if cfg.Port < 0 || cfg.Port > 65535 || cfg.Timeout < 0 || cfg.MaxClients < 0 || cfg.MaxBody < 0 {
		return nil, fmt.Errorf("configuring the SRS evictor: negative or out-of-range setting in %+v", cfg)
	}
	fillConnection(&cfg.Timeout, &cfg.MaxBody, &cfg.Address)
	if cfg.Pause == 0 {
		cfg.Pause = DefaultPause
	}
	if cfg.MaxClients == 0 {
		cfg.MaxClients = DefaultMaxClients
	}
	return &Evictor{cfg: cfg, api: api{podhttp.New(cfg.Timeout, cfg.MaxBody)}, pageSize: defaultPageSize}, nil
}

// Evict lists every client of the pod's SRS and kicks them, players before publishers,
// pausing between kicks. It returns how many kicks took effect: a client already gone
// (HTTP 404, or SRS code 2049) is neither counted nor an error. Any other failure stops
// it with the count so far. With more than MaxClients clients it kicks MaxClients and
// then fails with ErrListTooLong, so that the caller retries rather than delete a pod
// that still carries streams. streamsLeft is not used: SRS's own list is the truth.
func (e *Evictor) Evict(ctx context.Context, policy *v1alpha1.ScalingPolicy, pod *corev1.Pod, _ int) (int, error) {
	log := logr.FromContextOrDiscard(ctx).WithValues("pod", klog.KObj(pod))
	addr, err := e.cfg.Address(pod, apiPort(policy, e.cfg.Port))
	if err != nil {
		return 0, fmt.Errorf("kicking the SRS clients of pod %s: %w", pod.Name, err)
	}

	// 1. List every client, each page within Timeout.
	clients, truncated, err := list(ctx, e.api, addr, pathClients, e.pageSize, e.cfg.MaxClients, parseClients, clientID)
	if err != nil {
		return 0, fmt.Errorf("listing the SRS clients of pod %s: %w", pod.Name, err)
	}

	// 2. Players first, publishers last, each group in SRS's order.
	order := make([]client, 0, len(clients))
	for _, c := range clients {
		if !c.publisher {
			order = append(order, c)
		}
	}
	for _, c := range clients {
		if c.publisher {
			order = append(order, c)
		}
	}

	// 3. Kick one by one, pausing in between.
	kicked, gone := 0, 0
	for i, c := range order {
		if i > 0 && e.cfg.Pause > 0 {
			t := time.NewTimer(e.cfg.Pause)
			select {
			case <-ctx.Done():
				t.Stop()
				return kicked, fmt.Errorf("kicking the SRS clients of pod %s: %w", pod.Name, ctx.Err())
			case <-t.C:
			}
		}
		ok, err := e.kick(ctx, addr, c.id)
		if err != nil {
			return kicked, fmt.Errorf("kicking SRS client %s of pod %s: %w", c.id, pod.Name, err)
		}
		if ok {
			kicked++
		} else {
			gone++
		}
	}
	log.V(1).Info("Kicked the SRS clients", "kicked", kicked, "alreadyGone", gone, "listed", len(clients))
	if truncated {
		return kicked, fmt.Errorf("kicking the SRS clients of pod %s: %w: kicked the first %d", pod.Name, ErrListTooLong, e.cfg.MaxClients)
	}
	return kicked, nil
}

// kick deletes one client within Timeout; false means it was already gone.
func (e *Evictor) kick(ctx context.Context, addr, id string) (bool, error) {
	path := pathClients + url.PathEscape(id)
	status, body, err := e.api.do(ctx, http.MethodDelete, addr, path)
	switch {
	case err != nil:
		return false, err
	case status == http.StatusNotFound:
		return false, nil
	case status/100 != 2:
		return false, fmt.Errorf("%w: DELETE %s answered %d", ErrStatus, path, status)
	}
	code, err := parseCode(body)
	switch {
	case err != nil:
		return false, fmt.Errorf("DELETE %s: %w", path, err)
	case code == codeClientNotFound:
		return false, nil
	case code != 0:
		return false, fmt.Errorf("DELETE %s: %w %d", path, ErrCode, code)
	}
	return true, nil
}
