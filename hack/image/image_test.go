package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

const (
	testVersion = "v0.0.0-test"
	testCommit  = "0123456789abcdef0123456789abcdef01234567"
	testEpoch   = 1700000000
	testRef     = "ghcr.io/streamscaler/streamscaler:" + testVersion
)

func testOptions(out string) options {
	return options{
		Root: filepath.Join("..", ".."), Out: out, Version: testVersion, Commit: testCommit,
		Source: defaultSource, Ref: testRef, Epoch: testEpoch, CACerts: hostCACerts,
	}
}

// TestImage builds the image twice and reads it back as docker, containerd and crane
// would: the OCI layout, and the manifest.json beside it.
func TestImage(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles streamscaler twice for two platforms")
	}
	dir := t.TempDir()
	var results []result
	for _, n := range []string{"first.tar", "second.tar"} {
		start := time.Now()
		res, err := build(context.Background(), testOptions(filepath.Join(dir, n)))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: index %s in %s", n, res.Digest, time.Since(start).Round(time.Millisecond))
		results = append(results, res)
	}

	t.Run("two builds give the same bytes", func(t *testing.T) {
		if results[0].Digest != results[1].Digest {
			t.Errorf("index digests differ: %s and %s", results[0].Digest, results[1].Digest)
		}
		if a, b := fileDigest(t, results[0].Path), fileDigest(t, results[1].Path); a != b {
			t.Errorf("tarballs differ: sha256 %x and %x", a, b)
		}
	})

	tarPath := results[0].Path
	layoutDir := untar(t, tarPath)
	top, err := layout.ImageIndexFromPath(layoutDir)
	if err != nil {
		t.Fatal(err)
	}
	topManifest, err := top.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(topManifest.Manifests) != 1 {
		t.Fatalf("index.json lists %d entries, want the one image index", len(topManifest.Manifests))
	}
	entry := topManifest.Manifests[0]
	t.Run("index.json names the image for docker and containerd", func(t *testing.T) {
		if entry.Digest != results[0].Digest {
			t.Errorf("index.json points at %s, want the reported index %s", entry.Digest, results[0].Digest)
		}
		if got := entry.Annotations[annotationContainerdName]; got != testRef {
			t.Errorf("%s = %q, want %q", annotationContainerdName, got, testRef)
		}
		if got := entry.Annotations[annotationRefName]; got != testVersion {
			t.Errorf("%s = %q, want the tag %q", annotationRefName, got, testVersion)
		}
	})
	idx, err := top.ImageIndex(entry.Digest)
	if err != nil {
		t.Fatal(err)
	}
	idxManifest, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range idxManifest.Manifests {
		if m.Platform == nil {
			t.Fatalf("manifest %s has no platform", m.Digest)
		}
		got = append(got, m.Platform.String())
	}
	if want := []string{"linux/amd64", "linux/arm64"}; !slices.Equal(got, want) {
		t.Fatalf("index platforms %v, want %v", got, want)
	}

	configs := map[string]v1.Hash{}
	for _, m := range idxManifest.Manifests {
		arch := m.Platform.Architecture
		t.Run(arch, func(t *testing.T) {
			img, err := idx.Image(m.Digest)
			if err != nil {
				t.Fatal(err)
			}
			if configs[arch], err = img.ConfigName(); err != nil {
				t.Fatal(err)
			}
			checkConfig(t, img, arch)
			checkFiles(t, img, arch)
		})
	}

	t.Run("manifest.json loads each platform under the name, amd64 last", func(t *testing.T) {
		m, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(tarPath) })
		if err != nil {
			t.Fatal(err)
		}
		if len(m) != 2 {
			t.Fatalf("manifest.json has %d entries, want 2", len(m))
		}
		for i, arch := range []string{"arm64", "amd64"} {
			if want := blobPath(configs[arch]); m[i].Config != want {
				t.Errorf("entry %d config %s, want the %s config %s", i, m[i].Config, arch, want)
			}
			if !slices.Equal(m[i].RepoTags, []string{testRef}) {
				t.Errorf("entry %d tags %v, want [%s]", i, m[i].RepoTags, testRef)
			}
			for _, l := range m[i].Layers {
				if _, err := os.Stat(filepath.Join(layoutDir, l)); err != nil {
					t.Errorf("entry %d layer: %v", i, err)
				}
			}
		}
	})
}

func checkConfig(t *testing.T, img v1.Image, arch string) {
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.OS != "linux" || cfg.Architecture != arch {
		t.Errorf("config platform %s/%s, want linux/%s", cfg.OS, cfg.Architecture, arch)
	}
	if !slices.Equal(cfg.Config.Entrypoint, []string{"/streamscaler"}) {
		t.Errorf("entrypoint %q, want [/streamscaler]", cfg.Config.Entrypoint)
	}
	if cfg.Config.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532", cfg.Config.User)
	}
	if want := time.Unix(testEpoch, 0); !cfg.Created.Equal(want) {
		t.Errorf("created %s, want %s", cfg.Created.Time, want.UTC())
	}
	for k, want := range map[string]string{
		"org.opencontainers.image.revision": testCommit,
		"org.opencontainers.image.version":  testVersion,
		"org.opencontainers.image.source":   defaultSource,
		"org.opencontainers.image.title":    "streamscaler",
	} {
		if got := cfg.Config.Labels[k]; got != want {
			t.Errorf("label %s = %q, want %q", k, got, want)
		}
	}
}

func checkFiles(t *testing.T, img v1.Image, arch string) {
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 1 {
		t.Fatalf("%d layers, want 1", len(layers))
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	headers := map[string]*tar.Header{}
	bodies := map[string][]byte{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.Equal(time.Unix(testEpoch, 0)) || h.Uid != 0 || h.Gid != 0 {
			t.Errorf("%s: mtime %s uid %d gid %d, want the commit time and root", h.Name, h.ModTime, h.Uid, h.Gid)
		}
		headers[h.Name] = h
		if bodies[h.Name], err = io.ReadAll(tr); err != nil {
			t.Fatal(err)
		}
	}

	bin, h := bodies["streamscaler"], headers["streamscaler"]
	if h == nil || len(bin) == 0 || h.Mode&0o111 == 0 {
		t.Errorf("/streamscaler missing, empty or not executable (header %+v, %d bytes)", h, len(bin))
	} else {
		want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[arch]
		f, err := elf.NewFile(bytes.NewReader(bin))
		if err != nil {
			t.Errorf("/streamscaler is not an ELF file: %v", err)
		} else if f.Machine != want {
			t.Errorf("/streamscaler is for %s, want %s", f.Machine, want)
		}
	}
	if len(bodies["etc/ssl/certs/ca-certificates.crt"]) == 0 {
		t.Error("/etc/ssl/certs/ca-certificates.crt missing or empty")
	}
	if !slices.ContainsFunc(strings.Split(string(bodies["etc/passwd"]), "\n"), func(l string) bool {
		return strings.HasPrefix(l, "nonroot:x:65532:65532:")
	}) {
		t.Errorf("/etc/passwd has no nonroot user 65532:\n%s", bodies["etc/passwd"])
	}
	if h := headers["tmp/"]; h == nil || h.Typeflag != tar.TypeDir || h.Mode != 0o1777 {
		t.Errorf("/tmp is not a directory with mode 1777: %+v", h)
	}
}

func TestMissingCABundleNamesFileAndPackage(t *testing.T) {
	o := testOptions(filepath.Join(t.TempDir(), "image.tar"))
	o.CACerts = filepath.Join(t.TempDir(), "ca-certificates.crt")
	_, err := build(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), o.CACerts) || !strings.Contains(err.Error(), "package ca-certificates") {
		t.Fatalf("error %v, want one naming %s and the Debian package ca-certificates", err, o.CACerts)
	}
}

func TestEpoch(t *testing.T) {
	cases := []struct {
		name       string
		env        string
		commitTime int64
		want       int64
		ok         bool
	}{
		{"SOURCE_DATE_EPOCH wins over the commit time", "1600000000", 1700000000, 1600000000, true},
		{"the commit time without SOURCE_DATE_EPOCH", "", 1700000000, 1700000000, true},
		{"Unix 0 without either", "", 0, 0, true},
		{"a malformed SOURCE_DATE_EPOCH is refused", "yesterday", 0, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := epoch(c.env, c.commitTime)
			if (err == nil) != c.ok || got != c.want {
				t.Errorf("epoch(%q, %d) = %d, %v; want %d, ok %v", c.env, c.commitTime, got, err, c.want, c.ok)
			}
		})
	}
}

func TestSPDXID(t *testing.T) {
	cases := map[string]string{
		"                                 Apache License\n                           Version 2.0, January 2004": "Apache-2.0",
		"MIT License\n\nPermission is hereby granted, free of charge, to any person":                            "MIT",
		"Redistribution and use in source and binary forms ... Neither the name of":                             "BSD-3-Clause",
		"All rights reserved. No licence is granted.":                                                           "",
	}
	for text, want := range cases {
		if got := spdxID(text); got != want {
			t.Errorf("spdxID(%.30q...) = %q, want %q", text, got, want)
		}
	}
}

func fileDigest(t *testing.T, path string) [32]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(data)
}

// untar extracts the tarball as `tar -xf` would before `crane push --index`.
func untar(t *testing.T, path string) string {
	t.Helper()
	dir := t.TempDir()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return dir
		}
		if err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(target, dir+string(filepath.Separator)) {
			t.Fatalf("tar entry %q leaves the directory", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(target, 0o755)
		case tar.TypeReg:
			var body []byte
			if body, err = io.ReadAll(tr); err == nil {
				err = os.WriteFile(target, body, 0o644)
			}
		default:
			t.Fatalf("tar entry %q has type %c, want only directories and files", h.Name, h.Typeflag)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}
