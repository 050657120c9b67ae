package srsemu

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func TestStartRefusesAnythingButIPv4Loopback(t *testing.T) {
	for _, ip := range []string{"10.0.0.1", "0.0.0.0", "", "localhost", "::1", "::ffff:127.0.0.1", "127.0.0.1:1985", "128.0.0.1", "192.168.1.1"} {
		if s, err := Start(ip, Config{}); !errors.Is(err, ErrNotLoopback) {
			if s != nil {
				s.Stop()
			}
			t.Errorf("Start(%q): %v, want ErrNotLoopback", ip, err)
		}
	}
}

func TestStopClosesBothPorts(t *testing.T) {
	s, err := Start(loopbackIP(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: time.Second}
	for _, url := range []string{"http://" + s.APIAddr() + "/api/v1/versions", "http://" + s.ExporterAddr() + "/metrics"} {
		if resp, err := c.Get(url); err == nil {
			resp.Body.Close()
			t.Errorf("%s still answers after Stop", url)
		}
	}
}

// clientsPage lists the clients of one page.
func clientsPage(t *testing.T, s *Server, query string) []string {
	t.Helper()
	_, body := do(t, http.MethodGet, "http://"+s.APIAddr()+"/api/v1/clients/"+query)
	var r struct {
		Clients []struct{ ID string } `json:"clients"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, c := range r.Clients {
		ids = append(ids, c.ID)
	}
	return ids
}

func TestListsPageLikeSRS7018(t *testing.T) {
	s := start(t, Config{})
	for i := range 15 {
		if _, err := s.AddClient(Client{ID: fmt.Sprintf("c%07d", i), Stream: "s1", BitrateBps: 1e6}); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		query       string
		first, size int
	}{
		{"", 0, 10},                    // no count: 10
		{"?start=0&count=1", 0, 10},    // count below 10: 10 (the recording: 3 of 3 for count=1)
		{"?start=10&count=10", 10, 5},  // the rest
		{"?start=5&count=1000", 5, 10}, // all from 5
		{"?start=99&count=10", 0, 0},   // past the end: empty
	}
	for _, tc := range cases {
		got := clientsPage(t, s, tc.query)
		if len(got) != tc.size || (tc.size > 0 && got[0] != fmt.Sprintf("c%07d", tc.first)) {
			t.Errorf("%q: got %v, want %d from c%07d", tc.query, got, tc.size, tc.first)
		}
	}
}

func TestKickRemovesAtOnceAndUnknownIDsAnswer2049(t *testing.T) {
	kicked := make(chan Client, 1)
	s := start(t, Config{OnKick: func(c Client) { kicked <- c }})
	id, err := s.AddClient(Client{Stream: "s1", BitrateBps: 1e6})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddClient(Client{ID: id, Stream: "s1"}); !errors.Is(err, ErrDuplicateID) {
		t.Fatalf("a second client %s: %v, want ErrDuplicateID", id, err)
	}
	status, body := do(t, http.MethodDelete, "http://"+s.APIAddr()+"/api/v1/clients/"+id)
	if status != http.StatusOK || !bytes.Contains(body, []byte(`"code":0`)) {
		t.Fatalf("kick: HTTP %d %s", status, body)
	}
	select {
	case c := <-kicked:
		if c.ID != id {
			t.Fatalf("told of %s, want %s", c.ID, id)
		}
	default:
		t.Fatal("the owner was not told by the time the kick answered")
	}
	if ids := clientsPage(t, s, ""); len(ids) != 0 {
		t.Fatalf("kicked client still listed: %v", ids)
	}
	status, body = do(t, http.MethodDelete, "http://"+s.APIAddr()+"/api/v1/clients/"+id)
	if status != http.StatusOK || string(body) != `{"code":2049}` {
		t.Fatalf("second kick: HTTP %d %s, want 200 {\"code\":2049}", status, body)
	}
	if s.RemoveClient(id) {
		t.Fatal("RemoveClient found a kicked client")
	}
}

// scrape reads the exporter's counters and gauges by name.
func scrape(t *testing.T, s *Server) map[string]float64 {
	t.Helper()
	_, body := do(t, http.MethodGet, "http://"+s.ExporterAddr()+"/metrics")
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parsing %s: %v", body, err)
	}
	out := map[string]float64{}
	for name, f := range fams {
		m := f.GetMetric()[0]
		if len(m.GetLabel()) == 0 && m.GetCounter() != nil {
			out[name] = m.GetCounter().GetValue()
		} else if len(m.GetLabel()) == 0 {
			out[name] = m.GetGauge().GetValue()
		}
	}
	return out
}

func TestExporterCountersGrowWithTheBitratesAndNeverFall(t *testing.T) {
	c := &clock{now: time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC)}
	s := start(t, Config{Now: c.Now})
	pub, _ := s.AddClient(Client{Stream: "s1", Publish: true, BitrateBps: 2e6})
	player, _ := s.AddClient(Client{Stream: "s1", BitrateBps: 2e6})
	s.AddClient(Client{Stream: "s2", BitrateBps: 1e6})
	first := scrape(t, s)
	if first["srs_clients"] != 3 || first["srs_streams"] != 2 || first["srs_clients_total"] != 3 {
		t.Fatalf("gauges %v: want 3 clients (the publisher counted), 2 streams, 3 ever", first)
	}

	c.Add(10 * time.Second)
	second := scrape(t, s)
	// 10 s of 2 Mbit/s + 1 Mbit/s out, 2 Mbit/s in.
	if d := second["srs_send_bytes_total"] - first["srs_send_bytes_total"]; d != 3e6/8*10 {
		t.Errorf("sent %v bytes in 10 s, want %v", d, 3e6/8*10)
	}
	if d := second["srs_receive_bytes_total"] - first["srs_receive_bytes_total"]; d != 2e6/8*10 {
		t.Errorf("received %v bytes in 10 s, want %v", d, 2e6/8*10)
	}

	// Clients leaving take no bytes back.
	s.RemoveClient(player)
	s.RemoveClient(pub)
	third := scrape(t, s)
	for _, name := range []string{"srs_send_bytes_total", "srs_receive_bytes_total"} {
		if third[name] < second[name] {
			t.Errorf("%s fell from %v to %v when clients left", name, second[name], third[name])
		}
	}
	if third["srs_clients"] != 1 || third["srs_clients_errs_total"] != 2 || third["srs_streams"] != 1 {
		t.Errorf("after two left: %v", third)
	}
}

func TestConcurrentClientsAndReads(t *testing.T) {
	s := start(t, Config{})
	reader := &http.Client{Timeout: 5 * time.Second}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				id, err := s.AddClient(Client{Stream: fmt.Sprintf("s%d", i%3), Publish: i%10 == 0, BitrateBps: 1e6})
				if err != nil {
					t.Error(err)
					return
				}
				if i%2 == w%2 {
					s.RemoveClient(id)
				}
			}
		}()
	}
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				for _, url := range []string{"http://" + s.APIAddr() + "/api/v1/summaries", "http://" + s.APIAddr() + "/api/v1/streams/",
					"http://" + s.APIAddr() + "/api/v1/clients/?start=0&count=1000", "http://" + s.ExporterAddr() + "/metrics"} {
					// t.Fatal may not run here, off the test's goroutine.
					resp, err := reader.Get(url)
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						t.Errorf("%s: HTTP %d", url, resp.StatusCode)
					}
				}
			}
		}()
	}
	wg.Wait()
	if n := len(s.Clients()); n != 100 {
		t.Fatalf("%d clients left, want 100 (4 writers × 25 kept)", n)
	}
}
