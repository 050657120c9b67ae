package simulate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// Profile describes the simulated pods and clients. Every field has a default (see
// Defaults), so an empty profile is valid.
type Profile struct {
	// PeakStreams is the concurrent stream count the trace's maximum is rescaled to.
	PeakStreams float64 `json:"peakStreams,omitempty"`
	// PodCapacityStreams is the most streams one pod can hold; the dispatcher never goes above it.
	PodCapacityStreams int `json:"podCapacityStreams,omitempty"`
	// Dispatch is how the fleet's dispatcher picks the pod for a new stream: spread (the
	// default) or packed.
	Dispatch Dispatch `json:"dispatch,omitempty"`
	// StartupSeconds is how long a new pod takes to become Ready.
	StartupSeconds int `json:"startupSeconds,omitempty"`
	// StepSeconds is the simulation's time step.
	StepSeconds int `json:"stepSeconds,omitempty"`
	// Seed makes arrivals and session lengths repeatable.
	Seed uint64 `json:"seed,omitempty"`
	// SessionMeanSeconds is the mean session (stream) length.
	SessionMeanSeconds float64 `json:"sessionMeanSeconds,omitempty"`
	// SessionSigma is the log-normal shape of session lengths; larger is heavier-tailed.
	SessionSigma float64 `json:"sessionSigma,omitempty"`
	// BitrateBps is the mean bitrate of one stream in bits per second.
	BitrateBps float64 `json:"bitrateBps,omitempty"`
	// PacketBytes converts bandwidth to packets per second.
	PacketBytes float64 `json:"packetBytes,omitempty"`
	// PublishFraction is the share of streams that are publishers (push) rather than players (pull).
	PublishFraction *float64 `json:"publishFraction,omitempty"`
	// CPUIdlePercent and CPUPercentPerStream model CPU use as a percentage of the request.
	CPUIdlePercent      *float64 `json:"cpuIdlePercent,omitempty"`
	CPUPercentPerStream float64  `json:"cpuPercentPerStream,omitempty"`
	// MemoryIdlePercent and MemoryPercentPerStream model memory use as a percentage of the request.
	MemoryIdlePercent      *float64 `json:"memoryIdlePercent,omitempty"`
	MemoryPercentPerStream float64  `json:"memoryPercentPerStream,omitempty"`
	// HPATargetCPUPercent is the CPU target of the hpa baseline. Unset, it is matched to
	// the policy: the CPU a pod shows at the policy's streams per pod (TargetStreamsPerPod).
	HPATargetCPUPercent int32 `json:"hpaTargetCPUPercent,omitempty"`
	// HPASyncSeconds is how often the hpa baseline decides (the upstream default is 15s).
	HPASyncSeconds int `json:"hpaSyncSeconds,omitempty"`
	// ForecastRefitMinutes is how often the predictive policy refits its models, and
	// ForecastStepMinutes the bucket its load history is averaged over.
	ForecastRefitMinutes int `json:"forecastRefitMinutes,omitempty"`
	ForecastStepMinutes  int `json:"forecastStepMinutes,omitempty"`
}

// Dispatch is how a fleet's dispatcher (a load balancer, or the signalling service that
// tells a player which server to use) picks the pod for a new stream among the pods that
// may take one and are below capacity.
type Dispatch string

const (
	// DispatchSpread picks the least-loaded pod, as a least-connections load balancer does:
	// every pod carries about the same, so the pods a scale-in drains are as full as the rest.
	DispatchSpread Dispatch = "spread"
	// DispatchPacked picks the fullest pod, filling each up to its capacity before the next
	// (what Agones calls Packed allocation for game servers). Load gathers on few pods, the
	// least-loaded ones get no new streams while the others have room and empty as their
	// sessions end, and those are the ones a scale-in drains.
	DispatchPacked Dispatch = "packed"
)

// Valid reports whether d is one of the dispatches above.
func (d Dispatch) Valid() bool { return d == DispatchSpread || d == DispatchPacked }

// Prefers reports whether a pod carrying a streams is a better home for a new stream than
// one carrying b, both below capacity. On a tie neither is preferred, so a caller keeps the
// first it saw.
func (d Dispatch) Prefers(a, b int) bool {
	if d == DispatchPacked {
		return a > b
	}
	return a < b
}

// Defaults returns the profile used where a field is not set.
func Defaults() Profile {
	return Profile{
		PeakStreams: 2000, PodCapacityStreams: 100, Dispatch: DispatchSpread, StartupSeconds: 60, StepSeconds: 5, Seed: 1,
		SessionMeanSeconds: 1200, SessionSigma: 1.0, BitrateBps: 2.5e6, PacketBytes: 1200,
		PublishFraction: f64(0), CPUIdlePercent: f64(5), CPUPercentPerStream: 0.9,
		MemoryIdlePercent: f64(20), MemoryPercentPerStream: 0.5,
		HPASyncSeconds: 15, ForecastRefitMinutes: 180, ForecastStepMinutes: 5,
	}
}

func f64(v float64) *float64 { return &v }

// WithDefaults fills unset fields from Defaults.
func (p Profile) WithDefaults() Profile {
	d := Defaults()
	setF := func(v *float64, def float64) {
		if *v == 0 {
			*v = def
		}
	}
	setI := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	setF(&p.PeakStreams, d.PeakStreams)
	setI(&p.PodCapacityStreams, d.PodCapacityStreams)
	if p.Dispatch == "" {
		p.Dispatch = d.Dispatch
	}
	setI(&p.StartupSeconds, d.StartupSeconds)
	setI(&p.StepSeconds, d.StepSeconds)
	if p.Seed == 0 {
		p.Seed = d.Seed
	}
	setF(&p.SessionMeanSeconds, d.SessionMeanSeconds)
	setF(&p.SessionSigma, d.SessionSigma)
	setF(&p.BitrateBps, d.BitrateBps)
	setF(&p.PacketBytes, d.PacketBytes)
	if p.PublishFraction == nil {
		p.PublishFraction = d.PublishFraction
	}
	if p.CPUIdlePercent == nil {
		p.CPUIdlePercent = d.CPUIdlePercent
	}
	setF(&p.CPUPercentPerStream, d.CPUPercentPerStream)
	if p.MemoryIdlePercent == nil {
		p.MemoryIdlePercent = d.MemoryIdlePercent
	}
	setF(&p.MemoryPercentPerStream, d.MemoryPercentPerStream)
	setI(&p.HPASyncSeconds, d.HPASyncSeconds)
	setI(&p.ForecastRefitMinutes, d.ForecastRefitMinutes)
	setI(&p.ForecastStepMinutes, d.ForecastStepMinutes)
	return p
}

// Validate checks a defaulted profile; every error names its field.
func (p Profile) Validate() error {
	var errs []string
	bad := func(field string, v any, why string) { errs = append(errs, fmt.Sprintf("%s: %v: %s", field, v, why)) }
	finitePos := func(field string, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
			bad(field, v, "must be a finite number greater than zero")
		}
	}
	finitePos("peakStreams", p.PeakStreams)
	if p.PeakStreams > 5e6 {
		bad("peakStreams", p.PeakStreams, "must be at most 5000000 (the simulator tracks every stream)")
	}
	if p.PodCapacityStreams < 1 || p.PodCapacityStreams > 1e6 {
		bad("podCapacityStreams", p.PodCapacityStreams, "must be between 1 and 1000000")
	}
	if !p.Dispatch.Valid() {
		bad("dispatch", strconv.Quote(string(p.Dispatch)), fmt.Sprintf("must be %s or %s", DispatchSpread, DispatchPacked))
	}
	if p.StartupSeconds < 0 || p.StartupSeconds > 3600 {
		bad("startupSeconds", p.StartupSeconds, "must be between 0 and 3600")
	}
	if p.StepSeconds < 1 || p.StepSeconds > 300 {
		bad("stepSeconds", p.StepSeconds, "must be between 1 and 300")
	}
	finitePos("sessionMeanSeconds", p.SessionMeanSeconds)
	finitePos("sessionSigma", p.SessionSigma)
	if p.SessionSigma > 4 {
		bad("sessionSigma", p.SessionSigma, "must be at most 4")
	}
	finitePos("bitrateBps", p.BitrateBps)
	finitePos("packetBytes", p.PacketBytes)
	finitePos("cpuPercentPerStream", p.CPUPercentPerStream)
	finitePos("memoryPercentPerStream", p.MemoryPercentPerStream)
	if f := *p.PublishFraction; math.IsNaN(f) || f < 0 || f > 1 {
		bad("publishFraction", f, "must be between 0 and 1")
	}
	for name, v := range map[string]float64{"cpuIdlePercent": *p.CPUIdlePercent, "memoryIdlePercent": *p.MemoryIdlePercent} {
		if math.IsNaN(v) || v < 0 || v > 100 {
			bad(name, v, "must be between 0 and 100")
		}
	}
	if p.HPATargetCPUPercent < 0 || p.HPATargetCPUPercent > 100 {
		bad("hpaTargetCPUPercent", p.HPATargetCPUPercent, "must be between 1 and 100, or unset to match the policy's target")
	}
	if p.HPASyncSeconds < p.StepSeconds || p.HPASyncSeconds%p.StepSeconds != 0 {
		bad("hpaSyncSeconds", p.HPASyncSeconds, fmt.Sprintf("must be a multiple of stepSeconds (%d)", p.StepSeconds))
	}
	if p.ForecastStepMinutes < 1 || p.ForecastStepMinutes > 60 {
		bad("forecastStepMinutes", p.ForecastStepMinutes, "must be between 1 and 60")
	}
	if p.ForecastRefitMinutes < p.ForecastStepMinutes || p.ForecastRefitMinutes > 7*24*60 {
		bad("forecastRefitMinutes", p.ForecastRefitMinutes, "must be between forecastStepMinutes and 10080")
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid simulation profile: %s", strings.Join(errs, "; "))
	}
	return nil
}

// ParseProfile reads the spec of a SimulationProfile document (YAML or JSON); unknown
// fields are errors, so a typo does not silently fall back to a default.
func ParseProfile(data []byte) (Profile, error) {
	var doc struct {
		APIVersion string          `json:"apiVersion"`
		Kind       string          `json:"kind"`
		Spec       json.RawMessage `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Profile{}, fmt.Errorf("reading simulation profile: %w", err)
	}
	if doc.Kind != "SimulationProfile" {
		return Profile{}, fmt.Errorf("reading simulation profile: kind is %q, want SimulationProfile", doc.Kind)
	}
	var p Profile
	if len(doc.Spec) > 0 {
		dec := json.NewDecoder(bytes.NewReader(doc.Spec))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			return Profile{}, fmt.Errorf("reading simulation profile spec: %w", err)
		}
	}
	return p, nil
}
