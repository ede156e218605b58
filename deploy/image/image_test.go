package main

import (
	"archive/tar"
	"context"
	"debug/elf"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// maxCompressed bounds what pulling the image transfers (it was 21.8 MiB
// with a 60 MB binary in December 2026).
const maxCompressed = 40 << 20

// entry is one file of the image's filesystem.
type entry struct {
	hdr  *tar.Header
	body []byte
}

// filesystem reads the image's layers (one, here) into a map by path.
func filesystem(t *testing.T, img v1.Image) map[string]entry {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	fs := map[string]entry{}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			fs["/"+strings.TrimSuffix(h.Name, "/")] = entry{h, b}
		}
		rc.Close()
	}
	return fs
}

// checkImage asserts what every build of the image must be: it starts the
// binary, as a non-root user, with a writable data directory and /tmp.
func checkImage(t *testing.T, img v1.Image) map[string]entry {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(cf.Config.Entrypoint, " ") != Entrypoint || len(cf.Config.Cmd) != 0 {
		t.Errorf("entrypoint %v cmd %v, want [%s] and no cmd", cf.Config.Entrypoint, cf.Config.Cmd, Entrypoint)
	}
	if u, _, _ := strings.Cut(cf.Config.User, ":"); u == "" || u == "0" || u == "root" {
		t.Errorf("the image runs as %q: want a non-root uid", cf.Config.User)
	}
	if cf.OS != "linux" {
		t.Errorf("OS %q", cf.OS)
	}
	fs := filesystem(t, img)
	bin, ok := fs[Entrypoint]
	if !ok || bin.hdr.Mode&0o111 == 0 {
		t.Fatalf("%s is missing or not executable", Entrypoint)
	}
	for path, want := range map[string]int64{"/tmp": 0o1777, DataDir: 0o750} {
		e, ok := fs[path]
		if !ok || e.hdr.Typeflag != tar.TypeDir || e.hdr.Mode != want {
			t.Errorf("%s: want a directory with mode %o, got %+v", path, want, e.hdr)
		}
	}
	if e := fs[DataDir]; e.hdr != nil && e.hdr.Uid != UID {
		t.Errorf("%s belongs to uid %d, not the image's user %d", DataDir, e.hdr.Uid, UID)
	}
	if !strings.Contains(string(fs["/etc/passwd"].body), ":65532:65532:") {
		t.Error("/etc/passwd does not name the image's user")
	}
	return fs
}

func TestImageRunsItsBinaryAsNonRootOnAnEmptyBase(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "api")
	if err := os.WriteFile(bin, []byte("\x7fELF not really"), 0o755); err != nil {
		t.Fatal(err)
	}
	img, err := Build(Config{Binary: bin, CABundle: ""})
	if err != nil {
		t.Fatal(err)
	}
	fs := checkImage(t, img)
	if string(fs[Entrypoint].body) != "\x7fELF not really" {
		t.Error("the image does not hold the given binary")
	}
	if layers, _ := img.Layers(); len(layers) != 1 {
		t.Errorf("%d layers, want one on an empty base", len(layers))
	}
	// The same input gives the same image, so a rebuild is a no-op to push.
	again, _ := Build(Config{Binary: bin, CABundle: ""})
	d1, _ := img.Digest()
	d2, _ := again.Digest()
	if d1 != d2 {
		t.Errorf("two builds of the same binary differ: %s and %s", d1, d2)
	}
}

// readArchive opens an OCI archive written by WriteArchive.
func readArchive(t *testing.T, path string) (v1.Image, string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run `make image` first)", err)
	}
	defer f.Close()
	dir := t.TempDir()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(dir, filepath.Clean("/"+h.Name))
		if h.Typeflag == tar.TypeDir {
			os.MkdirAll(target, 0o755)
			continue
		}
		os.MkdirAll(filepath.Dir(target), 0o755)
		out, err := os.Create(target)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, tr); err != nil {
			t.Fatal(err)
		}
		out.Close()
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatalf("not an OCI layout: %v", err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil || len(im.Manifests) != 1 {
		t.Fatalf("want one image in the archive: %v %v", im, err)
	}
	img, err := p.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	return img, im.Manifests[0].Annotations["org.opencontainers.image.ref.name"]
}

// The archive `make image` built (MESSENGER_IMAGE, set by make test): the
// real binary is static, the image is small, and the binary it holds
// serves /healthz.
func TestBuiltImageIsSmallStaticAndServes(t *testing.T) {
	path := os.Getenv("MESSENGER_IMAGE")
	if path == "" {
		t.Skip("set MESSENGER_IMAGE=dist/messenger-oci.tar after `make image` (make test does)")
	}
	img, ref := readArchive(t, path)
	if !strings.HasPrefix(ref, "messenger:") {
		t.Errorf("the archive names the image %q", ref)
	}
	fs := checkImage(t, img)
	if size, err := CompressedSize(img); err != nil || size > maxCompressed {
		t.Errorf("the image is %d bytes compressed (bound %d): %v", size, maxCompressed, err)
	}
	if len(fs["/etc/ssl/certs/ca-certificates.crt"].body) == 0 {
		t.Error("no CA bundle: TLS to the backends would fail")
	}

	bin := filepath.Join(t.TempDir(), "messenger")
	if err := os.WriteFile(bin, fs[Entrypoint].body, 0o755); err != nil {
		t.Fatal(err)
	}
	ef, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("the entrypoint is not an ELF binary: %v", err)
	}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary needs a dynamic loader: build it with CGO_ENABLED=0")
		}
	}
	if libs, _ := ef.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary links %v", libs)
	}
	ef.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := []string{"MESSENGER_HTTP_ADDR=" + addr, "MESSENGER_DATA_DIR=" + t.TempDir(), "PATH=/usr/bin:/bin", "HOME=" + t.TempDir()}
	cmd := exec.Command(bin)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("the image's binary did not answer /healthz: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The container health check (compose.yaml) is the binary asking itself.
	hc := exec.Command(bin, "healthcheck", "-path", "/readyz")
	hc.Env = env
	if out, err := hc.CombinedOutput(); err != nil {
		t.Errorf("`messenger healthcheck -path /readyz`: %v\n%s", err, out)
	}
}
