//go:build unix

package main

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/streamscaler/streamscaler/internal/testcluster"
)

// TestREADMELocalCommandStartsClean runs the README's out-of-cluster command, as written
// there (with the test cluster's kubeconfig for ~/.kube/config, and loopback addresses
// and free ports for the metrics, probes and external metrics API), until the controller's workers run and a few seconds more, and
// requires a log without a single error line: no flag the README leaves out is needed,
// and nothing complains about what a laptop does not have.
func TestREADMELocalCommandStartsClean(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	section := strings.SplitN(string(readme), "## Running the controller", 2)
	if len(section) == 2 {
		sc := bufio.NewScanner(strings.NewReader(section[1]))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if strings.HasPrefix(line, "bin/streamscaler controller") {
				line, _, _ = strings.Cut(line, "#")
				args = strings.Fields(line)[1:]
				break
			}
		}
	}
	if len(args) == 0 {
		t.Fatal(`README.md: no "bin/streamscaler controller" line under "## Running the controller"`)
	}
	cluster := testcluster.ForTest(t)
	for i, a := range args {
		if a == "~/.kube/config" {
			args[i] = cluster.KubeconfigPath()
		}
	}
	// Everything it serves, on loopback addresses and free ports.
	ports, err := freeLocalPorts(3)
	if err != nil {
		t.Fatal(err)
	}
	args = append(args, "--metrics-bind-address", "127.0.0.1:"+ports[0], "--health-probe-bind-address", "127.0.0.1:"+ports[1],
		"--external-metrics-host", "127.0.0.1", "--external-metrics-port", ports[2])
	t.Logf("streamscaler %s", strings.Join(args, " "))
	b := runCommandBinary(t, args)

	workers := regexp.MustCompile(`Starting workers`)
	waitFor(t, "the controller's workers start", time.Minute, func() (bool, string) {
		out, _ := os.ReadFile(b.log)
		return workers.Match(out), "not yet"
	})
	time.Sleep(5 * time.Second)
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-b.exited:
		if err != nil {
			t.Errorf("the controller did not stop cleanly: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the controller did not stop within 30s of SIGTERM")
	}
	out, err := os.ReadFile(b.log)
	if err != nil {
		t.Fatal(err)
	}
	// zap's console encoder ("\tERROR\t"), its JSON encoder ("level":"error"), and klog
	// (a line starting E and the date).
	bad := regexp.MustCompile(`(?m)(\tERROR\t|"level":"error"|^E\d{4} )`)
	if lines := bad.FindAllIndex(out, -1); len(lines) > 0 {
		t.Errorf("%d error lines in the log of the README's command:\n%s", len(lines), out)
	}
}
