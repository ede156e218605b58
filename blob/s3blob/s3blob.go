// Package s3blob is the distributed blob store: S3 or an S3-compatible
// server (MinIO) through aws-sdk-go-v2, with path-style addressing so a
// bucket needs no DNS name.
package s3blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"messenger/blob"
)

var _ blob.Store = (*Store)(nil)

// Config configures the S3 store. Zero values are documented defaults.
type Config struct {
	// Endpoint is the server's URL, e.g. http://127.0.0.1:9000. Empty uses
	// AWS's regional endpoint.
	Endpoint string
	// Bucket holds every object. Required.
	Bucket string
	// Region (default "us-east-1").
	Region string
	// AccessKey and SecretKey are static credentials. Required.
	AccessKey, SecretKey string
	// Prefix is prepended to every key (e.g. "test-123/"), so several
	// deployments or tests can share a bucket. Default "".
	Prefix string
	// CreateBucket creates Bucket at Open when it does not exist.
	CreateBucket bool
	// TempDir spools Put bodies (default os.TempDir()): S3 needs a length
	// up front, and the limit must be checked before anything is sent.
	TempDir string
	// HTTPClient (default: the SDK's).
	HTTPClient *http.Client
}

// Store is the S3-backed blob.Store.
type Store struct {
	cfg     Config
	client  *s3.Client
	presign *s3.PresignClient
}

// Open checks the bucket (creating it when asked) and returns the store.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Bucket == "" || cfg.AccessKey == "" || cfg.SecretKey == "" {
		return nil, errors.New("s3blob: Bucket, AccessKey and SecretKey are required")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.TempDir == "" {
		cfg.TempDir = os.TempDir()
	}
	creds := aws.Credentials{AccessKeyID: cfg.AccessKey, SecretAccessKey: cfg.SecretKey, Source: "messenger config"}
	awsCfg := aws.Config{
		Region: cfg.Region,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return creds, nil
		}),
	}
	if cfg.HTTPClient != nil {
		awsCfg.HTTPClient = cfg.HTTPClient
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		o.UsePathStyle = true
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(strings.TrimRight(cfg.Endpoint, "/"))
		}
		// MinIO and S3 both accept checksums, but only when required keeps
		// presigned URLs free of checksum parameters.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	s := &Store{cfg: cfg, client: client, presign: s3.NewPresignClient(client)}
	_, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &cfg.Bucket})
	if err != nil && cfg.CreateBucket && isNotFound(err) {
		_, err = client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &cfg.Bucket})
	}
	if err != nil {
		return nil, fmt.Errorf("s3blob: bucket %s at %s: %w", cfg.Bucket, cfg.Endpoint, err)
	}
	return s, nil
}

// Client exposes the SDK client (tests clean their buckets with it).
func (s *Store) Client() *s3.Client { return s.client }

func (s *Store) key(k string) (*string, error) {
	if err := blob.ValidKey(k); err != nil {
		return nil, err
	}
	return aws.String(s.cfg.Prefix + k), nil
}

func isNotFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	var nsb *types.NoSuchBucket
	if errors.As(err, &nsk) || errors.As(err, &nf) || errors.As(err, &nsb) {
		return true
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorCode() == "NotFound" || ae.ErrorCode() == "NoSuchKey" || ae.ErrorCode() == "NoSuchBucket")
}

// Put spools r to a temporary file through the limit, then uploads it with
// its length and If-None-Match: * (S3's conditional write, also MinIO's):
// the limit is enforced while reading, S3 never sees a partial or oversized
// object, and never replaces one.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, max int64, contentType string) (int64, error) {
	k, err := s.key(key)
	if err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(s.cfg.TempDir, "s3put-")
	if err != nil {
		return 0, fmt.Errorf("s3blob: put %s: %w", key, err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	defer func() { _ = tmp.Close() }()
	src := r
	if max > 0 {
		src = &blob.LimitedReader{R: r, N: max}
	}
	n, err := io.Copy(tmp, src)
	if errors.Is(err, blob.ErrTooLarge) {
		return 0, blob.ErrTooLarge
	}
	if err != nil {
		return 0, fmt.Errorf("s3blob: put %s: %w", key, err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("s3blob: put %s: %w", key, err)
	}
	in := &s3.PutObjectInput{Bucket: &s.cfg.Bucket, Key: k, Body: tmp, ContentLength: aws.Int64(n), IfNoneMatch: aws.String("*")}
	if contentType != "" {
		in.ContentType = aws.String(contentType)
	}
	_, err = s.client.PutObject(ctx, in)
	if isExists(err) {
		return 0, blob.ErrExists
	}
	if err != nil {
		return 0, fmt.Errorf("s3blob: put %s: %w", key, err)
	}
	return n, nil
}

// isExists: a conditional write found an object (412), or lost to a
// concurrent one (409).
func isExists(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorCode() == "PreconditionFailed" || ae.ErrorCode() == "ConditionalRequestConflict")
}

// Get streams the object from S3.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, blob.Info, error) {
	k, err := s.key(key)
	if err != nil {
		return nil, blob.Info{}, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.cfg.Bucket, Key: k})
	if isNotFound(err) {
		return nil, blob.Info{}, blob.ErrNotFound
	}
	if err != nil {
		return nil, blob.Info{}, fmt.Errorf("s3blob: get %s: %w", key, err)
	}
	return out.Body, blob.Info{Key: key, Size: aws.ToInt64(out.ContentLength), ContentType: aws.ToString(out.ContentType), ModTime: aws.ToTime(out.LastModified)}, nil
}

// Stat is a HEAD request.
func (s *Store) Stat(ctx context.Context, key string) (blob.Info, error) {
	k, err := s.key(key)
	if err != nil {
		return blob.Info{}, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.cfg.Bucket, Key: k})
	if isNotFound(err) {
		return blob.Info{}, blob.ErrNotFound
	}
	if err != nil {
		return blob.Info{}, fmt.Errorf("s3blob: stat %s: %w", key, err)
	}
	return blob.Info{Key: key, Size: aws.ToInt64(out.ContentLength), ContentType: aws.ToString(out.ContentType), ModTime: aws.ToTime(out.LastModified)}, nil
}

// Delete removes the object; S3 answers success for a missing key too.
func (s *Store) Delete(ctx context.Context, key string) error {
	k, err := s.key(key)
	if err != nil {
		return err
	}
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.cfg.Bucket, Key: k}); err != nil && !isNotFound(err) {
		return fmt.Errorf("s3blob: delete %s: %w", key, err)
	}
	return nil
}

// PresignGet signs a GET with response-header overrides.
func (s *Store) PresignGet(ctx context.Context, key string, ttl time.Duration, opts blob.GetOptions) (string, error) {
	k, err := s.key(key)
	if err != nil {
		return "", err
	}
	in := &s3.GetObjectInput{Bucket: &s.cfg.Bucket, Key: k}
	if opts.ContentType != "" {
		in.ResponseContentType = aws.String(opts.ContentType)
	}
	if opts.ContentDisposition != "" {
		in.ResponseContentDisposition = aws.String(opts.ContentDisposition)
	}
	req, err := s.presign.PresignGetObject(ctx, in, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("s3blob: presign get %s: %w", key, err)
	}
	return req.URL, nil
}

// PresignPost signs a POST policy with content-length-range [1, max].
func (s *Store) PresignPost(ctx context.Context, key string, max int64, ttl time.Duration) (blob.PostForm, error) {
	k, err := s.key(key)
	if err != nil {
		return blob.PostForm{}, err
	}
	req, err := s.presign.PresignPostObject(ctx, &s3.PutObjectInput{Bucket: &s.cfg.Bucket, Key: k}, func(o *s3.PresignPostOptions) {
		o.Expires = ttl
		o.Conditions = []any{[]any{"content-length-range", 1, max}}
	})
	if err != nil {
		return blob.PostForm{}, fmt.Errorf("s3blob: presign post %s: %w", key, err)
	}
	return blob.PostForm{URL: req.URL, Fields: req.Values, Expires: time.Now().Add(ttl)}, nil
}

// List pages through ListObjectsV2 (which S3 answers in byte order).
func (s *Store) List(ctx context.Context, prefix, after string, limit int) ([]string, error) {
	if err := blob.ValidPrefix(prefix); err != nil {
		return nil, err
	}
	in := &s3.ListObjectsV2Input{Bucket: &s.cfg.Bucket, Prefix: aws.String(s.cfg.Prefix + prefix), MaxKeys: aws.Int32(int32(min(max(limit, 1), 1000)))}
	if after != "" {
		in.StartAfter = aws.String(s.cfg.Prefix + after)
	}
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.client, in)
	for p.HasMorePages() && len(keys) < limit {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("s3blob: list %s: %w", prefix, err)
		}
		for _, o := range page.Contents {
			if len(keys) < limit {
				keys = append(keys, strings.TrimPrefix(aws.ToString(o.Key), s.cfg.Prefix))
			}
		}
	}
	return keys, nil
}
