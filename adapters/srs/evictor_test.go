package srs

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/streamscaler/streamscaler/adapters/podhttp"
)

// Players first in SRS's order, then the two publishers (clients.json).
var kickOrder = []string{
	"/api/v1/clients/0p4d7s2m", // rtmp-play
	"/api/v1/clients/3h8q2w6e", // flv-play
	"/api/v1/clients/5t1y7u3i", // hls-play
	"/api/v1/clients/7g2k9l4z", // rtc-play
	"/api/v1/clients/9x6c3v8b", // flv-play
	"/api/v1/clients/1f3a9k2d", // fmle-publish
	"/api/v1/clients/c8v2n5t0", // rtc-publish
}

func newEvictor(t *testing.T, fake *fakeSRS, cfg EvictorConfig) *Evictor {
	t.Helper()
	srv := fake.serve(t)
	if cfg.Address == nil {
		cfg.Address = addresses(map[string]string{"edge-3": srv.Listener.Addr().String()}, nil)
	}
	if cfg.Pause == 0 {
		cfg.Pause = -1
	}
	e, err := NewEvictor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.pageSize = 3 // clients.json takes three pages
	return e
}

func TestEvictKicksPlayersBeforePublishersAndPausesBetween(t *testing.T) {
	const pause = 25 * time.Millisecond
	fake := newFakeSRS(t)
	e := newEvictor(t, fake, EvictorConfig{Pause: pause})

	n, err := e.Evict(context.Background(), nil, pod("edge-3", "10.0.0.3"), 7)
	if err != nil || n != 7 {
		t.Fatalf("got %d, %v; want 7 kicked", n, err)
	}
	paths, at := fake.kicks()
	if !reflect.DeepEqual(paths, kickOrder) {
		t.Fatalf("kicked\n%v\nwant\n%v", paths, kickOrder)
	}
	for i := 1; i < len(at); i++ {
		if gap := at[i].Sub(at[i-1]); gap < pause {
			t.Errorf("kick %d came %v after kick %d; the pause is %v", i, gap, i-1, pause)
		}
	}
	wantGets := []string{"/api/v1/clients/?start=0&count=3", "/api/v1/clients/?start=3&count=3", "/api/v1/clients/?start=6&count=3"}
	if g := fake.gets(); !reflect.DeepEqual(g, wantGets) {
		t.Fatalf("listing %v, want %v", g, wantGets)
	}
}

func TestEvictToleratesClientsAlreadyGone(t *testing.T) {
	fake := newFakeSRS(t)
	fake.kick = func(id string) (int, []byte) {
		switch id {
		case "0p4d7s2m": // left between the listing and the kick: SRS's own answer
			return http.StatusOK, recorded(t, "kick_not_found.json")
		case "1f3a9k2d": // or a proxy in front of it says so
			return http.StatusNotFound, []byte("Not Found")
		}
		return http.StatusOK, recorded(t, "kick_ok.json")
	}
	e := newEvictor(t, fake, EvictorConfig{})

	n, err := e.Evict(context.Background(), nil, pod("edge-3", "10.0.0.3"), 7)
	if err != nil || n != 5 {
		t.Fatalf("got %d, %v; want 5 kicked and no error", n, err)
	}
	if paths, _ := fake.kicks(); !reflect.DeepEqual(paths, kickOrder) {
		t.Fatalf("kicked %v, want all of %v", paths, kickOrder)
	}
}

func TestEvictStopsAtTheFirstFailure(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		want   error
	}{
		{"HTTP 500", http.StatusInternalServerError, "oops", ErrStatus},
		{"an SRS error code", http.StatusOK, `{"code":400}`, ErrCode},
		{"garbage", http.StatusOK, "<html></html>", ErrBadResponse},
		{"an answer without a code", http.StatusOK, `{"server":"vid-0x19kr2"}`, ErrBadResponse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFakeSRS(t)
			fake.kick = func(id string) (int, []byte) {
				if id == "5t1y7u3i" {
					return tc.status, []byte(tc.body)
				}
				return http.StatusOK, recorded(t, "kick_ok.json")
			}
			e := newEvictor(t, fake, EvictorConfig{})

			n, err := e.Evict(context.Background(), nil, pod("edge-3", "10.0.0.3"), 7)
			if n != 2 || !errors.Is(err, tc.want) {
				t.Fatalf("got %d, %v; want 2 kicked and %v", n, err, tc.want)
			}
			if paths, _ := fake.kicks(); !reflect.DeepEqual(paths, kickOrder[:3]) {
				t.Fatalf("kicked %v; nothing after the failure", paths)
			}
		})
	}
}

func TestEvictBoundsTheClientsItKicks(t *testing.T) {
	fake := newFakeSRS(t)
	e := newEvictor(t, fake, EvictorConfig{MaxClients: 4})

	n, err := e.Evict(context.Background(), nil, pod("edge-3", "10.0.0.3"), 7)
	if n != 4 || !errors.Is(err, ErrListTooLong) {
		t.Fatalf("got %d, %v; want 4 kicked and ErrListTooLong so that the caller retries", n, err)
	}
	// The first four listed, players first among them.
	want := []string{"/api/v1/clients/0p4d7s2m", "/api/v1/clients/3h8q2w6e", "/api/v1/clients/5t1y7u3i", "/api/v1/clients/1f3a9k2d"}
	if paths, _ := fake.kicks(); !reflect.DeepEqual(paths, want) {
		t.Fatalf("kicked %v, want %v", paths, want)
	}
}

func TestEvictFailsWithoutKickingWhenItCannotList(t *testing.T) {
	fake := newFakeSRS(t)
	fake.clients = recordedList{key: "clients", envelope: map[string]json.RawMessage{"code": json.RawMessage("100")}} // as errors.json
	e := newEvictor(t, fake, EvictorConfig{})
	n, err := e.Evict(context.Background(), nil, pod("edge-3", "10.0.0.3"), 7)
	if n != 0 || !errors.Is(err, ErrCode) {
		t.Fatalf("got %d, %v", n, err)
	}
	if paths, _ := fake.kicks(); len(paths) != 0 {
		t.Fatalf("kicked %v", paths)
	}

	e = newEvictor(t, newFakeSRS(t), EvictorConfig{Address: podhttp.PodAddress})
	if n, err := e.Evict(context.Background(), nil, pod("edge-3", ""), 7); n != 0 || !errors.Is(err, ErrNoPodIP) {
		t.Fatalf("a pod without an IP: got %d, %v", n, err)
	}
}

func TestEvictStopsWhenCancelledDuringAPause(t *testing.T) {
	fake := newFakeSRS(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fake.kick = func(id string) (int, []byte) {
		time.AfterFunc(50*time.Millisecond, cancel) // once this kick is answered
		return http.StatusOK, recorded(t, "kick_ok.json")
	}
	e := newEvictor(t, fake, EvictorConfig{Pause: time.Hour})

	start := time.Now()
	n, err := e.Evict(ctx, nil, pod("edge-3", "10.0.0.3"), 7)
	if n != 1 || !errors.Is(err, context.Canceled) || time.Since(start) > 5*time.Second {
		t.Fatalf("got %d, %v after %v; want 1 kicked, then cancelled in the pause", n, err, time.Since(start))
	}
}

func TestEvictGivesEachRequestTheTimeout(t *testing.T) {
	ok := recorded(t, "kick_ok.json")
	kickTaking := func(d time.Duration) func(string) (int, []byte) {
		return func(string) (int, []byte) {
			time.Sleep(d)
			return http.StatusOK, ok
		}
	}
	t.Run("seven kicks of 100ms each within a 300ms timeout", func(t *testing.T) {
		fake := newFakeSRS(t)
		fake.kick = kickTaking(100 * time.Millisecond)
		e := newEvictor(t, fake, EvictorConfig{Timeout: 300 * time.Millisecond})
		if n, err := e.Evict(context.Background(), nil, pod("edge-3", "10.0.0.3"), 7); n != 7 || err != nil {
			t.Fatalf("got %d, %v; want all 7 kicked", n, err)
		}
	})
	t.Run("one kick slower than the timeout", func(t *testing.T) {
		fake := newFakeSRS(t)
		fake.kick = kickTaking(time.Second)
		e := newEvictor(t, fake, EvictorConfig{Timeout: 300 * time.Millisecond})
		if n, err := e.Evict(context.Background(), nil, pod("edge-3", "10.0.0.3"), 7); n != 0 || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %d, %v; want a deadline on the first kick", n, err)
		}
	})
}

func TestNewEvictorDefaults(t *testing.T) {
	e, err := NewEvictor(EvictorConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if e.cfg.Pause != DefaultPause || e.cfg.MaxClients != DefaultMaxClients || e.cfg.Timeout != DefaultTimeout {
		t.Fatalf("defaults %+v", e.cfg)
	}
	if _, err := NewEvictor(EvictorConfig{MaxClients: -1}); err == nil {
		t.Fatal("a negative bound was accepted")
	}
}
