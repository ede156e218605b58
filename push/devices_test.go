package push_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"messenger/fault"
	"messenger/push"
	"messenger/storage"
)

func TestRegisteringBadDevicesIsRefusedAndStoresNothing(t *testing.T) {
	e := newEnv(t, envOptions{})
	me := e.users(t, "me")[0]
	good := e.p.device(storage.WebPush, me, "x")
	cases := []struct {
		name, field string
		in          push.DeviceInput
	}{
		{"unknown platform", "platform", push.DeviceInput{Platform: "SMS", Token: "x"}},
		{"APNs token not hex", "token", push.DeviceInput{Platform: storage.APNs, Token: strings.Repeat("zz", 32)}},
		{"APNs token too short", "token", push.DeviceInput{Platform: storage.APNs, Token: "abcd"}},
		{"FCM token empty", "token", push.DeviceInput{Platform: storage.FCM}},
		{"Web Push endpoint not a URL", "subscription.endpoint", push.DeviceInput{Platform: storage.WebPush, Endpoint: "nope", P256dh: good.P256dh, Auth: good.Auth}},
		{"Web Push key not a point", "subscription.p256dh", push.DeviceInput{Platform: storage.WebPush, Endpoint: good.Endpoint, P256dh: "AAAA", Auth: good.Auth}},
		{"Web Push auth wrong size", "subscription.auth", push.DeviceInput{Platform: storage.WebPush, Endpoint: good.Endpoint, P256dh: good.P256dh, Auth: "AAAA"}},
		{"appId too long", "appId", push.DeviceInput{Platform: storage.FCM, Token: "t", AppID: strings.Repeat("a", 256)}},
	}
	for _, c := range cases {
		_, err := e.push.RegisterDevice(context.Background(), me, c.in)
		var fe *fault.Error
		if !errors.As(err, &fe) || fe.Code != fault.BadUserInput || fe.Field != c.field {
			t.Errorf("%s: %v; want BAD_USER_INPUT on %s", c.name, err, c.field)
		}
	}
	if ds, _ := e.push.Devices(context.Background(), me); len(ds) != 0 {
		t.Fatalf("refused registrations stored %+v", ds)
	}
}

func TestTheSameTokenRegisteredAgainIsTheSameDevice(t *testing.T) {
	e := newEnv(t, envOptions{})
	me := e.users(t, "me")[0]
	in := push.DeviceInput{Platform: storage.FCM, Token: "tok-1"}
	a, err := e.push.RegisterDevice(context.Background(), me, in)
	if err != nil {
		t.Fatal(err)
	}
	in.Locale = "de-DE"
	b, err := e.push.RegisterDevice(context.Background(), me, in)
	if err != nil {
		t.Fatal(err)
	}
	ds, _ := e.push.Devices(context.Background(), me)
	if a.ID != b.ID || len(ds) != 1 || ds[0].Locale != "de-DE" {
		t.Fatalf("re-registration gave %s then %s, devices %+v", a.ID, b.ID, ds)
	}
}

func TestBeyondTheCapTheOldestDeviceGoes(t *testing.T) {
	e := newEnv(t, envOptions{})
	me := e.users(t, "me")[0]
	var first storage.Device
	for i := range 26 {
		d, err := e.push.RegisterDevice(context.Background(), me, push.DeviceInput{Platform: storage.FCM, Token: "tok-" + string(rune('a'+i))})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = d
		}
	}
	ds, _ := e.push.Devices(context.Background(), me)
	if len(ds) != 25 {
		t.Fatalf("%d devices; want 25", len(ds))
	}
	for _, d := range ds {
		if d.ID == first.ID {
			t.Fatal("the oldest device was kept")
		}
	}
}

func TestUnregisteringAnotherUsersDeviceIsNotFound(t *testing.T) {
	e := newEnv(t, envOptions{})
	ids := e.users(t, "me", "other")
	d, _ := e.push.RegisterDevice(context.Background(), ids[1], push.DeviceInput{Platform: storage.FCM, Token: "t"})
	if err := e.push.UnregisterDevice(context.Background(), ids[0], d.ID); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("unregister another's device: %v; want NOT_FOUND", err)
	}
	if err := e.push.UnregisterDevice(context.Background(), ids[1], d.ID); err != nil {
		t.Fatal(err)
	}
	if ds, _ := e.push.Devices(context.Background(), ids[1]); len(ds) != 0 {
		t.Fatalf("devices after unregister: %+v", ds)
	}
}

func TestEndingASessionUnregistersItsDevices(t *testing.T) {
	e := newEnv(t, envOptions{})
	me := e.users(t, "me")[0]
	type sessionKey struct{}
	svc, err := push.New(push.Config{Store: e.store, Queue: e.queue,
		SessionOf: func(ctx context.Context) string { s, _ := ctx.Value(sessionKey{}).(string); return s }})
	if err != nil {
		t.Fatal(err)
	}
	phone := context.WithValue(context.Background(), sessionKey{}, "s-phone")
	laptop := context.WithValue(context.Background(), sessionKey{}, "s-laptop")
	if _, err := svc.RegisterDevice(phone, me, push.DeviceInput{Platform: storage.FCM, Token: "phone"}); err != nil {
		t.Fatal(err)
	}
	kept, _ := svc.RegisterDevice(laptop, me, push.DeviceInput{Platform: storage.FCM, Token: "laptop"})
	svc.SessionEnded(context.Background(), me, "s-phone")
	if ds, _ := svc.Devices(context.Background(), me); len(ds) != 1 || ds[0].ID != kept.ID || ds[0].SessionID != "s-laptop" {
		t.Fatalf("devices after the phone's session ended: %+v", ds)
	}
}

func TestBadDefaultLevelIsRefused(t *testing.T) {
	e := newEnv(t, envOptions{})
	me := e.users(t, "me")[0]
	bad := storage.NotificationLevel("LOUD")
	if _, err := e.push.SetNotificationSettings(context.Background(), me, push.SettingsChange{DefaultLevel: &bad}); fault.CodeOf(err) != fault.BadUserInput {
		t.Fatalf("bad level: %v", err)
	}
	if ns, _ := e.push.NotificationSettings(context.Background(), me); ns != (push.Settings{DefaultLevel: storage.NotifyAll, ShowPreview: true}) {
		t.Fatalf("settings changed: %+v", ns)
	}
}

func TestADeletedAccountsDevicesAndSettingsAreForgotten(t *testing.T) {
	e := newEnv(t, envOptions{})
	me := e.users(t, "me")[0]
	e.device(t, me, storage.FCM)
	e.device(t, me, storage.WebPush)
	off := false
	if _, err := e.push.SetNotificationSettings(context.Background(), me, push.SettingsChange{ShowPreview: &off}); err != nil {
		t.Fatal(err)
	}
	for range 2 { // idempotent
		if err := e.push.ForgetUser(context.Background(), me); err != nil {
			t.Fatal(err)
		}
	}
	ds, _ := e.push.Devices(context.Background(), me)
	ns, _ := e.push.NotificationSettings(context.Background(), me)
	if len(ds) != 0 || !ns.ShowPreview {
		t.Fatalf("after ForgetUser: devices %+v, settings %+v", ds, ns)
	}
}
