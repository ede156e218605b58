package resolvers

import "messenger/media"

// multipartType is the global id type of a large-file upload in progress
// (completion makes an Upload with the same raw id).
const multipartType = "MultipartUpload"

func multipart(m media.MultipartUpload, err error) (*media.MultipartUpload, error) {
	if err != nil {
		return nil, err
	}
	return &m, nil
}
