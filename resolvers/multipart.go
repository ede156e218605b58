package resolvers

import (
	"context"

	"messenger/fault"
	"messenger/ids"
	"messenger/media"
)

// multipartType is the global id type of a large-file upload in progress
// (completion makes an Upload with the same raw id).
const multipartType = "MultipartUpload"

func multipart(m media.MultipartUpload, err error) (*media.MultipartUpload, error) {
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// callerMultipart returns the caller (UNAUTHENTICATED when signed out), the
// media service and the raw id of a MultipartUpload global id (NOT_FOUND
// when it is not one).
func (r *Resolver) callerMultipart(ctx context.Context, global string) (string, *media.Service, string, error) {
	me, m, err := r.callerAndMedia(ctx)
	if err != nil {
		return "", nil, "", err
	}
	id, err := ids.DecodeAs(multipartType, global)
	if err != nil {
		return "", nil, "", &fault.Error{Code: fault.NotFound, Message: "multipart upload not found"}
	}
	return me, m, id, nil
}
