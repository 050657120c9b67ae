// Command image builds the streamscaler container image without a Docker engine: it
// cross-compiles ./cmd/streamscaler for linux/amd64 and linux/arm64, puts each static
// binary on an empty base with CA certificates and a nonroot user, and writes both images
// under one OCI image index as an OCI image layout tarball. `make image` runs it:
//
//	cd hack/image && go run . -root ../.. -version v0.1.0 -commit $(git rev-parse HEAD)
//
// The same sources, commit time and Go toolchain give the same bytes: file times are the
// commit time (SOURCE_DATE_EPOCH, else -commit-time, else Unix 0), owners are root, entries
// are sorted, and the binaries are built with -trimpath.
//
// The tarball is an OCI image layout (oci-layout, index.json, blobs/sha256/...) whose
// index.json names the image (io.containerd.image.name, org.opencontainers.image.ref.name),
// plus a Docker manifest.json for Docker's classic image store, which reads nothing else.
// To use it:
//
//	docker load -i bin/streamscaler-image.tar
//	kind load image-archive bin/streamscaler-image.tar
//	mkdir image && tar -xf bin/streamscaler-image.tar -C image && crane push image ghcr.io/streamscaler/streamscaler:v0.1.0
//
// crane push reads a directory as an OCI image layout and, as index.json has one entry,
// pushes that entry: the image index with both platforms. Not --index: that pushes
// index.json itself, an index wrapping the image index, under another digest.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const (
	defaultSource = "https://github.com/streamscaler/streamscaler"
	defaultRepo   = "ghcr.io/streamscaler/streamscaler"
	// hostCACerts is Debian's bundle; the controller needs it to reach HTTPS metric sources.
	hostCACerts = "/etc/ssl/certs/ca-certificates.crt"
	// nonroot is distroless's nonroot user, which restricted Pod Security admission accepts.
	nonroot = 65532

	// Annotations containerd and Docker read in index.json to name an imported image.
	annotationContainerdName = "io.containerd.image.name"
	annotationRefName        = "org.opencontainers.image.ref.name"
)

// platforms are the ones the image is built for, in index order.
var platforms = []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64"}}

// options say what to build and how to stamp it.
type options struct {
	// Root is the repository root, holding go.mod and cmd/streamscaler.
	Root string
	// Out is the tarball to write.
	Out string
	// Version and Commit are stamped into the binary and the labels.
	Version, Commit string
	// Source is the repository URL of the org.opencontainers.image.source label.
	Source string
	// Ref names the image on import; it must carry a tag.
	Ref string
	// Epoch is every timestamp in the image and the tarball, in Unix seconds.
	Epoch int64
	// CACerts is the CA bundle copied into the image.
	CACerts string
}

// result is what build wrote.
type result struct {
	// Digest is the image index's: what a registry shows after crane push --index.
	Digest v1.Hash
	// Path is the tarball.
	Path string
	// Ref is the name the tarball gives the image.
	Ref name.Tag
}

func main() {
	var o options
	var commitTime int64
	flag.StringVar(&o.Root, "root", "../..", "repository root (holds go.mod and cmd/streamscaler)")
	flag.StringVar(&o.Out, "out", "", "tarball to write (default <root>/bin/streamscaler-image.tar)")
	flag.StringVar(&o.Version, "version", "dev", "version stamped into the binary and the labels; the default image tag")
	flag.StringVar(&o.Commit, "commit", "unknown", "commit stamped into the binary and the org.opencontainers.image.revision label")
	flag.Int64Var(&commitTime, "commit-time", 0, "commit time in Unix seconds, for every timestamp; SOURCE_DATE_EPOCH wins when set")
	flag.StringVar(&o.Source, "source", defaultSource, "repository URL for the org.opencontainers.image.source label")
	flag.StringVar(&o.Ref, "ref", "", "image reference recorded in the tarball (default "+defaultRepo+":<version>)")
	flag.Parse()
	if flag.NArg() > 0 {
		fail(fmt.Errorf("unexpected arguments %q", flag.Args()))
	}
	if o.Out == "" {
		o.Out = filepath.Join(o.Root, "bin", "streamscaler-image.tar")
	}
	if o.Ref == "" {
		o.Ref = defaultRepo + ":" + o.Version
	}
	o.CACerts = hostCACerts
	var err error
	if o.Epoch, err = epoch(os.Getenv("SOURCE_DATE_EPOCH"), commitTime); err != nil {
		fail(err)
	}
	start := time.Now()
	res, err := build(context.Background(), o)
	if err != nil {
		fail(err)
	}
	fmt.Printf("image index %s (%s)\n", res.Digest, res.Ref.Name())
	fmt.Printf("wrote %s in %s\n", res.Path, time.Since(start).Round(time.Second))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "image:", err)
	os.Exit(1)
}

// epoch picks the timestamp of everything in the image: SOURCE_DATE_EPOCH (the
// reproducible-builds convention) when set, else the commit time.
func epoch(sourceDateEpoch string, commitTime int64) (int64, error) {
	if sourceDateEpoch == "" {
		return commitTime, nil
	}
	t, err := strconv.ParseInt(sourceDateEpoch, 10, 64)
	if err != nil || t < 0 {
		return 0, fmt.Errorf("SOURCE_DATE_EPOCH %q is not a count of seconds since 1970", sourceDateEpoch)
	}
	return t, nil
}

// build compiles the binaries, assembles the image index and writes the tarball.
func build(ctx context.Context, o options) (result, error) {
	ref, err := name.NewTag(o.Ref)
	if err != nil {
		return result{}, fmt.Errorf("image reference %q: %w", o.Ref, err)
	}
	for what, v := range map[string]string{"version": o.Version, "commit": o.Commit} {
		// -ldflags is split on spaces, and quotes would need escaping.
		if v == "" || strings.ContainsAny(v, " \t\n'\"") {
			return result{}, fmt.Errorf("%s %q must be non-empty without spaces or quotes", what, v)
		}
	}
	if _, err := os.Stat(filepath.Join(o.Root, "cmd", "streamscaler")); err != nil {
		return result{}, fmt.Errorf("root %s is not the streamscaler repository: %w", o.Root, err)
	}
	certs, err := os.ReadFile(o.CACerts)
	if err != nil {
		return result{}, fmt.Errorf("reading the CA bundle for the image (install the Debian package ca-certificates): %w", err)
	}
	license, err := readLicense(o.Root)
	if err != nil {
		return result{}, err
	}
	created := time.Unix(o.Epoch, 0).UTC()

	work, err := os.MkdirTemp("", "streamscaler-image-")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(work)

	labels := map[string]string{
		"org.opencontainers.image.source":   o.Source,
		"org.opencontainers.image.revision": o.Commit,
		"org.opencontainers.image.version":  o.Version,
		"org.opencontainers.image.title":    "streamscaler",
	}
	if license != "" {
		labels["org.opencontainers.image.licenses"] = license
	}
	var adds []mutate.IndexAddendum
	images := map[string]v1.Image{}
	for _, p := range platforms {
		bin := filepath.Join(work, "streamscaler-"+p.Architecture)
		if err := compile(ctx, o, p, bin); err != nil {
			return result{}, err
		}
		binary, err := os.ReadFile(bin)
		if err != nil {
			return result{}, err
		}
		img, err := platformImage(p, binary, certs, created, labels)
		if err != nil {
			return result{}, fmt.Errorf("assembling the %s image: %w", p, err)
		}
		images[p.Architecture] = img
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
	// Registries show the index's annotations (GHCR links the package to its repository).
	idx = mutate.Annotations(idx, labels).(v1.ImageIndex)
	digest, err := idx.Digest()
	if err != nil {
		return result{}, fmt.Errorf("computing the image index digest: %w", err)
	}

	dir := filepath.Join(work, "layout")
	top := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: idx, Descriptor: v1.Descriptor{
		Annotations: map[string]string{annotationContainerdName: containerdName(ref), annotationRefName: ref.TagStr()},
	}})
	if _, err := layout.Write(dir, top); err != nil {
		return result{}, fmt.Errorf("writing the OCI image layout: %w", err)
	}
	if err := writeDockerManifest(dir, ref, images); err != nil {
		return result{}, err
	}
	if err := writeTarball(dir, o.Out, created); err != nil {
		return result{}, err
	}
	return result{Digest: digest, Path: o.Out, Ref: ref}, nil
}

// compile cross-compiles a static binary for p.
func compile(ctx context.Context, o options, p v1.Platform, out string) error {
	ldflags := fmt.Sprintf("-s -w -X main.version=%s -X main.commit=%s", o.Version, o.Commit)
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags, "-o", out, "./cmd/streamscaler")
	cmd.Dir = o.Root
	// The microarchitecture levels are pinned so that a developer's GOAMD64=v3 neither
	// changes the digest nor makes a binary older CPUs cannot run.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Architecture, "GOAMD64=v1", "GOARM64=v8.0")
	output, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("building streamscaler for %s: %w\n%s", p, err, output)
	}
	return nil
}

// platformImage puts the binary on an empty base with what a static Go binary expects
// of a Linux root: CA certificates, a passwd entry for its user, and a writable /tmp.
func platformImage(p v1.Platform, binary, certs []byte, created time.Time, labels map[string]string) (v1.Image, error) {
	files := []file{
		{name: "etc/", mode: 0o755},
		{name: "etc/group", mode: 0o644, body: []byte(fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", nonroot))},
		{name: "etc/passwd", mode: 0o644, body: []byte(fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/:/sbin/nologin\n", nonroot, nonroot))},
		{name: "etc/ssl/", mode: 0o755},
		{name: "etc/ssl/certs/", mode: 0o755},
		{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, body: certs},
		{name: "streamscaler", mode: 0o755, body: binary},
		{name: "tmp/", mode: 0o1777},
	}
	var buf bytes.Buffer
	if err := writeTar(&buf, files, created); err != nil {
		return nil, err
	}
	layerTar := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer), tarball.WithCompressionLevel(gzip.DefaultCompression), tarball.WithCompressedCaching)
	if err != nil {
		return nil, err
	}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{
		Created: v1.Time{Time: created}, CreatedBy: "hack/image: streamscaler, CA certificates, passwd, /tmp",
	}})
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture, cfg.Variant = p.OS, p.Architecture, p.Variant
	cfg.Created = v1.Time{Time: created}
	cfg.Config = v1.Config{
		Entrypoint: []string{"/streamscaler"},
		Cmd:        []string{"controller"},
		User:       fmt.Sprintf("%d:%d", nonroot, nonroot),
		Env:        []string{"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"},
		Labels:     labels,
	}
	return mutate.ConfigFile(img, cfg)
}

// file is one entry of a layer; a name ending in "/" is a directory.
type file struct {
	name string
	mode int64
	body []byte
}

// writeTar writes files in the order given, owned by root, all at one time, so the
// bytes depend on nothing but the contents.
func writeTar(w io.Writer, files []file, mtime time.Time) error {
	tw := tar.NewWriter(w)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, ModTime: mtime, Typeflag: tar.TypeReg, Size: int64(len(f.body))}
		if strings.HasSuffix(f.name, "/") {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("writing %s to a tar: %w", f.name, err)
		}
		if _, err := tw.Write(f.body); err != nil {
			return fmt.Errorf("writing %s to a tar: %w", f.name, err)
		}
	}
	return tw.Close()
}

// containerdName is the fully qualified name containerd and the kubelet look images up
// by (docker.io rather than go-containerregistry's index.docker.io).
func containerdName(ref name.Tag) string {
	registry := ref.RegistryStr()
	if registry == name.DefaultRegistry {
		registry = "docker.io"
	}
	return registry + "/" + ref.RepositoryStr() + ":" + ref.TagStr()
}

// writeDockerManifest adds the manifest.json of `docker save` to the layout: Docker's
// classic image store (not the containerd one) loads nothing else. It loads every entry
// and the last one keeps the tag, so amd64 comes last; `docker load --platform` picks one.
func writeDockerManifest(dir string, ref name.Tag, images map[string]v1.Image) error {
	var m tarball.Manifest
	for _, arch := range []string{"arm64", "amd64"} {
		img := images[arch]
		cfg, err := img.ConfigName()
		if err != nil {
			return err
		}
		layers, err := img.Layers()
		if err != nil {
			return err
		}
		d := tarball.Descriptor{Config: blobPath(cfg), RepoTags: []string{containerdName(ref)}}
		for _, l := range layers {
			h, err := l.Digest()
			if err != nil {
				return err
			}
			d.Layers = append(d.Layers, blobPath(h))
		}
		m = append(m, d)
	}
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "manifest.json"), data, 0o644)
}

func blobPath(h v1.Hash) string { return "blobs/" + h.Algorithm + "/" + h.Hex }

// writeTarball tars the layout directory to out through a temporary file, so a failed
// or interrupted build never leaves a truncated tarball under the final name.
func writeTarball(dir, out string, mtime time.Time) (err error) {
	var files []file
	// WalkDir visits in lexical order, so the entries are sorted.
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			files = append(files, file{name: rel + "/", mode: 0o755})
			return nil
		}
		body, err := os.ReadFile(path)
		files = append(files, file{name: rel, mode: 0o644, body: body})
		return err
	})
	if err != nil {
		return fmt.Errorf("reading the OCI image layout: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := writeTar(tmp, files, mtime); err != nil {
		return fmt.Errorf("writing %s: %w", out, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}

// readLicense returns the SPDX identifier of the repository's LICENSE file, or "" when
// there is none; a LICENSE it cannot identify is an error rather than a wrong label.
func readLicense(root string) (string, error) {
	text, err := os.ReadFile(filepath.Join(root, "LICENSE"))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if id := spdxID(string(text)); id != "" {
		return id, nil
	}
	return "", fmt.Errorf("%s: no known license text (teach spdxID in hack/image/main.go its SPDX identifier)", filepath.Join(root, "LICENSE"))
}

// spdxID recognises the licenses a Go project commonly carries by their opening words.
func spdxID(text string) string {
	t := strings.Join(strings.Fields(text), " ")
	switch {
	case strings.Contains(t, "Apache License Version 2.0"), strings.Contains(t, "Apache License, Version 2.0"):
		return "Apache-2.0"
	case strings.Contains(t, "Mozilla Public License Version 2.0"), strings.Contains(t, "Mozilla Public License, version 2.0"):
		return "MPL-2.0"
	case strings.Contains(t, "Permission is hereby granted, free of charge"):
		return "MIT"
	case strings.Contains(t, "Redistribution and use in source and binary forms"):
		if strings.Contains(t, "Neither the name") {
			return "BSD-3-Clause"
		}
		return "BSD-2-Clause"
	}
	return ""
}
