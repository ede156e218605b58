package pebble

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/cockroachdb/pebble/v2"

	"messenger/pebblekv"
	"messenger/storage"
)

// Keys: device\0<user>\0<id> -> Device JSON; notifysettings\0<user> ->
// NotificationSettings JSON.

// PutDevice implements storage.Push.
func (s *Store) PutDevice(ctx context.Context, d storage.Device) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := setJSON(b, pebblekv.Key("device", d.UserID, d.ID), d); err != nil {
		return err
	}
	return b.Commit(s.wo)
}

// Devices implements storage.Push.
func (s *Store) Devices(ctx context.Context, userID string) ([]storage.Device, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p := pebblekv.Prefix("device", userID)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: pebblekv.Upper(p)})
	if err != nil {
		return nil, err
	}
	defer func() { _ = it.Close() }()
	var out []storage.Device
	for it.First(); it.Valid(); it.Next() {
		var d storage.Device
		if err := json.Unmarshal(it.Value(), &d); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, it.Error()
}

// DeleteDevice implements storage.Push.
func (s *Store) DeleteDevice(ctx context.Context, userID, deviceID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	k := pebblekv.Key("device", userID, deviceID)
	ok, err := s.exists(k)
	if err != nil {
		return err
	}
	if !ok {
		return storage.ErrNotFound
	}
	return s.db.Delete(k, s.wo)
}

// NotificationSettings implements storage.Push.
func (s *Store) NotificationSettings(ctx context.Context, userID string) (storage.NotificationSettings, error) {
	var ns storage.NotificationSettings
	err := s.getJSON(ctx, pebblekv.Key("notifysettings", userID), &ns)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.NotificationSettings{}, nil
	}
	return ns, err
}

// PutNotificationSettings implements storage.Push.
func (s *Store) PutNotificationSettings(ctx context.Context, userID string, ns storage.NotificationSettings) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := setJSON(b, pebblekv.Key("notifysettings", userID), ns); err != nil {
		return err
	}
	return b.Commit(s.wo)
}
