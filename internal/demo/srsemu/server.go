package srsemu

import (
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Ports SRS listens on by default (srs.conf in testdata/srs/real-7.0.18).
const (
	DefaultAPIPort      = 1985
	DefaultExporterPort = 9972
)

// kbpsWarmup is how long a new client's kbps.*_30s read 0 on the real server.
const kbpsWarmup = 30 * time.Second

// Handshake bytes that flow against a client's media: what a player sends and a
// publisher receives (3478 and 4384 in the recording).
const (
	playerRecvBytes    = 3478
	publisherSendBytes = 4384
)

// ErrNotLoopback: Start was given an address outside 127.0.0.0/8.
var ErrNotLoopback = errors.New("not an IPv4 loopback address (127.0.0.0/8)")

// ErrDuplicateID: AddClient was given an id the server already holds.
var ErrDuplicateID = errors.New("client id already present")

// Client is one connection to the emulated server.
type Client struct {
	// ID is SRS's client id (8 characters of [0-9a-z] on the real server); empty lets
	// AddClient pick one.
	ID string
	// Stream is the stream name, as in rtmp://host/live/<Stream>.
	Stream string
	// Publish is true for a publisher, false for a player.
	Publish bool
	// BitrateBps is the media rate: received from a publisher, sent to a player.
	BitrateBps float64
	// Start is when the client connected; zero means the time AddClient was called.
	Start time.Time
}

// Config configures an emulated server; every field may be left zero.
type Config struct {
	// APIPort and ExporterPort default to 1985 and 9972.
	APIPort, ExporterPort int
	// Now is the clock that ages clients and grows byte counters, default time.Now.
	Now func() time.Time
	// OnKick is told of every client kicked through DELETE /api/v1/clients/{id}, after
	// it is gone from every answer. It runs on the request's goroutine, so it should
	// not block; the kick's answer waits for it.
	OnKick func(Client)
	// Label and Tag are the exporter's srs_build_info labels, default "demo" and "edge".
	Label, Tag string
}

// Server is one emulated SRS. Its methods are safe for concurrent use.
type Server struct {
	ip  string
	cfg Config
	ids identity

	api, exporter *http.Server
	apiAddr       string
	exporterAddr  string
	served        sync.WaitGroup

	mu      sync.Mutex
	clients map[string]*Client
	started time.Time
	seq     int
	// Bytes of clients gone, so the server's counters never fall.
	goneSent, goneRecv float64
	total, errs        int64
}

// identity holds the made-up ids SRS gives its server, service, vhost and streams.
type identity struct {
	server, service, vhost, pid string
}

// Start listens on ip:APIPort and ip:ExporterPort and serves until Stop. ip must be a
// dotted IPv4 address in 127.0.0.0/8.
func Start(ip string, cfg Config) (*Server, error) {
	parsed := net.ParseIP(ip)
	if parsed == nil || strings.Contains(ip, ":") || parsed.To4() == nil || parsed.To4()[0] != 127 {
		return nil, fmt.Errorf("starting an emulated SRS on %q: %w", ip, ErrNotLoopback)
	}
	if cfg.APIPort == 0 {
		cfg.APIPort = DefaultAPIPort
	}
	if cfg.ExporterPort == 0 {
		cfg.ExporterPort = DefaultExporterPort
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Label == "" {
		cfg.Label = "demo"
	}
	if cfg.Tag == "" {
		cfg.Tag = "edge"
	}
	s := &Server{ip: ip, cfg: cfg, ids: newIdentity(ip), clients: map[string]*Client{}, started: cfg.Now()}

	apiLn, err := net.Listen("tcp4", net.JoinHostPort(ip, strconv.Itoa(cfg.APIPort)))
	if err != nil {
		return nil, fmt.Errorf("starting an emulated SRS API on %s: %w", ip, err)
	}
	expLn, err := net.Listen("tcp4", net.JoinHostPort(ip, strconv.Itoa(cfg.ExporterPort)))
	if err != nil {
		apiLn.Close()
		return nil, fmt.Errorf("starting an emulated SRS exporter on %s: %w", ip, err)
	}
	s.apiAddr, s.exporterAddr = apiLn.Addr().String(), expLn.Addr().String()
	s.api = &http.Server{Handler: http.HandlerFunc(s.serveAPI), ReadHeaderTimeout: 5 * time.Second}
	s.exporter = &http.Server{Handler: http.HandlerFunc(s.serveExporter), ReadHeaderTimeout: 5 * time.Second}
	for _, p := range []struct {
		srv *http.Server
		ln  net.Listener
	}{{s.api, apiLn}, {s.exporter, expLn}} {
		s.served.Add(1)
		go func() {
			defer s.served.Done()
			_ = p.srv.Serve(p.ln) // ErrServerClosed after Stop
		}()
	}
	return s, nil
}

// newIdentity derives SRS-looking ids from the address, so a pod keeps its ids.
func newIdentity(ip string) identity {
	v := fnvString(ip)
	return identity{
		server:  "vid-" + base36(v, 7),
		service: base36(v>>20, 8),
		vhost:   "vid-" + base36(v>>9, 7),
		pid:     strconv.FormatUint(1000+v%30000, 10),
	}
}

// base36 writes the low digits of v in [0-9a-z], n of them.
func base36(v uint64, n int) string {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		b[i] = digits[v%36]
		v /= 36
	}
	return string(b)
}

// APIAddr and ExporterAddr are the host:port the server listens on.
func (s *Server) APIAddr() string      { return s.apiAddr }
func (s *Server) ExporterAddr() string { return s.exporterAddr }

// Stop closes both listeners and every connection, and waits for the servers to end.
func (s *Server) Stop() error {
	err := errors.Join(s.api.Close(), s.exporter.Close())
	s.served.Wait()
	if err != nil {
		return fmt.Errorf("stopping the emulated SRS on %s: %w", s.ip, err)
	}
	return nil
}

// AddClient connects a client and returns its id.
func (s *Server) AddClient(c Client) (string, error) {
	if c.Stream == "" {
		return "", fmt.Errorf("adding a client to the emulated SRS on %s: no stream name", s.ip)
	}
	if c.BitrateBps < 0 {
		return "", fmt.Errorf("adding a client to the emulated SRS on %s: negative bitrate %v", s.ip, c.BitrateBps)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.Start.IsZero() {
		c.Start = s.cfg.Now()
	}
	if c.ID == "" {
		for c.ID == "" || s.clients[c.ID] != nil {
			s.seq++
			c.ID = base36(uint64(s.seq)*2654435761, 8)
		}
	}
	if s.clients[c.ID] != nil {
		return "", fmt.Errorf("adding client %s to the emulated SRS on %s: %w", c.ID, s.ip, ErrDuplicateID)
	}
	s.clients[c.ID] = &c
	s.total++
	return c.ID, nil
}

// RemoveClient disconnects a client; false when it was not there. Its bytes stay in
// the server's counters.
func (s *Server) RemoveClient(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.removeLocked(id, s.cfg.Now())
	return ok
}

func (s *Server) removeLocked(id string, now time.Time) (Client, bool) {
	c, ok := s.clients[id]
	if !ok {
		return Client{}, false
	}
	sent, recv := c.bytes(now)
	s.goneSent += sent
	s.goneRecv += recv
	// SRS counts every connection that ends as an error (srs_clients_errs_total): the
	// recording shows 7 clients ever, 3 up and 4 errors.
	s.errs++
	delete(s.clients, id)
	return *c, true
}

// Clients returns the connected clients in id order.
func (s *Server) Clients() []Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sortedLocked()
}

func (s *Server) sortedLocked() []Client {
	out := make([]Client, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// kick removes a client and tells OnKick, outside the lock.
func (s *Server) kick(id string) bool {
	s.mu.Lock()
	c, ok := s.removeLocked(id, s.cfg.Now())
	s.mu.Unlock()
	if ok && s.cfg.OnKick != nil {
		s.cfg.OnKick(c)
	}
	return ok
}

// alive is how long the client has been connected at now, never negative.
func (c *Client) alive(now time.Time) time.Duration {
	return max(now.Sub(c.Start), 0)
}

// bytes is what the server has sent to the client and received from it.
func (c *Client) bytes(now time.Time) (sent, recv float64) {
	media := c.BitrateBps / 8 * c.alive(now).Seconds()
	if c.Publish {
		return publisherSendBytes, media
	}
	return media, playerRecvBytes
}

// kbps is the client's 30 s rates as SRS reports them: 0 during the first 30 s.
func (c *Client) kbps(now time.Time) (recv, send int64) {
	if c.alive(now) < kbpsWarmup {
		return 0, 0
	}
	rate := int64(c.BitrateBps/1000 + 0.5)
	if c.Publish {
		return rate, 0
	}
	return 0, rate
}

// counters are the server's lifetime byte counters at now.
func (s *Server) countersLocked(now time.Time) (sent, recv float64) {
	sent, recv = s.goneSent, s.goneRecv
	for _, c := range s.clients {
		cs, cr := c.bytes(now)
		sent += cs
		recv += cr
	}
	return sent, recv
}

func fnvString(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}
