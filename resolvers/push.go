package resolvers

import (
	"context"

	"messenger/fault"
	"messenger/ids"
	"messenger/push"
)

// deviceType is the global id type of a push device.
const deviceType = "Device"

// notifications returns the caller and the push service, or UNAVAILABLE
// when push is not wired in.
func (r *Resolver) notifications(ctx context.Context) (string, *push.Service, error) {
	me, err := caller(ctx)
	if err != nil {
		return "", nil, err
	}
	if r.Notifications == nil {
		return "", nil, &fault.Error{Code: fault.Unavailable, Message: "push notifications are not available on this server"}
	}
	return me, r.Notifications, nil
}

// deviceGlobalID is a device's opaque id.
func deviceGlobalID(id string) string { return ids.Encode(deviceType, id) }

// deviceLocalID reads a device's opaque id; one that is not is NOT_FOUND.
func deviceLocalID(global string) (string, error) {
	id, err := ids.DecodeAs(deviceType, global)
	if err != nil {
		return "", fault.NotFoundf("device")
	}
	return id, nil
}

// nonEmpty is null for "".
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
