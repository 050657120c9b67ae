package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version and commit are stamped by the image build (hack/image) with -ldflags -X; a plain
// go build leaves these defaults.
var (
	version = "dev"
	commit  = "unknown"
)

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version and commit this binary was built from",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			info, _ := debug.ReadBuildInfo()
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "streamscaler %s (commit %s, %s %s/%s)\n",
				version, buildCommit(commit, info), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}

// buildCommit is the stamped commit, else the one go build recorded from the work tree
// (absent under -buildvcs=false and in tests), marked -dirty when the tree had changes.
func buildCommit(stamped string, info *debug.BuildInfo) string {
	if stamped != "unknown" || info == nil {
		return stamped
	}
	revision, modified := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	switch {
	case revision == "":
		return stamped
	case modified:
		return revision + "-dirty"
	}
	return revision
}

// userAgent is streamscaler/<version> (<os>/<arch>) <commit>, the form of Kubernetes's
// own components.
func userAgent() string {
	info, _ := debug.ReadBuildInfo()
	return fmt.Sprintf("streamscaler/%s (%s/%s) %s", version, runtime.GOOS, runtime.GOARCH, buildCommit(commit, info))
}
