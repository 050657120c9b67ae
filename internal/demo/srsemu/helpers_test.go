package srsemu

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// real returns a response recorded from SRS 7.0.18 (testdata/srs/real-7.0.18).
func real(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "srs", "real-7.0.18", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// clock is a settable time for the emulator.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

var (
	ipMu   sync.Mutex
	ipNext int
)

// loopbackIP gives each test server its own 127.x.y.z, varied by process so that two
// test runs on one machine do not collide on ports 1985 and 9972.
func loopbackIP() string {
	ipMu.Lock()
	defer ipMu.Unlock()
	ipNext++
	return fmt.Sprintf("127.%d.%d.%d", 100+os.Getpid()%100, (os.Getpid()/100)%250, ipNext)
}

// start runs an emulated SRS on a fresh loopback address until the test ends.
func start(t *testing.T, cfg Config) *Server {
	t.Helper()
	s, err := Start(loopbackIP(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// do sends one request and returns the status and body.
func do(t *testing.T, method, url string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}
