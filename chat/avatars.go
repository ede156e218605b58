package chat

import (
	"context"

	"messenger/fault"
	"messenger/storage"
)

// Avatars turns an uploaded image into an avatar: media implements it.
type Avatars interface {
	// MakeAvatar checks that uploadID is an image upload of me, re-encodes
	// it server-side (so no metadata of the original, such as EXIF GPS,
	// survives) with its thumbnails, stores them and returns the avatar.
	// Refusals are *fault.Error with Field "avatarUploadId"; nothing of a
	// refused upload is stored.
	MakeAvatar(ctx context.Context, me, uploadID string) (storage.Avatar, error)
}

// UseAvatars plugs in the avatar maker (media.New does). Without it, an
// avatarUploadId is refused with UNAVAILABLE.
func (s *Service) UseAvatars(a Avatars) { s.avatars.Store(&a) }

// avatarFrom makes the avatar an update asks for: keep (id nil), remove
// (id "") or make one from the upload.
func (s *Service) avatarFrom(ctx context.Context, me string, id *string, current *storage.Avatar) (*storage.Avatar, error) {
	switch {
	case id == nil:
		return current, nil
	case *id == "":
		return nil, nil
	}
	port := s.avatars.Load()
	if port == nil {
		return nil, &fault.Error{Code: fault.Unavailable, Message: "avatars are not enabled on this server"}
	}
	a, err := (*port).MakeAvatar(ctx, me, *id)
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// Profile returns a user's profile (the zero profile when none was set).
func (s *Service) Profile(ctx context.Context, userID string) (storage.Profile, error) {
	ps, err := s.store.Profiles(ctx, []string{userID})
	if err != nil {
		return storage.Profile{}, err
	}
	return ps[userID], nil
}

// GroupDetails returns a group's details (the zero value when none were set).
func (s *Service) GroupDetails(ctx context.Context, conversationID string) (storage.GroupDetails, error) {
	ds, err := s.store.GroupDetails(ctx, []string{conversationID})
	if err != nil {
		return storage.GroupDetails{}, err
	}
	return ds[conversationID], nil
}
