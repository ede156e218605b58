package cassandra

import (
	"context"
	"errors"
	"fmt"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/cql"
	"messenger/storage"
)

// PutDevice implements storage.Push.
func (s *Store) PutDevice(ctx context.Context, d storage.Device) error {
	err := s.query(ctx, `INSERT INTO push_devices (user_id, id, session_id, platform, device_token, endpoint, p256dh, auth_secret, app_id, locale, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.UserID, d.ID, d.SessionID, string(d.Platform), d.Token, d.Endpoint, d.P256dh, d.Auth, d.AppID, d.Locale, cql.Timestamp(d.CreatedAt)).Exec()
	return wrap(err, "put device %s of %s", d.ID, d.UserID)
}

// Devices implements storage.Push.
func (s *Store) Devices(ctx context.Context, userID string) ([]storage.Device, error) {
	it := s.query(ctx, `SELECT id, session_id, platform, device_token, endpoint, p256dh, auth_secret, app_id, locale, created_at
		FROM push_devices WHERE user_id = ?`, userID).Iter()
	var out []storage.Device
	for {
		d := storage.Device{UserID: userID}
		var platform string
		if !it.Scan(&d.ID, &d.SessionID, &platform, &d.Token, &d.Endpoint, &d.P256dh, &d.Auth, &d.AppID, &d.Locale, &d.CreatedAt) {
			break
		}
		d.Platform = storage.Platform(platform)
		d.CreatedAt = d.CreatedAt.UTC()
		out = append(out, d)
	}
	if err := it.Close(); err != nil {
		return nil, wrap(err, "devices of %s", userID)
	}
	return out, nil
}

// DeleteDevice implements storage.Push. The existence check and the delete
// are two statements: a concurrent delete of the same device makes both
// succeed, which is what the caller wanted.
func (s *Store) DeleteDevice(ctx context.Context, userID, deviceID string) error {
	var id string
	err := s.query(ctx, "SELECT id FROM push_devices WHERE user_id = ? AND id = ?", userID, deviceID).Scan(&id)
	if errors.Is(err, gocql.ErrNotFound) {
		return fmt.Errorf("cassandra: device %s of %s: %w", deviceID, userID, storage.ErrNotFound)
	}
	if err != nil {
		return wrap(err, "find device %s of %s", deviceID, userID)
	}
	return wrap(s.query(ctx, "DELETE FROM push_devices WHERE user_id = ? AND id = ?", userID, deviceID).Exec(),
		"delete device %s of %s", deviceID, userID)
}

// NotificationSettings implements storage.Push.
func (s *Store) NotificationSettings(ctx context.Context, userID string) (storage.NotificationSettings, error) {
	var level string
	var ns storage.NotificationSettings
	err := s.query(ctx, "SELECT default_level, hide_preview FROM notification_settings WHERE user_id = ?", userID).Scan(&level, &ns.HidePreview)
	if errors.Is(err, gocql.ErrNotFound) {
		return storage.NotificationSettings{}, nil
	}
	if err != nil {
		return ns, wrap(err, "notification settings of %s", userID)
	}
	ns.DefaultLevel = storage.NotificationLevel(level)
	return ns, nil
}

// PutNotificationSettings implements storage.Push.
func (s *Store) PutNotificationSettings(ctx context.Context, userID string, ns storage.NotificationSettings) error {
	err := s.query(ctx, "INSERT INTO notification_settings (user_id, default_level, hide_preview) VALUES (?, ?, ?)",
		userID, string(ns.DefaultLevel), ns.HidePreview).Exec()
	return wrap(err, "put notification settings of %s", userID)
}
