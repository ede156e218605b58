package push

import (
	"context"
	"crypto/ecdh"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/google/uuid"

	"messenger/fault"
	"messenger/storage"
)

// DeviceInput is what an app registers.
type DeviceInput struct {
	Platform storage.Platform
	// Token is the APNs device token (hex) or the FCM registration token.
	Token string
	// Endpoint, P256dh and Auth are a Web Push subscription.
	Endpoint, P256dh, Auth string
	AppID, Locale          string
}

// validate checks in for its platform and returns the device it makes.
func (in DeviceInput) validate() error {
	if len(in.AppID) > 255 {
		return fault.BadInput("appId", "appId must be at most 255 characters")
	}
	if len(in.Locale) > 35 {
		return fault.BadInput("locale", "locale must be a BCP 47 tag of at most 35 characters")
	}
	switch in.Platform {
	case storage.APNs:
		if _, err := hex.DecodeString(in.Token); err != nil || len(in.Token) < 32 || len(in.Token) > 200 {
			return fault.BadInput("token", "an APNs device token is 32 to 200 hexadecimal characters")
		}
	case storage.FCM:
		if in.Token == "" || len(in.Token) > 4096 || strings.ContainsAny(in.Token, " \n\t") {
			return fault.BadInput("token", "an FCM registration token is 1 to 4096 characters without spaces")
		}
	case storage.WebPush:
		u, err := url.Parse(in.Endpoint)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || len(in.Endpoint) > 2048 {
			return fault.BadInput("subscription.endpoint", "a Web Push endpoint is an absolute https URL")
		}
		k, err := decode64(in.P256dh)
		if err == nil {
			_, err = ecdh.P256().NewPublicKey(k)
		}
		if err != nil {
			return fault.BadInput("subscription.p256dh", "p256dh must be a base64url P-256 public key (65 bytes)")
		}
		if a, err := decode64(in.Auth); err != nil || len(a) != 16 {
			return fault.BadInput("subscription.auth", "auth must be a base64url 16-byte secret")
		}
	default:
		return fault.BadInput("platform", "platform must be APNS, FCM or WEB_PUSH")
	}
	return nil
}

// address is what identifies an app installation at its provider: the
// same token registered again is the same device.
func address(p storage.Platform, token, endpoint string) string {
	if p == storage.WebPush {
		return string(p) + " " + endpoint
	}
	return string(p) + " " + token
}

// RegisterDevice registers (or re-registers) a device of mine, bound to
// my current session. The same token (or Web Push endpoint) registered
// again updates the device it names, keeping its id. Beyond MaxDevices,
// the least recently registered device is dropped.
func (s *Service) RegisterDevice(ctx context.Context, me string, in DeviceInput) (storage.Device, error) {
	if err := in.validate(); err != nil {
		return storage.Device{}, err
	}
	existing, err := s.store.Devices(ctx, me)
	if err != nil {
		return storage.Device{}, fmt.Errorf("push: devices of %s: %w", me, err)
	}
	id, err := uuid.NewV7() // time-ordered: ties of CreatedAt sort by id
	if err != nil {
		return storage.Device{}, fmt.Errorf("push: device id: %w", err)
	}
	d := storage.Device{
		ID: id.String(), UserID: me, Platform: in.Platform, Token: in.Token,
		Endpoint: in.Endpoint, P256dh: in.P256dh, Auth: in.Auth, AppID: in.AppID, Locale: in.Locale,
		CreatedAt: s.cfg.Now().UTC().Truncate(1e6),
	}
	if s.cfg.SessionOf != nil {
		d.SessionID = s.cfg.SessionOf(ctx)
	}
	addr := address(in.Platform, in.Token, in.Endpoint)
	others := existing[:0:0]
	for _, x := range existing {
		if address(x.Platform, x.Token, x.Endpoint) == addr {
			d.ID = x.ID // the same installation: keep its id
			continue
		}
		others = append(others, x)
	}
	sort.Slice(others, func(i, j int) bool {
		a, b := others[i], others[j]
		return a.CreatedAt.Before(b.CreatedAt) || a.CreatedAt.Equal(b.CreatedAt) && a.ID < b.ID
	})
	for len(others) >= s.cfg.MaxDevices {
		if err := s.store.DeleteDevice(ctx, me, others[0].ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return storage.Device{}, fmt.Errorf("push: drop the oldest device: %w", err)
		}
		others = others[1:]
	}
	if err := s.store.PutDevice(ctx, d); err != nil {
		return storage.Device{}, fmt.Errorf("push: register device: %w", err)
	}
	return d, nil
}

// UnregisterDevice removes a device of mine, or NOT_FOUND.
func (s *Service) UnregisterDevice(ctx context.Context, me, deviceID string) error {
	err := s.store.DeleteDevice(ctx, me, deviceID)
	if errors.Is(err, storage.ErrNotFound) {
		return fault.NotFoundf("device")
	}
	if err != nil {
		return fmt.Errorf("push: unregister device: %w", err)
	}
	return nil
}

// Devices lists my devices.
func (s *Service) Devices(ctx context.Context, me string) ([]storage.Device, error) {
	ds, err := s.store.Devices(ctx, me)
	if err != nil {
		return nil, fmt.Errorf("push: devices of %s: %w", me, err)
	}
	return ds, nil
}

// SessionEnded unregisters the devices a session registered: a device
// belongs to the session it was registered in (log out, or a session
// revoked on a lost phone, stops its pushes). It implements
// chat.SessionEndListener; failures are logged (the device then stays
// until its user unregisters it or its provider says it is gone).
func (s *Service) SessionEnded(ctx context.Context, userID, sessionID string) {
	if sessionID == "" {
		return
	}
	ds, err := s.store.Devices(ctx, userID)
	if err != nil {
		s.cfg.Logger.Warn("push: devices of an ended session not unregistered", "user", userID, "err", err)
		return
	}
	for _, d := range ds {
		if d.SessionID != sessionID {
			continue
		}
		if err := s.store.DeleteDevice(ctx, userID, d.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			s.cfg.Logger.Warn("push: device of an ended session not unregistered", "device", d.ID, "err", err)
		}
	}
}

// NotificationSettings returns my account's notification settings.
func (s *Service) NotificationSettings(ctx context.Context, me string) (Settings, error) {
	ns, err := s.store.NotificationSettings(ctx, me)
	if err != nil {
		return Settings{}, fmt.Errorf("push: settings of %s: %w", me, err)
	}
	return view(ns), nil
}

// SettingsChange is a change of my account's settings; nil fields stay.
type SettingsChange struct {
	DefaultLevel *storage.NotificationLevel
	ShowPreview  *bool
}

// SetNotificationSettings changes my account's settings and tells my
// devices (Config.Events).
func (s *Service) SetNotificationSettings(ctx context.Context, me string, c SettingsChange) (Settings, error) {
	if c.DefaultLevel != nil {
		switch *c.DefaultLevel {
		case storage.NotifyAll, storage.NotifyMentions, storage.NotifyNone:
		default:
			return Settings{}, fault.BadInput("defaultLevel", "defaultLevel must be ALL, MENTIONS or NONE")
		}
	}
	ns, err := s.store.NotificationSettings(ctx, me)
	if err != nil {
		return Settings{}, fmt.Errorf("push: settings of %s: %w", me, err)
	}
	if c.DefaultLevel != nil {
		ns.DefaultLevel = *c.DefaultLevel
	}
	if c.ShowPreview != nil {
		ns.HidePreview = !*c.ShowPreview
	}
	if err := s.store.PutNotificationSettings(ctx, me, ns); err != nil {
		return Settings{}, fmt.Errorf("push: save settings of %s: %w", me, err)
	}
	if s.cfg.Events != nil {
		s.cfg.Events.Publish(ctx, []string{me}, &SettingsChanged{Settings: view(ns)})
	}
	return view(ns), nil
}

// ForgetUser deletes every device and the notification settings of a user
// whose account is deleted (the lifecycle area calls it). Idempotent.
func (s *Service) ForgetUser(ctx context.Context, userID string) error {
	ds, err := s.store.Devices(ctx, userID)
	if err != nil {
		return fmt.Errorf("push: devices of %s: %w", userID, err)
	}
	for _, d := range ds {
		if err := s.store.DeleteDevice(ctx, userID, d.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("push: forget device %s of %s: %w", d.ID, userID, err)
		}
	}
	if err := s.store.PutNotificationSettings(ctx, userID, storage.NotificationSettings{}); err != nil {
		return fmt.Errorf("push: forget settings of %s: %w", userID, err)
	}
	return nil
}
