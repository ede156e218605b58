package resolvers

import (
	"context"

	"messenger/auth"
	"messenger/chat"
)

// device is what a sign-up or log-in says about its device, with the
// request's address.
func device(ctx context.Context, name, platform *string) chat.Device {
	d := chat.Device{IP: auth.ClientIP(ctx)}
	if name != nil {
		d.Name = *name
	}
	if platform != nil {
		d.Platform = *platform
	}
	return d
}
