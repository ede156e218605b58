package observe

import (
	"context"
	"io"
	"time"

	"messenger/blob"
)

// Blobs wraps a blob store (backend "blob"). Get is timed until the
// object is open, not while the caller reads it.
func (o *Observer) Blobs(s blob.Store) blob.Store { return observedBlobs{Store: s, o: o} }

type observedBlobs struct {
	blob.Store
	o *Observer
}

var _ blob.Store = observedBlobs{}

func (b observedBlobs) Put(ctx context.Context, key string, r io.Reader, max int64, contentType string) (int64, error) {
	ctx, c := b.o.begin(ctx, "blob", "put")
	n, err := b.Store.Put(ctx, key, r, max, contentType)
	c.end(err)
	return n, err
}

func (b observedBlobs) Get(ctx context.Context, key string) (io.ReadCloser, blob.Info, error) {
	ctx, c := b.o.begin(ctx, "blob", "get")
	rc, info, err := b.Store.Get(ctx, key)
	c.end(err)
	return rc, info, err
}

func (b observedBlobs) Stat(ctx context.Context, key string) (blob.Info, error) {
	ctx, c := b.o.begin(ctx, "blob", "stat")
	info, err := b.Store.Stat(ctx, key)
	c.end(err)
	return info, err
}

func (b observedBlobs) Delete(ctx context.Context, key string) error {
	ctx, c := b.o.begin(ctx, "blob", "delete")
	err := b.Store.Delete(ctx, key)
	c.end(err)
	return err
}

func (b observedBlobs) PresignGet(ctx context.Context, key string, ttl time.Duration, opts blob.GetOptions) (string, error) {
	ctx, c := b.o.begin(ctx, "blob", "presign_get")
	u, err := b.Store.PresignGet(ctx, key, ttl, opts)
	c.end(err)
	return u, err
}

func (b observedBlobs) PresignPost(ctx context.Context, key string, max int64, ttl time.Duration) (blob.PostForm, error) {
	ctx, c := b.o.begin(ctx, "blob", "presign_post")
	f, err := b.Store.PresignPost(ctx, key, max, ttl)
	c.end(err)
	return f, err
}
