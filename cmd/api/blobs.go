package main

import (
	"context"
	"crypto/sha256"
	"path/filepath"

	"messenger/blob"
	"messenger/blob/folder"
	"messenger/blob/s3blob"
)

// s3Configured reports whether blobs go to S3 (or MinIO) rather than to
// <data>/blobs.
func s3Configured(cfg config) bool { return cfg.S3Endpoint != "" || cfg.S3Bucket != "" }

// openS3 opens the configured bucket, creating it if it does not exist.
func openS3(ctx context.Context, cfg config) (*s3blob.Store, error) {
	return s3blob.Open(ctx, s3blob.Config{
		Endpoint: cfg.S3Endpoint, Bucket: cfg.S3Bucket, Region: cfg.S3Region,
		AccessKey: cfg.S3AccessKey, SecretKey: cfg.S3SecretKey, CreateBucket: true,
	})
}

// blobURLKey is the key that signs download URLs, derived from the token
// key but of its own: a download URL must never be usable as a token, nor
// the reverse. The API's /blobs/ handler checks URLs with it.
func blobURLKey(signingKey []byte) []byte {
	k := sha256.Sum256(append([]byte("messenger blob urls\x00"), signingKey...))
	return k[:]
}

// openFolder opens <data>/blobs, whose signed URLs the API serves under
// /blobs/.
func openFolder(cfg config, signingKey []byte) (*folder.Store, error) {
	public, err := publicURL(cfg)
	if err != nil {
		return nil, err
	}
	return folder.Open(folder.Config{Dir: filepath.Join(cfg.DataDir, "blobs"), Secret: blobURLKey(signingKey), BaseURL: public})
}

// openBlobs opens the blob store every part of the API shares: S3 when
// configured, else <data>/blobs.
func openBlobs(ctx context.Context, cfg config, signingKey []byte) (blob.Store, error) {
	if s3Configured(cfg) {
		return openS3(ctx, cfg)
	}
	return openFolder(cfg, signingKey)
}
