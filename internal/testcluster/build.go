package testcluster

import (
	"fmt"
	"os"
	"os/exec"
)

// BuildStreamscaler builds cmd/streamscaler into out the way the image builds it, without
// cgo and with -trimpath (the Makefile's IMAGE_GO_ENV): the tests run what ships, and a
// cold CI compiles the dependencies once for the image, go vet and these tests.
func BuildStreamscaler(out string) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	build := exec.Command("go", "build", "-trimpath", "-o", out, "./cmd/streamscaler")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building the controller: %v\n%s", err, b)
	}
	return nil
}
