package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionNamesVersionAndCommit(t *testing.T) {
	defer func(v, c string) { version, commit = v, c }(version, commit)
	version, commit = "v1.2.3-4-gabcdef0", "abcdef0123456789abcdef0123456789abcdef01"
	cmd := newVersionCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs(nil)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"streamscaler v1.2.3-4-gabcdef0 ", "commit abcdef0123456789abcdef0123456789abcdef01"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q: %q", want, out.String())
		}
	}
}

func TestBuildCommit(t *testing.T) {
	vcs := func(settings ...string) *debug.BuildInfo {
		info := &debug.BuildInfo{}
		for i := 0; i < len(settings); i += 2 {
			info.Settings = append(info.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return info
	}
	cases := []struct {
		name    string
		stamped string
		info    *debug.BuildInfo
		want    string
	}{
		{"a stamped commit wins over the work tree's", "abc", vcs("vcs.revision", "def"), "abc"},
		{"an unstamped build falls back to the recorded revision", "unknown", vcs("vcs.revision", "def", "vcs.modified", "false"), "def"},
		{"a dirty work tree is marked", "unknown", vcs("vcs.revision", "def", "vcs.modified", "true"), "def-dirty"},
		{"without VCS information the commit stays unknown", "unknown", vcs(), "unknown"},
		{"without build information the commit stays unknown", "unknown", nil, "unknown"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := buildCommit(c.stamped, c.info); got != c.want {
				t.Errorf("buildCommit = %q, want %q", got, c.want)
			}
		})
	}
}

// The controller names itself to the API server whatever its file is called (client-go
// would use the binary's name: streamscaler.test here), so that audit logs can find it.
func TestRestConfigCarriesTheControllersUserAgent(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := restConfig(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	want := "streamscaler/dev (" + runtime.GOOS + "/" + runtime.GOARCH + ") "
	if !strings.HasPrefix(cfg.UserAgent, want) || len(cfg.UserAgent) == len(want) {
		t.Errorf("user agent %q, want %q and the commit", cfg.UserAgent, want)
	}
}
