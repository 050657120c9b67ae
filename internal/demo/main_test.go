package demo

import (
	"os"
	"testing"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"
)

// TestMain gives controller-runtime's logger a sink before the clusters start: without
// one, controller-runtime prints a stack trace into the test output after 30 s
// ("log.SetLogger(...) was never called"). Failures are told by the assertions and by
// the logs the demo keeps.
func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.Discard())
	os.Exit(m.Run())
}
