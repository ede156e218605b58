package main

import (
	"context"
	"testing"
	"time"

	"messenger/apitest"
)

// Two API processes share Cassandra and Redis: a session revoked through
// instance A loses its websocket on instance B (4403) within 2 s, and its
// token is refused by B at once, although B had just accepted it.
func TestFleetRevocationClosesSocketsOnTheOtherInstance(t *testing.T) {
	env := fleetEnv(t)
	bin := buildBinary(t)
	urlA, _ := startBinary(t, bin, t.TempDir(), env...)
	urlB, _ := startBinary(t, bin, t.TempDir(), env...)

	phone := apitest.SignUp(t, urlA, "fleetses")
	laptop := &apitest.Client{URL: urlA}
	var in struct{ LogIn struct{ Token string } }
	laptop.Must(t, `mutation($i: LogInInput!) { logIn(input: $i) { token } }`,
		map[string]any{"i": map[string]any{"username": phone.Username, "password": "password-" + phone.Username, "deviceName": "Laptop"}}, &in)
	laptop.Token = in.LogIn.Token

	phone.URL = urlB
	phone.Must(t, `{ me { id } }`, nil, nil) // B holds the phone's session as open now
	events := phone.Subscribe(context.Background(), t, "")
	time.Sleep(300 * time.Millisecond) // the subscription is live
	start := time.Now()
	var n struct{ RevokeOtherSessions int }
	laptop.Must(t, `mutation { revokeOtherSessions }`, nil, &n) // through A
	if n.RevokeOtherSessions != 1 {
		t.Fatalf("revokeOtherSessions ended %d sessions, want 1", n.RevokeOtherSessions)
	}
	select {
	case code := <-events.Socket.Closed:
		if code != 4403 {
			t.Fatalf("B closed the phone's socket with %d, want 4403", code)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("B kept the revoked session's socket open for 2 s")
	}
	t.Logf("B closed the socket %v after A revoked the session", time.Since(start).Round(time.Millisecond))
	phone.Refused(t, "UNAUTHENTICATED", `{ me { id } }`, nil)
}
