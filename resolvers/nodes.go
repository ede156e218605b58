package resolvers

import (
	"context"
	"errors"

	"messenger/fault"
	"messenger/ids"
	"messenger/storage"
)

// mediaNode resolves the global ids of media objects with the rules of
// their own queries: an upload for its uploader (`upload`), a story for
// whoever `story` shows it to, an attachment for whoever may see its
// message. Unknown types, and media not configured, are nil.
func (r *Resolver) mediaNode(ctx context.Context, me, typ, id string) (ids.Node, error) {
	if r.Media == nil {
		return nil, nil
	}
	switch typ {
	case uploadType:
		return asNode(r.Media.Upload(ctx, me, id))
	case storyType:
		return asNode(r.Media.Story(ctx, me, id))
	case attachmentType:
		return asNode(r.Media.Attachment(ctx, me, id))
	}
	return nil, nil
}

// asNode is orNull for node(id:): null is an untyped nil, never a nil
// pointer in the interface.
func asNode[T any](v T, err error) (ids.Node, error) {
	p, err := orNull(v, err)
	if p == nil {
		return nil, err
	}
	return p, nil
}

// orNull turns NOT_FOUND into null: an object the caller may not (or no
// longer) see.
func orNull[T any](v T, err error) (*T, error) {
	if errors.Is(err, fault.ErrNotFound) || errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &v, nil
}
