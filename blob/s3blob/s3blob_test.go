package s3blob_test

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/uuid"

	"messenger/blob"
	"messenger/blob/blobtest"
	"messenger/blob/s3blob"
)

// NewTestStore opens a store on its own random bucket of the MinIO (or S3)
// named by MESSENGER_S3_*, removed with its objects at the end of the test.
// It skips the test when MESSENGER_S3_ENDPOINT is unset.
func newTestStore(t *testing.T) blob.Store {
	t.Helper()
	endpoint := os.Getenv("MESSENGER_S3_ENDPOINT")
	if endpoint == "" {
		t.Skip("MESSENGER_S3_ENDPOINT is unset: start MinIO with `eval \"$(scripts/services.sh up minio)\"`")
	}
	ctx := context.Background()
	bucket := "t-" + uuid.NewString()
	s, err := s3blob.Open(ctx, s3blob.Config{
		Endpoint: endpoint, Bucket: bucket, Region: os.Getenv("MESSENGER_S3_REGION"),
		AccessKey: os.Getenv("MESSENGER_S3_ACCESS_KEY"), SecretKey: os.Getenv("MESSENGER_S3_SECRET_KEY"),
		CreateBucket: true, TempDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeBucket(t, s.Client(), bucket) })
	return s
}

func removeBucket(t *testing.T, c *s3.Client, bucket string) {
	ctx := context.Background()
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &bucket})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Errorf("cleanup: list %s: %v", bucket, err)
			return
		}
		for _, o := range page.Contents {
			_, _ = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: o.Key})
		}
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Errorf("cleanup: delete bucket %s: %v", bucket, err)
	}
}

func TestS3StoreContract(t *testing.T) {
	blobtest.Run(t, newTestStore)
}

func TestS3StoreMultipartContract(t *testing.T) {
	blobtest.RunMultipart(t, newTestStore)
}
