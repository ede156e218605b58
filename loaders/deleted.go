package loaders

import (
	"context"
	"errors"

	"messenger/storage"
)

// DeletedUsername and DeletedDisplayName are what a user who cannot be
// loaded shows as (usernames that textrules reserves, so no one can take
// them).
const (
	DeletedUsername    = storage.DeletedUsername
	DeletedDisplayName = storage.DeletedDisplayName
)

// DeletedUser is the placeholder for a user another object refers to (a
// message's sender, a member, a reader) whose account is gone or never
// existed: it keeps the id, so the reference stays stable, and carries no
// other data.
func DeletedUser(id string) storage.User {
	return storage.User{ID: id, Username: DeletedUsername, DisplayName: DeletedDisplayName}
}

// UserOrDeleted loads a user another object refers to, or DeletedUser when
// there is no such user: one bad row (a sender whose account is gone) must
// not fail its message, its conversation and the whole list they are in.
// Other errors (the store being down) are returned as they are.
func (l *Loaders) UserOrDeleted(ctx context.Context, id string) (storage.User, error) {
	u, err := l.User(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return DeletedUser(id), nil
	}
	return u, err
}
