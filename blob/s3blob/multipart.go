package s3blob

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"messenger/blob"
)

var _ blob.Multipart = (*Store)(nil)

// errCode is the S3 error code of err, or "".
func errCode(err error) string {
	var nsu *types.NoSuchUpload
	if errors.As(err, &nsu) {
		return "NoSuchUpload"
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// CreateMultipart is CreateMultipartUpload.
func (s *Store) CreateMultipart(ctx context.Context, key, contentType string) (string, error) {
	k, err := s.key(key)
	if err != nil {
		return "", err
	}
	in := &s3.CreateMultipartUploadInput{Bucket: &s.cfg.Bucket, Key: k}
	if contentType != "" {
		in.ContentType = aws.String(contentType)
	}
	out, err := s.client.CreateMultipartUpload(ctx, in)
	if err != nil {
		return "", fmt.Errorf("s3blob: create multipart %s: %w", key, err)
	}
	return aws.ToString(out.UploadId), nil
}

// PresignPart signs an UploadPart with its Content-Length among the signed
// headers, so S3 refuses a body of any other length.
func (s *Store) PresignPart(ctx context.Context, key, uploadID string, number int, size int64, ttl time.Duration) (string, error) {
	k, err := s.key(key)
	if err != nil {
		return "", err
	}
	if number < 1 || number > blob.MaxParts || size <= 0 {
		return "", fmt.Errorf("s3blob: presign part %d of %d bytes: out of range", number, size)
	}
	req, err := s.presign.PresignUploadPart(ctx, &s3.UploadPartInput{
		Bucket: &s.cfg.Bucket, Key: k, UploadId: aws.String(uploadID),
		PartNumber: aws.Int32(int32(number)), ContentLength: aws.Int64(size), // #nosec G115 -- number <= MaxParts
	}, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("s3blob: presign part %s: %w", key, err)
	}
	return req.URL, nil
}

// ListParts pages through S3's ListParts.
func (s *Store) ListParts(ctx context.Context, key, uploadID string) ([]blob.Part, error) {
	k, err := s.key(key)
	if err != nil {
		return nil, err
	}
	var out []blob.Part
	p := s3.NewListPartsPaginator(s.client, &s3.ListPartsInput{Bucket: &s.cfg.Bucket, Key: k, UploadId: aws.String(uploadID)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if errCode(err) == "NoSuchUpload" {
			return nil, blob.ErrNoUpload
		}
		if err != nil {
			return nil, fmt.Errorf("s3blob: list parts %s: %w", key, err)
		}
		for _, pt := range page.Parts {
			out = append(out, blob.Part{Number: int(aws.ToInt32(pt.PartNumber)), Size: aws.ToInt64(pt.Size), ETag: aws.ToString(pt.ETag)})
		}
	}
	return out, nil
}

// CompleteMultipart is CompleteMultipartUpload.
func (s *Store) CompleteMultipart(ctx context.Context, key, uploadID string, parts []blob.Part) (blob.Info, error) {
	k, err := s.key(key)
	if err != nil {
		return blob.Info{}, err
	}
	if len(parts) == 0 {
		return blob.Info{}, blob.ErrBadParts
	}
	done := make([]types.CompletedPart, len(parts))
	for i, p := range parts {
		done[i] = types.CompletedPart{PartNumber: aws.Int32(int32(p.Number)), ETag: aws.String(p.ETag)} // #nosec G115 -- part numbers are small
	}
	_, err = s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &s.cfg.Bucket, Key: k, UploadId: aws.String(uploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done},
	})
	switch errCode(err) {
	case "":
	case "NoSuchUpload":
		return blob.Info{}, blob.ErrNoUpload
	case "InvalidPart", "InvalidPartOrder", "EntityTooSmall":
		return blob.Info{}, blob.ErrBadParts
	default:
		return blob.Info{}, fmt.Errorf("s3blob: complete multipart %s: %w", key, err)
	}
	return s.Stat(ctx, key)
}

// AbortMultipart is AbortMultipartUpload.
func (s *Store) AbortMultipart(ctx context.Context, key, uploadID string) error {
	k, err := s.key(key)
	if err != nil {
		return err
	}
	_, err = s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &s.cfg.Bucket, Key: k, UploadId: aws.String(uploadID)})
	if err != nil && errCode(err) != "NoSuchUpload" {
		return fmt.Errorf("s3blob: abort multipart %s: %w", key, err)
	}
	return nil
}
