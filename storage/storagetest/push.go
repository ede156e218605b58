package storagetest

import (
	"context"
	"errors"
	"testing"

	"messenger/storage"
)

// testDevices: devices are stored per user, replaced by id, listed in id
// order, and deleted once; another user's devices are not touched.
func testDevices(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a, b := id(), id()
	if ds, err := s.Devices(ctx, a); err != nil || len(ds) != 0 {
		t.Fatalf("Devices of a new user = %v, %v; want none", ds, err)
	}
	web := storage.Device{ID: "2-web", UserID: a, SessionID: "s1", Platform: storage.WebPush,
		Endpoint: "https://push.example/x", P256dh: "key", Auth: "secret", Locale: "de", CreatedAt: now()}
	ios := storage.Device{ID: "1-ios", UserID: a, SessionID: "s2", Platform: storage.APNs, Token: "abc", AppID: "com.example", CreatedAt: now()}
	other := storage.Device{ID: "1-ios", UserID: b, Platform: storage.FCM, Token: "fcm", CreatedAt: now()}
	for _, d := range []storage.Device{web, ios, other} {
		if err := s.PutDevice(ctx, d); err != nil {
			t.Fatalf("PutDevice: %v", err)
		}
	}
	ios.Token = "def"
	if err := s.PutDevice(ctx, ios); err != nil {
		t.Fatalf("PutDevice (replace): %v", err)
	}
	ds, err := s.Devices(ctx, a)
	if err != nil {
		t.Fatalf("Devices: %v", err)
	}
	if len(ds) != 2 || ds[0] != ios || ds[1] != web {
		t.Fatalf("Devices = %+v; want [%+v %+v]", ds, ios, web)
	}
	if err := s.DeleteDevice(ctx, a, ios.ID); err != nil {
		t.Fatalf("DeleteDevice: %v", err)
	}
	if err := s.DeleteDevice(ctx, a, ios.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("second DeleteDevice = %v; want ErrNotFound", err)
	}
	if ds, _ := s.Devices(ctx, a); len(ds) != 1 || ds[0] != web {
		t.Fatalf("Devices after delete = %+v", ds)
	}
	if ds, _ := s.Devices(ctx, b); len(ds) != 1 || ds[0] != other {
		t.Fatalf("another user's devices = %+v", ds)
	}
}

// testNotificationSettings: the zero value until set, then what was set.
func testNotificationSettings(t *testing.T, s storage.Store) {
	ctx := context.Background()
	u := id()
	ns, err := s.NotificationSettings(ctx, u)
	if err != nil || ns != (storage.NotificationSettings{}) {
		t.Fatalf("settings of a new user = %+v, %v; want the zero value", ns, err)
	}
	want := storage.NotificationSettings{DefaultLevel: storage.NotifyMentions, HidePreview: true}
	if err := s.PutNotificationSettings(ctx, u, want); err != nil {
		t.Fatalf("PutNotificationSettings: %v", err)
	}
	if ns, err = s.NotificationSettings(ctx, u); err != nil || ns != want {
		t.Fatalf("settings = %+v, %v; want %+v", ns, err, want)
	}
}
