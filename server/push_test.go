package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"messenger/apitest"
	"messenger/auth"
	"messenger/chat"
	"messenger/push"
	"messenger/push/pushtest"
	"messenger/server"
)

const (
	registerOp   = `mutation($in: RegisterDeviceInput!) { registerDevice(input: $in) { id platform appId locale createdAt } }`
	unregisterOp = `mutation($id: ID!) { unregisterDevice(id: $id) }`
	settingsOp   = `mutation($in: NotificationSettingsInput!) { updateNotificationSettings(input: $in) { defaultLevel showPreview } }`
	myDevicesOp  = `{ me { devices { id platform } notificationSettings { defaultLevel showPreview } } }`
)

// pushAPI serves the API with the push service on a Pebble queue,
// delivering through providers (none: registration and settings only).
func pushAPI(t *testing.T, providers ...push.Provider) string {
	var notifier lateNotifier
	var ended lateSessionEnd
	e := newEmbedded(t, apiOptions{chat: func(c *chat.Config) { c.Notifier, c.SessionEndListener = &notifier, &ended }})
	q, err := push.OpenPebbleQueue(push.PebbleQueueConfig{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = q.Close() })
	svc, err := push.New(push.Config{Store: e.Store, Queue: q, Events: e.Chat, Presence: e.Chat, Unread: e.Chat,
		Blocks: e.Chat, Providers: providers, SessionOf: auth.SessionID})
	if err != nil {
		t.Fatal(err)
	}
	notifier.Notifier, ended.SessionEndListener = svc, svc
	svc.Start()
	t.Cleanup(svc.Close)
	_, url := e.serve(t, server.Config{Notifications: svc})
	return url
}

// lateNotifier and lateSessionEnd let the domain start before the push
// service it calls.
type (
	lateNotifier   struct{ chat.Notifier }
	lateSessionEnd struct{ chat.SessionEndListener }
)

func TestLoggingOutUnregistersTheSessionsDevices(t *testing.T) {
	url := pushAPI(t)
	alice := apitest.SignUp(t, url, "alice")
	alice.Must(t, registerOp, map[string]any{"in": map[string]any{"platform": "FCM", "token": "alice-phone"}}, nil)
	var me struct {
		Me struct{ Devices []any }
	}
	alice.Must(t, myDevicesOp, nil, &me)
	if len(me.Me.Devices) != 1 {
		t.Fatalf("devices = %v", me.Me.Devices)
	}
	var login struct{ LogIn struct{ Token string } }
	other := &apitest.Client{URL: url}
	other.Must(t, `mutation($u: String!, $p: String!) { logIn(input: {username: $u, password: $p}) { token } }`,
		map[string]any{"u": alice.Username, "p": "password-" + alice.Username}, &login)
	other.Token = login.LogIn.Token
	alice.Must(t, `mutation { logOut }`, nil, nil)
	other.Must(t, myDevicesOp, nil, &me)
	if len(me.Me.Devices) != 0 {
		t.Fatalf("devices after the session that registered them logged out: %v", me.Me.Devices)
	}
}

func TestAMessageToAnOfflineMemberReachesTheirRegisteredDevice(t *testing.T) {
	fcmServer := pushtest.StartFCM(t)
	fcm, err := push.NewFCM(push.FCMConfig{URL: fcmServer.URL(), Credentials: fcmServer.Credentials()})
	if err != nil {
		t.Fatal(err)
	}
	url := pushAPI(t, fcm)
	alice, bob := apitest.SignUp(t, url, "alice"), apitest.SignUp(t, url, "bob")
	bob.Must(t, registerOp, map[string]any{"in": map[string]any{"platform": "FCM", "token": "bob-phone"}}, nil)
	var conv struct{ CreateDirectConversation struct{ ID string } }
	alice.Must(t, `mutation($u: ID!) { createDirectConversation(userId: $u) { id } }`, map[string]any{"u": bob.UserID}, &conv)
	alice.Must(t, `mutation($c: ID!) { sendMessage(input: {conversationId: $c, clientMessageId: "k1", body: "dinner?"}) { seq } }`,
		map[string]any{"c": conv.CreateDirectConversation.ID}, nil)
	got := fcmServer.Wait(1, 10*time.Second)
	if len(got) != 1 || got[0].Device != "bob-phone" {
		t.Fatalf("pushes = %+v; want one to bob's phone", got)
	}
	n := got[0].Payload["notification"].(map[string]any)
	if title, _ := n["title"].(string); !strings.HasPrefix(strings.ToLower(title), "alice") || n["body"] != "dinner?" {
		t.Fatalf("notification = %v", n)
	}
}

func TestDevicesRegisterListAndUnregisterOverGraphQL(t *testing.T) {
	url := pushAPI(t)
	alice := apitest.SignUp(t, url, "alice")
	web := pushtest.StartWebPush(t)
	vapid, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sub := web.Subscribe(&vapid.PublicKey)
	var reg struct {
		RegisterDevice struct {
			ID, Platform string
			Locale       *string
		}
	}
	alice.Must(t, registerOp, map[string]any{"in": map[string]any{
		"platform": "WEB_PUSH", "locale": "fr",
		"subscription": map[string]any{"endpoint": sub.Endpoint, "p256dh": sub.P256dh, "auth": sub.Auth},
	}}, &reg)
	if reg.RegisterDevice.Platform != "WEB_PUSH" || reg.RegisterDevice.Locale == nil || *reg.RegisterDevice.Locale != "fr" {
		t.Fatalf("registerDevice = %+v", reg.RegisterDevice)
	}
	var me struct {
		Me struct {
			Devices []struct{ ID, Platform string }
		}
	}
	alice.Must(t, myDevicesOp, nil, &me)
	if len(me.Me.Devices) != 1 || me.Me.Devices[0].ID != reg.RegisterDevice.ID {
		t.Fatalf("me.devices = %+v", me.Me.Devices)
	}
	bob := apitest.SignUp(t, url, "bob")
	bob.Refused(t, "NOT_FOUND", unregisterOp, map[string]any{"id": reg.RegisterDevice.ID})
	var un struct{ UnregisterDevice bool }
	alice.Must(t, unregisterOp, map[string]any{"id": reg.RegisterDevice.ID}, &un)
	alice.Must(t, myDevicesOp, nil, &me)
	if !un.UnregisterDevice || len(me.Me.Devices) != 0 {
		t.Fatalf("after unregisterDevice: %v, devices %+v", un.UnregisterDevice, me.Me.Devices)
	}
}

func TestBadDeviceRegistrationIsRefusedWithItsField(t *testing.T) {
	url := pushAPI(t)
	alice := apitest.SignUp(t, url, "alice")
	e := alice.Refused(t, "BAD_USER_INPUT", registerOp, map[string]any{"in": map[string]any{"platform": "APNS", "token": "not-hex"}})
	if e.Extensions["field"] != "token" {
		t.Errorf("extensions = %v; want field token", e.Extensions)
	}
	alice.Refused(t, "BAD_USER_INPUT", registerOp, map[string]any{"in": map[string]any{"platform": "WEB_PUSH"}})
	var me struct {
		Me struct{ Devices []any }
	}
	alice.Must(t, myDevicesOp, nil, &me)
	if len(me.Me.Devices) != 0 {
		t.Fatalf("refused registrations stored %+v", me.Me.Devices)
	}
}

func TestSettingsChangeReachesMyOtherDevicesAsAnEvent(t *testing.T) {
	url := pushAPI(t)
	alice := apitest.SignUp(t, url, "alice")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	events := alice.Subscribe(ctx, t, "")
	var out struct {
		UpdateNotificationSettings struct {
			DefaultLevel string
			ShowPreview  bool
		}
	}
	time.Sleep(100 * time.Millisecond) // let the subscription start before changing
	alice.Must(t, settingsOp, map[string]any{"in": map[string]any{"defaultLevel": "MENTIONS", "showPreview": false}}, &out)
	if out.UpdateNotificationSettings.DefaultLevel != "MENTIONS" || out.UpdateNotificationSettings.ShowPreview {
		t.Fatalf("updateNotificationSettings = %+v", out.UpdateNotificationSettings)
	}
	ev := events.Next(t)
	if ev.Typename != "NotificationSettingsChanged" {
		t.Fatalf("event = %+v; want NotificationSettingsChanged", ev)
	}
	var me struct {
		Me struct {
			NotificationSettings struct {
				DefaultLevel string
				ShowPreview  bool
			}
		}
	}
	alice.Must(t, myDevicesOp, nil, &me)
	if me.Me.NotificationSettings.DefaultLevel != "MENTIONS" || me.Me.NotificationSettings.ShowPreview {
		t.Fatalf("me.notificationSettings = %+v", me.Me.NotificationSettings)
	}
}
