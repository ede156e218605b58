package push_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"messenger/push"
	"messenger/push/pushtest"
	"messenger/storage"
)

func note(body string) push.Notification {
	return push.Notification{Title: "Alice", Body: body, ConversationID: "c1", MessageID: "m1", Badge: 3, ThreadID: "c1", CollapseID: "m1"}
}

// providers starts the three local services and a provider for each, with
// one device registered at each.
type providers struct {
	apns    *pushtest.APNs
	fcm     *pushtest.FCM
	web     *pushtest.WebPush
	vapid   *ecdsa.PrivateKey
	clients map[storage.Platform]push.Provider
	devices map[storage.Platform]storage.Device
}

func startProviders(t testing.TB) *providers {
	p := &providers{apns: pushtest.StartAPNs(t), fcm: pushtest.StartFCM(t), web: pushtest.StartWebPush(t),
		clients: map[storage.Platform]push.Provider{}, devices: map[storage.Platform]storage.Device{}}
	a, err := push.NewAPNs(push.APNsConfig{URL: p.apns.URL(), Key: p.apns.Key, KeyID: p.apns.KeyID, TeamID: p.apns.TeamID,
		Topic: p.apns.Topic, Client: p.apns.Client()})
	if err != nil {
		t.Fatal(err)
	}
	f, err := push.NewFCM(push.FCMConfig{URL: p.fcm.URL(), Credentials: p.fcm.Credentials()})
	if err != nil {
		t.Fatal(err)
	}
	p.vapid, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	w, err := push.NewWebPush(push.WebPushConfig{PrivateKey: p.vapid, Subject: "mailto:ops@example.com", Client: p.web.Client()})
	if err != nil {
		t.Fatal(err)
	}
	p.clients[storage.APNs], p.clients[storage.FCM], p.clients[storage.WebPush] = a, f, w
	return p
}

// device makes a device of platform for user, at the local service.
func (p *providers) device(platform storage.Platform, user, id string) storage.Device {
	d := storage.Device{ID: id, UserID: user, Platform: platform}
	switch platform {
	case storage.APNs:
		d.Token = strings.Repeat("ab", 16) + hex.EncodeToString([]byte(id))
	case storage.FCM:
		d.Token = "fcm-" + id
	case storage.WebPush:
		s := p.web.Subscribe(&p.vapid.PublicKey)
		d.Endpoint, d.P256dh, d.Auth = s.Endpoint, s.P256dh, s.Auth
	}
	return d
}

// deviceKey is how the local service names d.
func deviceKey(d storage.Device) string {
	if d.Platform == storage.WebPush {
		return d.Endpoint[strings.LastIndex(d.Endpoint, "/")+1:]
	}
	return d.Token
}

func (p *providers) fail(d storage.Device, statuses ...int) {
	switch d.Platform {
	case storage.APNs:
		p.apns.Fail(deviceKey(d), statuses...)
	case storage.FCM:
		p.fcm.Fail(deviceKey(d), statuses...)
	case storage.WebPush:
		p.web.Fail(deviceKey(d), statuses...)
	}
}

func (p *providers) unregister(d storage.Device) {
	switch d.Platform {
	case storage.APNs:
		p.apns.Unregister(deviceKey(d))
	case storage.FCM:
		p.fcm.Unregister(deviceKey(d))
	case storage.WebPush:
		p.web.Unregister(deviceKey(d))
	}
}

func (p *providers) pushes(platform storage.Platform) []pushtest.Push {
	switch platform {
	case storage.APNs:
		return p.apns.Pushes()
	case storage.FCM:
		return p.fcm.Pushes()
	}
	return p.web.Pushes()
}

var platforms = []storage.Platform{storage.APNs, storage.FCM, storage.WebPush}

// body returns the text the device shows from an accepted push.
func shownBody(platform storage.Platform, got pushtest.Push) string {
	switch platform {
	case storage.APNs:
		return got.Payload["aps"].(map[string]any)["alert"].(map[string]any)["body"].(string)
	case storage.FCM:
		return got.Payload["notification"].(map[string]any)["body"].(string)
	}
	return got.Payload["body"].(string)
}

func TestEachProviderDeliversThroughItsWireProtocol(t *testing.T) {
	p := startProviders(t)
	for _, pl := range platforms {
		t.Run(string(pl), func(t *testing.T) {
			d := p.device(pl, "u1", "d1")
			if err := p.clients[pl].Send(context.Background(), d, note("hello")); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := p.pushes(pl)
			if len(got) != 1 || shownBody(pl, got[0]) != "hello" {
				t.Fatalf("accepted %+v; want one push saying hello", got)
			}
			switch pl {
			case storage.APNs:
				if got[0].Header.Get("apns-collapse-id") != "m1" || got[0].Payload["aps"].(map[string]any)["thread-id"] != "c1" {
					t.Errorf("APNs headers/payload: %v %v", got[0].Header, got[0].Payload)
				}
			case storage.FCM:
				if got[0].Payload["android"].(map[string]any)["collapse_key"] != "m1" {
					t.Errorf("FCM collapse_key missing: %v", got[0].Payload)
				}
			case storage.WebPush:
				if got[0].Header.Get("Topic") == "" || got[0].Payload["messageId"] != "m1" {
					t.Errorf("Web Push topic/payload: %v %v", got[0].Header, got[0].Payload)
				}
			}
		})
	}
}

func TestLongBodiesAreCutToTheProviderLimit(t *testing.T) {
	p := startProviders(t)
	long := strings.Repeat("ß", 4000) // 8,000 bytes of text
	for _, pl := range platforms {
		d := p.device(pl, "u1", "long")
		if err := p.clients[pl].Send(context.Background(), d, note(long)); err != nil {
			t.Fatalf("%s: Send: %v", pl, err)
		}
		got := p.pushes(pl)
		body := shownBody(pl, got[len(got)-1])
		if !strings.HasSuffix(body, "…") || len(body) < 1000 || len(body) >= len(long) {
			t.Errorf("%s: shown body of %d bytes; want it cut with an ellipsis", pl, len(body))
		}
	}
}

func TestProviderAnswersAreSorted(t *testing.T) {
	p := startProviders(t)
	for _, pl := range platforms {
		t.Run(string(pl), func(t *testing.T) {
			d := p.device(pl, "u1", "x"+string(pl[0]))
			p.fail(d, http.StatusServiceUnavailable, http.StatusTooManyRequests)
			var re *push.RetryError
			if err := p.clients[pl].Send(context.Background(), d, note("a")); !errors.As(err, &re) || re.Reason != "503" {
				t.Fatalf("503 gave %v; want a retry", err)
			}
			err := p.clients[pl].Send(context.Background(), d, note("a"))
			if !errors.As(err, &re) || re.Reason != "429" {
				t.Fatalf("429 gave %v; want a retry", err)
			}
			if pl != storage.APNs && re.After != time.Second {
				t.Errorf("Retry-After not honoured: %v", re.After)
			}
			p.unregister(d)
			if err := p.clients[pl].Send(context.Background(), d, note("a")); !errors.Is(err, push.ErrGone) {
				t.Fatalf("unregistered device gave %v; want ErrGone", err)
			}
		})
	}
}

func TestWebPushPayloadDecryptsOnlyWithTheSubscriptionKeys(t *testing.T) {
	p := startProviders(t)
	a := p.device(storage.WebPush, "u1", "a")
	b := p.device(storage.WebPush, "u1", "b")
	wrong := a
	wrong.Auth = b.Auth // encrypted for a mixed-up key set: the service cannot decrypt
	err := p.clients[storage.WebPush].Send(context.Background(), wrong, note("secret"))
	var pe *push.PermanentError
	if !errors.As(err, &pe) || pe.Reason != "400" {
		t.Fatalf("mis-keyed payload gave %v; want a 400 refusal", err)
	}
}

func TestVAPIDFromAnotherKeyIsRefused(t *testing.T) {
	p := startProviders(t)
	d := p.device(storage.WebPush, "u1", "a")
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	w, _ := push.NewWebPush(push.WebPushConfig{PrivateKey: other, Subject: "mailto:ops@example.com", Client: p.web.Client()})
	var pe *push.PermanentError
	if err := w.Send(context.Background(), d, note("x")); !errors.As(err, &pe) || pe.Reason != "403" {
		t.Fatalf("foreign VAPID key gave %v; want 403", err)
	}
}
