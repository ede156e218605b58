package storage

import (
	"context"
	"time"
)

// Push is the part of a Store behind push notifications: the devices users
// registered and each account's notification settings.
type Push interface {
	// PutDevice stores d, replacing the device with the same UserID and ID.
	PutDevice(ctx context.Context, d Device) error
	// Devices lists a user's devices ordered by id; a user with none (or
	// unknown) has an empty list.
	Devices(ctx context.Context, userID string) ([]Device, error)
	// DeleteDevice removes one of a user's devices, or returns ErrNotFound
	// when the user has no device with that id.
	DeleteDevice(ctx context.Context, userID, deviceID string) error
	// NotificationSettings returns a user's account settings; a user who
	// never set them gets the zero value (the defaults).
	NotificationSettings(ctx context.Context, userID string) (NotificationSettings, error)
	// PutNotificationSettings replaces a user's account settings.
	PutNotificationSettings(ctx context.Context, userID string, ns NotificationSettings) error
}

// Platform is the push service a device is reached through.
type Platform string

// The push services.
const (
	APNs    Platform = "APNS"
	FCM     Platform = "FCM"
	WebPush Platform = "WEB_PUSH"
)

// Device is one app installation (or browser) a user's pushes go to.
type Device struct {
	ID     string
	UserID string
	// SessionID is the session that registered it: ending that session
	// unregisters the device ("" when sessions are not tracked).
	SessionID string
	Platform  Platform
	// Token is the APNs device token or the FCM registration token.
	Token string
	// Endpoint, P256dh and Auth are a Web Push subscription: the push
	// service URL and the user agent's ECDH public key and auth secret
	// (base64url, as the browser's PushSubscription gives them).
	Endpoint string
	P256dh   string
	Auth     string
	// AppID is the APNs topic (bundle id) or the FCM project's app; "" is
	// the configured default.
	AppID     string
	Locale    string
	CreatedAt time.Time
}

// NotificationSettings are a user's account-wide notification choices. The
// zero value is the default: every message notifies, with a preview.
type NotificationSettings struct {
	// DefaultLevel applies to conversations whose member level is ""
	// ("" = NotifyAll).
	DefaultLevel NotificationLevel
	// HidePreview makes notifications say only who wrote, not what.
	HidePreview bool
}
