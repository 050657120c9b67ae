//go:build unix

package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/streamscaler/streamscaler/internal/testcluster"
)

// TestCleanStopReleasesTheLease runs the controller binary with leader election on the
// real API server, waits until it leads, stops it with SIGTERM and reads the lease: it
// must be released (no holder), so that a standby leads at once instead of waiting out
// the lease.
func TestCleanStopReleasesTheLease(t *testing.T) {
	cluster := testcluster.ForTest(t)
	cmd, exited := startControllerBinary(t, cluster, "--leader-elect", "--leader-election-namespace", "default")

	holder := func() string { return leaseHolder(cluster.Client, "default") }
	deadline := time.Now().Add(60 * time.Second)
	for holder() == "" {
		if time.Now().After(deadline) {
			t.Fatal("the controller did not take the lease within 60s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("leading: %s", holder())

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("the controller did not stop cleanly on SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the controller did not stop within 30s of SIGTERM")
	}
	if h := holder(); h != "" {
		t.Errorf("after a clean stop the lease is still held by %s: a standby would wait it out", h)
	}
}

var (
	buildOnce sync.Once
	built     string
	buildErr  error
)

// buildBinary builds the streamscaler binary once for the package's tests.
func buildBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "streamscaler-bin-")
		if err != nil {
			buildErr = err
			return
		}
		built = filepath.Join(dir, "streamscaler")
		buildErr = testcluster.BuildStreamscaler(built)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return built
}

// startControllerBinary runs `streamscaler controller` on cluster with its metrics and
// probes on free loopback ports, the external metrics API off, and more flags; it is
// killed when the test ends, and its log printed if the test failed. exited gets the
// result of Wait.
func startControllerBinary(t *testing.T, cluster *testcluster.Cluster, flags ...string) (cmd *exec.Cmd, exited <-chan error) {
	t.Helper()
	b := runControllerBinary(t, cluster, nil, flags...)
	return b.cmd, b.exited
}

// controllerBinary is a running `streamscaler controller`.
type controllerBinary struct {
	cmd    *exec.Cmd
	exited <-chan error
	// probes is the address of /healthz and /readyz; log the path of its log.
	probes, log string
}

// runControllerBinary is startControllerBinary with more environment variables (NAME=value),
// and tells where the probes are and the log is.
func runControllerBinary(t *testing.T, cluster *testcluster.Cluster, env []string, flags ...string) controllerBinary {
	t.Helper()
	bin := buildBinary(t)
	ports, err := freeLocalPorts(2)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"controller", "--kubeconfig", cluster.KubeconfigPath(), "--external-metrics-port", "0",
		"--metrics-bind-address", "127.0.0.1:" + ports[0], "--health-probe-bind-address", "127.0.0.1:" + ports[1]}, flags...)
	b := startBinary(t, bin, args, env)
	b.probes = "127.0.0.1:" + ports[1]
	return b
}

// runCommandBinary runs the streamscaler binary with exactly args.
func runCommandBinary(t *testing.T, args []string) controllerBinary {
	t.Helper()
	return startBinary(t, buildBinary(t), args, nil)
}

// startBinary starts bin with args and more environment, its output in a log file that
// is printed if the test fails; it is killed when the test ends.
func startBinary(t *testing.T, bin string, args, env []string) controllerBinary {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "controller.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); logFile.Close() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			out, _ := os.ReadFile(logPath)
			t.Logf("controller log (%s):\n%s", strings.Join(env, " "), out)
		}
	})
	return controllerBinary{cmd: cmd, exited: done, log: logPath}
}

// freeLocalPorts finds n free ports on 127.0.0.1.
func freeLocalPorts(n int) ([]string, error) {
	var out []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		out = append(out, strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
	}
	return out, nil
}
