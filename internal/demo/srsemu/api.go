package srsemu

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Paths of the SRS HTTP API the emulator answers.
const (
	pathVersions  = "/api/v1/versions"
	pathSummaries = "/api/v1/summaries"
	pathStreams   = "/api/v1/streams/"
	pathClients   = "/api/v1/clients/"
)

// codeClientNotFound is SRS's ERROR_RTMP_CLIENT_NOT_FOUND, sent with HTTP 200.
const codeClientNotFound = 2049

// minCount is the least count SRS 7.0.18 pages with: asked count=1 it sent 3 clients.
const minCount = 10

// Version of SRS the emulator answers as.
const (
	versionMajor, versionMinor, versionRevision = 7, 0, 18
)

var versionString = strconv.Itoa(versionMajor) + "." + strconv.Itoa(versionMinor) + "." + strconv.Itoa(versionRevision)

// decimal is a number SRS prints with two decimals ("0.00", "34.66").
type decimal float64

func (d decimal) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(d), 'f', 2, 64), nil
}

// envelope starts every successful answer.
type envelope struct {
	Code    int    `json:"code"`
	Server  string `json:"server"`
	Service string `json:"service"`
	PID     string `json:"pid"`
}

type versionsJSON struct {
	envelope
	Data struct {
		Major    int    `json:"major"`
		Minor    int    `json:"minor"`
		Revision int    `json:"revision"`
		Version  string `json:"version"`
	} `json:"data"`
}

type summariesJSON struct {
	envelope
	Data struct {
		OK     bool   `json:"ok"`
		NowMS  int64  `json:"now_ms"`
		Self   self   `json:"self"`
		System system `json:"system"`
	} `json:"data"`
}

type self struct {
	Version    string  `json:"version"`
	PID        int     `json:"pid"`
	PPID       int     `json:"ppid"`
	Argv       string  `json:"argv"`
	Cwd        string  `json:"cwd"`
	MemKbyte   int64   `json:"mem_kbyte"`
	MemPercent decimal `json:"mem_percent"`
	CPUPercent decimal `json:"cpu_percent"`
	SRSUptime  int64   `json:"srs_uptime"`
}

// system is the host's statistics. ilde_time is SRS's own spelling.
type system struct {
	CPUPercent      decimal `json:"cpu_percent"`
	DiskReadKBps    int64   `json:"disk_read_KBps"`
	DiskWriteKBps   int64   `json:"disk_write_KBps"`
	DiskBusyPercent decimal `json:"disk_busy_percent"`
	MemRAMKbyte     int64   `json:"mem_ram_kbyte"`
	MemRAMPercent   decimal `json:"mem_ram_percent"`
	MemSwapKbyte    int64   `json:"mem_swap_kbyte"`
	MemSwapPercent  decimal `json:"mem_swap_percent"`
	CPUs            int     `json:"cpus"`
	CPUsOnline      int     `json:"cpus_online"`
	Uptime          decimal `json:"uptime"`
	IdleTime        decimal `json:"ilde_time"`
	Load1m          decimal `json:"load_1m"`
	Load5m          decimal `json:"load_5m"`
	Load15m         decimal `json:"load_15m"`
	NetSampleTime   int64   `json:"net_sample_time"`
	NetRecvBytes    int64   `json:"net_recv_bytes"`
	NetSendBytes    int64   `json:"net_send_bytes"`
	NetRecviBytes   int64   `json:"net_recvi_bytes"`
	NetSendiBytes   int64   `json:"net_sendi_bytes"`
	SRSSampleTime   int64   `json:"srs_sample_time"`
	SRSRecvBytes    int64   `json:"srs_recv_bytes"`
	SRSSendBytes    int64   `json:"srs_send_bytes"`
	ConnSys         int     `json:"conn_sys"`
	ConnSysET       int     `json:"conn_sys_et"`
	ConnSysTW       int     `json:"conn_sys_tw"`
	ConnSysUDP      int     `json:"conn_sys_udp"`
	ConnSRS         int     `json:"conn_srs"`
}

type kbpsJSON struct {
	Recv int64 `json:"recv_30s"`
	Send int64 `json:"send_30s"`
}

type streamsJSON struct {
	envelope
	Streams []streamJSON `json:"streams"`
}

// publishJSON has a cid only while the stream has a publisher.
type publishJSON struct {
	Active bool   `json:"active"`
	CID    string `json:"cid,omitempty"`
}

type videoJSON struct {
	Codec   string `json:"codec"`
	Profile string `json:"profile"`
	Level   string `json:"level"`
	Width   int    `json:"width"`
	Height  int    `json:"height"`
}

type audioJSON struct {
	Codec      string `json:"codec"`
	SampleRate int    `json:"sample_rate"`
	Channel    int    `json:"channel"`
	Profile    string `json:"profile"`
}

type streamJSON struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	Vhost     string      `json:"vhost"`
	App       string      `json:"app"`
	TcURL     string      `json:"tcUrl"`
	URL       string      `json:"url"`
	LiveMS    int64       `json:"live_ms"`
	Clients   int         `json:"clients"`
	Frames    int64       `json:"frames"`
	SendBytes int64       `json:"send_bytes"`
	RecvBytes int64       `json:"recv_bytes"`
	Kbps      kbpsJSON    `json:"kbps"`
	Publish   publishJSON `json:"publish"`
	// Video and Audio are null without a publisher (from SRS's source; not recorded).
	Video *videoJSON `json:"video"`
	Audio *audioJSON `json:"audio"`
}

type clientsJSON struct {
	envelope
	Clients []clientJSON `json:"clients"`
}

type clientJSON struct {
	ID        string   `json:"id"`
	Vhost     string   `json:"vhost"`
	Stream    string   `json:"stream"`
	IP        string   `json:"ip"`
	PageURL   string   `json:"pageUrl"`
	SwfURL    string   `json:"swfUrl"`
	TcURL     string   `json:"tcUrl"`
	URL       string   `json:"url"`
	Name      string   `json:"name"`
	Type      string   `json:"type"`
	Publish   bool     `json:"publish"`
	Alive     decimal  `json:"alive"`
	SendBytes int64    `json:"send_bytes"`
	RecvBytes int64    `json:"recv_bytes"`
	Kbps      kbpsJSON `json:"kbps"`
}

// Made-up host figures for the summaries: a 2-core node with 24 GiB.
const (
	hostRAMKbyte = 24684084
	hostCPUs     = 2
	memKbyte     = 17124
	framesPerSec = 15
)

func (s *Server) envelope() envelope {
	return envelope{Server: s.ids.server, Service: s.ids.service, PID: s.ids.pid}
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	var body any
	switch {
	case r.Method == http.MethodGet && r.URL.Path == pathVersions:
		v := versionsJSON{envelope: s.envelope()}
		v.Data.Major, v.Data.Minor, v.Data.Revision, v.Data.Version = versionMajor, versionMinor, versionRevision, versionString
		body = v
	case r.Method == http.MethodGet && r.URL.Path == pathSummaries:
		body = s.summaries()
	case r.Method == http.MethodGet && r.URL.Path == pathStreams:
		start, count := paging(r)
		body = s.streams(start, count)
	case r.Method == http.MethodGet && r.URL.Path == pathClients:
		start, count := paging(r)
		body = s.clientList(start, count)
	case r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, pathClients) && len(r.URL.Path) > len(pathClients):
		if s.kick(strings.TrimPrefix(r.URL.Path, pathClients)) {
			body = s.envelope()
		} else {
			body = struct {
				Code int `json:"code"`
			}{codeClientNotFound}
		}
	default:
		http.NotFound(w, r)
		return
	}
	b, err := json.Marshal(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// paging reads start and count as SRS 7.0.18 does: start at least 0, count at least 10.
func paging(r *http.Request) (start, count int) {
	start, _ = strconv.Atoi(r.URL.Query().Get("start"))
	count, _ = strconv.Atoi(r.URL.Query().Get("count"))
	return max(start, 0), max(count, minCount)
}

// window cuts [start, start+count) out of n entries.
func window(n, start, count int) (int, int) {
	lo := min(start, n)
	return lo, lo + min(count, n-lo)
}

func (s *Server) summaries() summariesJSON {
	s.mu.Lock()
	now := s.cfg.Now()
	sent, recv := s.countersLocked(now)
	n := len(s.clients)
	up := max(now.Sub(s.started), 0)
	s.mu.Unlock()

	var out summariesJSON
	out.envelope = s.envelope()
	out.Data.OK = true
	out.Data.NowMS = now.UnixMilli()
	pid, _ := strconv.Atoi(s.ids.pid)
	out.Data.Self = self{
		Version: versionString, PID: pid, PPID: 1, Argv: "./objs/srs -c conf/srs.conf", Cwd: "/usr/local/srs",
		MemKbyte: memKbyte, MemPercent: decimal(float64(memKbyte) / hostRAMKbyte), SRSUptime: int64(up.Seconds()),
	}
	out.Data.System = system{
		MemRAMKbyte: hostRAMKbyte, CPUs: hostCPUs, CPUsOnline: hostCPUs,
		Uptime: decimal(up.Seconds()), NetSampleTime: now.UnixMilli(), SRSSampleTime: now.UnixMilli(),
		SRSRecvBytes: int64(recv), SRSSendBytes: int64(sent), ConnSRS: n,
	}
	return out
}

// streamAgg gathers one stream's clients.
type streamAgg struct {
	name      string
	clients   int
	publisher *Client
	start     time.Time
	sent      float64
	recv      float64
	kbps      kbpsJSON
}

func (s *Server) streams(start, count int) streamsJSON {
	s.mu.Lock()
	now := s.cfg.Now()
	byName := map[string]*streamAgg{}
	for _, c := range s.clients {
		a := byName[c.Stream]
		if a == nil {
			a = &streamAgg{name: c.Stream, start: c.Start}
			byName[c.Stream] = a
		}
		a.clients++
		if c.Publish && (a.publisher == nil || c.ID < a.publisher.ID) {
			cp := *c
			a.publisher = &cp
		}
		if c.Start.Before(a.start) {
			a.start = c.Start
		}
		sent, recv := c.bytes(now)
		a.sent += sent
		a.recv += recv
		kr, ks := c.kbps(now)
		a.kbps.Recv += kr
		a.kbps.Send += ks
	}
	s.mu.Unlock()

	all := make([]streamJSON, 0, len(byName))
	for _, a := range byName {
		st := streamJSON{
			ID: s.streamID(a.name), Name: a.name, Vhost: s.ids.vhost, App: "live",
			TcURL: s.tcURL(), URL: "/live/" + a.name, LiveMS: now.UnixMilli(), Clients: a.clients,
			SendBytes: int64(a.sent), RecvBytes: int64(a.recv), Kbps: a.kbps,
		}
		if a.publisher != nil {
			st.Frames = int64(a.publisher.alive(now).Seconds() * framesPerSec)
			st.Publish = publishJSON{Active: true, CID: a.publisher.ID}
			st.Video = &videoJSON{Codec: "H264", Profile: "High", Level: "3.1", Width: 1280, Height: 720}
			st.Audio = &audioJSON{Codec: "AAC", SampleRate: 44100, Channel: 2, Profile: "LC"}
		}
		all = append(all, st)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	lo, hi := window(len(all), start, count)
	return streamsJSON{envelope: s.envelope(), Streams: all[lo:hi]}
}

func (s *Server) clientList(start, count int) clientsJSON {
	s.mu.Lock()
	now := s.cfg.Now()
	sorted := s.sortedLocked()
	s.mu.Unlock()

	lo, hi := window(len(sorted), start, count)
	out := clientsJSON{envelope: s.envelope(), Clients: make([]clientJSON, 0, hi-lo)}
	for _, c := range sorted[lo:hi] {
		sent, recv := c.bytes(now)
		kr, ks := c.kbps(now)
		typ := "rtmp-play"
		if c.Publish {
			typ = "fmle-publish"
		}
		out.Clients = append(out.Clients, clientJSON{
			ID: c.ID, Vhost: s.ids.vhost, Stream: s.streamID(c.Stream), IP: "127.0.0.1",
			TcURL: s.tcURL(), URL: "/live/" + c.Stream, Name: c.Stream, Type: typ, Publish: c.Publish,
			Alive: decimal(c.alive(now).Seconds()), SendBytes: int64(sent), RecvBytes: int64(recv),
			Kbps: kbpsJSON{Recv: kr, Send: ks},
		})
	}
	return out
}

// streamID is SRS's "vid-xxxxxxx" id of a stream, fixed per server and name.
func (s *Server) streamID(name string) string {
	return "vid-" + base36(fnvString(s.ip+"/"+name), 7)
}

func (s *Server) tcURL() string { return "rtmp://" + s.ip + ":1935/live" }
