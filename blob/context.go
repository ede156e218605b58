package blob

import "context"

type baseURLKey struct{}

// WithBaseURL records the public base URL (scheme://host) under which the
// current request reached the API. Stores that serve their own URLs (the
// folder store) build absolute URLs from it.
func WithBaseURL(ctx context.Context, base string) context.Context {
	return context.WithValue(ctx, baseURLKey{}, base)
}

// BaseURL returns the base URL recorded by WithBaseURL, or def.
func BaseURL(ctx context.Context, def string) string {
	if b, ok := ctx.Value(baseURLKey{}).(string); ok && b != "" {
		return b
	}
	return def
}
