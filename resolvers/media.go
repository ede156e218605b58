package resolvers

import (
	"context"

	"messenger/fault"
	"messenger/ids"
	"messenger/loaders"
	"messenger/media"
	"messenger/storage"
)

// Global id types of media objects.
const (
	uploadType     = "Upload"
	storyType      = "Story"
	attachmentType = "Attachment"
)

// media returns the media service, or UNAVAILABLE when this server was
// assembled without one.
func (r *Resolver) media() (*media.Service, error) {
	if r.Media == nil {
		return nil, &fault.Error{Code: fault.Unavailable, Message: "uploads and stories are not configured on this server"}
	}
	return r.Media, nil
}

// callerAndMedia returns the caller and the media service (UNAVAILABLE when
// uploads are not configured).
func (r *Resolver) callerAndMedia(ctx context.Context) (string, *media.Service, error) {
	m, err := r.media()
	if err != nil {
		return "", nil, err
	}
	me, err := caller(ctx)
	return me, m, err
}

// callerMedia returns the caller, the media service and the decoded id.
func (r *Resolver) callerMedia(ctx context.Context, typ, global string) (string, *media.Service, string, error) {
	m, err := r.media()
	if err != nil {
		return "", nil, "", err
	}
	me, id, err := callerAnd(ctx, typ, global)
	if err != nil {
		return "", nil, "", &fault.Error{Code: fault.NotFound, Message: typ + " not found"}
	}
	return me, m, id, nil
}

// attachments resolves Message.attachments through the request's loader,
// so a page of messages makes one lookup (none without media configured).
func (r *Resolver) attachments(ctx context.Context, m *storage.Message) ([]*media.Attachment, error) {
	if r.Media == nil {
		return []*media.Attachment{}, nil
	}
	as, err := loaders.For(ctx).Attachments(ctx, r.Media, *m)
	out := make([]*media.Attachment, len(as))
	for i := range as {
		out[i] = &as[i]
	}
	return out, err
}

func positive(n int) *int {
	if n <= 0 {
		return nil
	}
	return &n
}

func story(st media.Story, err error) (*media.Story, error) {
	if err != nil {
		return nil, err
	}
	return &st, nil
}

// optStory resolves an event's story: null when it is gone or hidden.
func (r *Resolver) optStory(ctx context.Context, id string) (*media.Story, error) {
	me, m, err := r.callerAndMedia(ctx)
	if err != nil {
		return nil, err
	}
	st, err := m.Story(ctx, me, id)
	if err != nil {
		return nil, nil
	}
	return &st, nil
}

func upload(u media.Upload, err error) (*media.Upload, error) {
	if err != nil {
		return nil, err
	}
	return &u, nil
}

func storyID(id string) string { return ids.Encode(storyType, id) }
