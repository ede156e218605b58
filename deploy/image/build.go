package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Config says what goes into the image.
type Config struct {
	// Binary is the path of the static API binary. Required.
	Binary string
	// CABundle is a PEM file copied to /etc/ssl/certs/ca-certificates.crt,
	// where Go's crypto/x509 looks on Linux. Empty: no CA bundle (TLS to
	// the backends then needs one mounted).
	CABundle string
	// Tag names the image in the archive (org.opencontainers.image.ref.name).
	Tag string
	// Revision is recorded as a label when set.
	Revision string
	// Arch is the binary's architecture (GOARCH). Default amd64.
	Arch string
	// Created is the image's and the files' timestamp. Default the Unix
	// epoch, so the same binary gives the same image digest.
	Created time.Time
}

// The image runs as this user and group (the "nonroot" of distroless
// images), never as root.
const (
	UID        = 65532
	Entrypoint = "/messenger"
	DataDir    = "/data"
)

// Build assembles the image: one layer on an empty base.
func Build(c Config) (v1.Image, error) {
	if c.Arch == "" {
		c.Arch = "amd64"
	}
	if c.Created.IsZero() {
		c.Created = time.Unix(0, 0).UTC()
	}
	files, err := c.files()
	if err != nil {
		return nil, err
	}
	data, err := tarFiles(files, c.Created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("image: layer: %w", err)
	}
	img, err := mutate.Append(mutate.MediaType(mutate.ConfigMediaType(empty.Image, types.OCIConfigJSON), types.OCIManifestSchema1),
		mutate.Addendum{Layer: layer, History: v1.History{Created: v1.Time{Time: c.Created}, CreatedBy: "deploy/image", Comment: "static API binary, CA bundle, non-root user"}})
	if err != nil {
		return nil, fmt.Errorf("image: append layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image: config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Created = "linux", c.Arch, v1.Time{Time: c.Created}
	cf.Config.Entrypoint = []string{Entrypoint}
	cf.Config.User = fmt.Sprintf("%d:%d", UID, UID)
	cf.Config.WorkingDir = "/"
	cf.Config.Env = []string{"MESSENGER_DATA_DIR=" + DataDir, "TMPDIR=/tmp"}
	cf.Config.ExposedPorts = map[string]struct{}{"8080/tcp": {}}
	cf.Config.Labels = map[string]string{
		"org.opencontainers.image.title":       "messenger",
		"org.opencontainers.image.description": "Messenger GraphQL API",
	}
	if c.Revision != "" {
		cf.Config.Labels["org.opencontainers.image.revision"] = c.Revision
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("image: set config: %w", err)
	}
	return img, nil
}

// file is one entry of the layer.
type file struct {
	name string
	mode int64
	uid  int
	body []byte // nil for a directory
}

func (c Config) files() ([]file, error) {
	bin, err := os.ReadFile(c.Binary)
	if err != nil {
		return nil, fmt.Errorf("image: read binary: %w", err)
	}
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", UID, UID)
	group := fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", UID)
	fs := []file{
		{name: "etc/", mode: 0o755},
		{name: "etc/passwd", mode: 0o644, body: []byte(passwd)},
		{name: "etc/group", mode: 0o644, body: []byte(group)},
		{name: "home/", mode: 0o755},
		{name: "home/nonroot/", mode: 0o700, uid: UID},
		{name: "tmp/", mode: 0o1777},
		{name: DataDir[1:] + "/", mode: 0o750, uid: UID},
		{name: Entrypoint[1:], mode: 0o755, body: bin},
	}
	if c.CABundle != "" {
		ca, err := os.ReadFile(c.CABundle)
		if err != nil {
			return nil, fmt.Errorf("image: read CA bundle (-ca \"\" leaves it out): %w", err)
		}
		fs = append(fs, file{name: "etc/ssl/", mode: 0o755}, file{name: "etc/ssl/certs/", mode: 0o755},
			file{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, body: ca})
	}
	return fs, nil
}

func tarFiles(files []file, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, Uid: f.uid, Gid: f.uid, ModTime: mtime, Format: tar.FormatPAX}
		if f.body == nil {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("image: tar %s: %w", f.name, err)
		}
		if _, err := tw.Write(f.body); err != nil {
			return nil, fmt.Errorf("image: tar %s: %w", f.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("image: tar: %w", err)
	}
	return buf.Bytes(), nil
}

// WriteArchive writes img as an OCI image layout, tagged tag, into the tar
// file path (replaced atomically).
func WriteArchive(path, tag string, img v1.Image) error {
	dir, err := os.MkdirTemp("", "messenger-oci-")
	if err != nil {
		return fmt.Errorf("image: %w", err)
	}
	defer os.RemoveAll(dir)
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("image: write layout: %w", err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": tag})); err != nil {
		return fmt.Errorf("image: write layout: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("image: %w", err)
	}
	tmp := path + ".tmp"
	if err := tarDir(dir, tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("image: %w", err)
	}
	return nil
}

// tarDir archives the layout directory (regular files and directories,
// in lexical order, fixed times) into out.
func tarDir(dir, out string) error {
	f, err := os.Create(out)
	if err != nil {
		return fmt.Errorf("image: %w", err)
	}
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		h := &tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
		if d.IsDir() {
			h.Name, h.Typeflag, h.Mode = h.Name+"/", tar.TypeDir, 0o755
			return tw.WriteHeader(h)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		h.Typeflag, h.Size = tar.TypeReg, info.Size()
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		src, err := os.Open(path)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(tw, src)
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("image: archive %s: %w", out, err)
	}
	return nil
}
