// Command image packs the API's static binary into an OCI image archive
// without a Docker daemon or a base image (none can be pulled here): one
// layer on an empty base holding the binary, a CA bundle, /etc/passwd with
// the non-root user 65532, a writable /data and /tmp. scripts/image.sh
// builds the binary and runs it; `make image` runs that.
//
//	go run ./image -binary ../dist/messenger -out ../dist/messenger-oci.tar -tag messenger:dev
//
// The archive is an OCI image layout in a tar file: `podman load -i`,
// `skopeo copy oci-archive:...` and `docker load` read it.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func main() {
	var c Config
	flag.StringVar(&c.Binary, "binary", "", "the static API binary (CGO_ENABLED=0)")
	flag.StringVar(&c.CABundle, "ca", "/etc/ssl/certs/ca-certificates.crt", "PEM bundle of CA certificates to trust (TLS to Cassandra, OpenSearch, S3)")
	flag.StringVar(&c.Tag, "tag", "messenger:dev", "the image's reference name in the archive")
	flag.StringVar(&c.Revision, "revision", "", "source revision, recorded as the org.opencontainers.image.revision label")
	flag.StringVar(&c.Arch, "arch", runtime.GOARCH, "architecture the binary was built for")
	out := flag.String("out", "", "OCI archive to write")
	flag.Parse()
	if c.Binary == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: image -binary PATH -out ARCHIVE [-tag NAME:TAG]")
		os.Exit(2)
	}
	if epoch := os.Getenv("SOURCE_DATE_EPOCH"); epoch != "" {
		var sec int64
		if _, err := fmt.Sscan(epoch, &sec); err != nil {
			fmt.Fprintln(os.Stderr, "image: SOURCE_DATE_EPOCH:", err)
			os.Exit(2)
		}
		c.Created = time.Unix(sec, 0).UTC()
	}
	img, err := Build(c)
	if err == nil {
		err = WriteArchive(*out, c.Tag, img)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
	size, _ := CompressedSize(img)
	digest, _ := img.Digest()
	fmt.Printf("wrote %s: %s, %s, %.1f MiB compressed\n", *out, c.Tag, digest, float64(size)/(1<<20))
}

// CompressedSize is what pulling the image transfers: its layers, config
// and manifest.
func CompressedSize(img v1.Image) (int64, error) {
	m, err := img.Manifest()
	if err != nil {
		return 0, err
	}
	n := m.Config.Size
	for _, l := range m.Layers {
		n += l.Size
	}
	raw, err := img.RawManifest()
	return n + int64(len(raw)), err
}
