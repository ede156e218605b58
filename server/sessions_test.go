package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"messenger/apitest"
	"messenger/chat"
	"messenger/realtime/memlog"
	"messenger/redistest"
	"messenger/revocation/redisrevocation"
	"messenger/server"
)

// device signs a user in on one more device and returns its client and
// its tokens.
type device struct {
	*apitest.Client
	Refresh   string
	SessionID string
}

const authFields = `token refreshToken expiresAt refreshTokenExpiresAt user { id } session { id deviceName platform current }`

type authOut struct {
	Token, RefreshToken, ExpiresAt, RefreshTokenExpiresAt string
	User                                                  struct{ ID string }
	Session                                               struct {
		ID, DeviceName, Platform string
		Current                  bool
	}
}

func signUpDevice(t *testing.T, url, name string) *device {
	t.Helper()
	name = fmt.Sprintf("%s%d", name, time.Now().UnixNano()%1_000_000)
	c := &apitest.Client{URL: url}
	var out struct{ SignUp authOut }
	c.Must(t, `mutation($i: SignUpInput!) { signUp(input: $i) { `+authFields+` } }`,
		map[string]any{"i": map[string]any{"username": name, "password": "password-1", "displayName": name, "deviceName": "Phone", "platform": "ios"}}, &out)
	c.Token, c.UserID, c.Username = out.SignUp.Token, out.SignUp.User.ID, name
	return &device{Client: c, Refresh: out.SignUp.RefreshToken, SessionID: out.SignUp.Session.ID}
}

func logInDevice(t *testing.T, d *device, deviceName string) *device {
	t.Helper()
	c := &apitest.Client{URL: d.URL}
	var out struct{ LogIn authOut }
	c.Must(t, `mutation($i: LogInInput!) { logIn(input: $i) { `+authFields+` } }`,
		map[string]any{"i": map[string]any{"username": d.Username, "password": "password-1", "deviceName": deviceName, "platform": "web"}}, &out)
	if out.LogIn.Session.DeviceName != deviceName || !out.LogIn.Session.Current {
		t.Fatalf("logIn session: %+v", out.LogIn.Session)
	}
	c.Token, c.UserID, c.Username = out.LogIn.Token, out.LogIn.User.ID, d.Username
	return &device{Client: c, Refresh: out.LogIn.RefreshToken, SessionID: out.LogIn.Session.ID}
}

func TestSessionsOverGraphQL(t *testing.T) {
	url := newAPI(t, apiOptions{})
	phone := signUpDevice(t, url, "ses")
	laptop := logInDevice(t, phone, "Laptop")

	var list struct {
		Sessions []struct {
			ID, DeviceName, Platform, IP string
			Current                      bool
		}
	}
	laptop.Must(t, `{ sessions { id deviceName platform ip current } }`, nil, &list)
	if len(list.Sessions) != 2 || list.Sessions[0].DeviceName != "Phone" || list.Sessions[0].Current || !list.Sessions[1].Current || list.Sessions[1].IP == "" {
		t.Fatalf("sessions: %+v", list.Sessions)
	}

	// Refresh rotates; the spent token ends the session when reused.
	anon := &apitest.Client{URL: url}
	var r struct{ RefreshToken authOut }
	anon.Must(t, `mutation($r: String!) { refreshToken(refreshToken: $r) { `+authFields+` } }`, map[string]any{"r": phone.Refresh}, &r)
	if r.RefreshToken.Session.ID != phone.SessionID || r.RefreshToken.RefreshToken == phone.Refresh {
		t.Fatalf("refresh: %+v", r.RefreshToken)
	}
	anon.Refused(t, "UNAUTHENTICATED", `mutation($r: String!) { refreshToken(refreshToken: $r) { token } }`, map[string]any{"r": phone.Refresh})
	anon.Refused(t, "UNAUTHENTICATED", `mutation($r: String!) { refreshToken(refreshToken: $r) { token } }`, map[string]any{"r": r.RefreshToken.RefreshToken})
	phone.Refused(t, "UNAUTHENTICATED", `{ me { id } }`, nil)

	var n struct{ RevokeOtherSessions int }
	laptop.Must(t, `mutation { revokeOtherSessions }`, nil, &n)
	if n.RevokeOtherSessions != 0 {
		t.Fatalf("revokeOtherSessions ended %d; the phone's session had already ended", n.RevokeOtherSessions)
	}
	laptop.Must(t, `mutation { logOut }`, nil, nil)
	laptop.Refused(t, "UNAUTHENTICATED", `{ me { id } }`, nil)
}

func TestSessionMutationsRefuseBadInput(t *testing.T) {
	url := newAPI(t, apiOptions{})
	me := signUpDevice(t, url, "bad")
	other := signUpDevice(t, url, "oth")
	anon := &apitest.Client{URL: url}
	for _, tc := range []struct {
		name   string
		c      *apitest.Client
		code   string
		op     string
		vars   map[string]any
		fields string // the error's field, when it names one
	}{
		{"refresh with garbage", anon, "UNAUTHENTICATED", `mutation { refreshToken(refreshToken: "garbage") { token } }`, nil, "refreshToken"},
		{"refresh with an access token", anon, "UNAUTHENTICATED", `mutation($r: String!) { refreshToken(refreshToken: $r) { token } }`, map[string]any{"r": me.Token}, "refreshToken"},
		{"logOut signed out", anon, "UNAUTHENTICATED", `mutation { logOut }`, nil, ""},
		{"sessions signed out", anon, "UNAUTHENTICATED", `{ sessions { id } }`, nil, ""},
		{"revokeOtherSessions signed out", anon, "UNAUTHENTICATED", `mutation { revokeOtherSessions }`, nil, ""},
		{"revokeSession malformed id", me.Client, "BAD_USER_INPUT", `mutation { revokeSession(id: "nope") }`, nil, "id"},
		{"revokeSession of another user", me.Client, "NOT_FOUND", `mutation($id: ID!) { revokeSession(id: $id) }`, map[string]any{"id": other.SessionID}, ""},
		{"revokeSession unknown", me.Client, "NOT_FOUND", `mutation($id: ID!) { revokeSession(id: $id) }`, map[string]any{"id": uuid.NewString()}, ""},
		{"changePassword too short", me.Client, "BAD_USER_INPUT", `mutation { changePassword(currentPassword: "password-1", newPassword: "short") }`, nil, "newPassword"},
		{"changePassword wrong current", me.Client, "FORBIDDEN", `mutation { changePassword(currentPassword: "wrong-one", newPassword: "password-2") }`, nil, "currentPassword"},
		{"signUp device name too long", anon, "BAD_USER_INPUT", `mutation($i: SignUpInput!) { signUp(input: $i) { token } }`,
			map[string]any{"i": map[string]any{"username": "longdevice", "password": "password-1", "displayName": "L", "deviceName": strings.Repeat("x", 65)}}, "deviceName"},
		{"logIn platform too long", anon, "BAD_USER_INPUT", `mutation($i: LogInInput!) { logIn(input: $i) { token } }`,
			map[string]any{"i": map[string]any{"username": me.Username, "password": "password-1", "platform": strings.Repeat("p", 33)}}, "platform"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.c.Refused(t, tc.code, tc.op, tc.vars)
			if tc.fields != "" && !strings.Contains(fmt.Sprint(e.Extensions), tc.fields) {
				t.Fatalf("error %+v does not name the field %s", e, tc.fields)
			}
		})
	}
	// Nothing changed: both sessions still work, the password is the old one.
	me.Must(t, `{ me { id } }`, nil, nil)
	other.Must(t, `{ me { id } }`, nil, nil)
	logInDevice(t, me, "Check")
	anon.Refused(t, "UNAUTHENTICATED", `mutation($i: LogInInput!) { logIn(input: $i) { token } }`,
		map[string]any{"i": map[string]any{"username": me.Username, "password": "password-2"}})
	var list struct{ Sessions []struct{ ID string } }
	me.Must(t, `{ sessions { id } }`, nil, &list)
	if len(list.Sessions) != 2 { // sign-up and the check's log-in
		t.Fatalf("sessions after refused mutations: %d", len(list.Sessions))
	}
}

// sessionEvents subscribes to d's events, selecting SessionRevoked's fields.
func sessionEvents(t *testing.T, url, token string) *apitest.Socket {
	t.Helper()
	s := apitest.Dial(context.Background(), t, url, token, true)
	if m := s.Next(t, 5*time.Second); m.Type != "connection_ack" {
		t.Fatalf("expected connection_ack, got %+v", m)
	}
	payload, _ := json.Marshal(map[string]any{"query": `subscription { events { __typename ... on SessionRevoked { sessionId reason } } }`})
	s.Send(t, apitest.Message{ID: "1", Type: "subscribe", Payload: payload})
	return s
}

// nextRevoked waits for a SessionRevoked event on s.
func nextRevoked(t *testing.T, s *apitest.Socket) (sessionID, reason string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		m := s.Next(t, time.Until(deadline))
		var raw struct {
			Data struct {
				Events struct {
					Typename  string `json:"__typename"`
					SessionID string `json:"sessionId"`
					Reason    string `json:"reason"`
				} `json:"events"`
			}
		}
		_ = json.Unmarshal(m.Payload, &raw)
		if raw.Data.Events.Typename == "SessionRevoked" {
			return raw.Data.Events.SessionID, raw.Data.Events.Reason
		}
	}
	t.Fatal("no SessionRevoked event within 5 s")
	return "", ""
}

func waitClosed(t *testing.T, s *apitest.Socket, within time.Duration) websocket.StatusCode {
	t.Helper()
	select {
	case code := <-s.Closed:
		return code
	case <-time.After(within):
		t.Fatalf("the socket stayed open for %v", within)
		return 0
	}
}

func TestRevokedSessionsSocketClosesWith4403AndOtherDevicesHearIt(t *testing.T) {
	url := newAPI(t, apiOptions{})
	phone := signUpDevice(t, url, "rev")
	laptop := logInDevice(t, phone, "Laptop")
	phoneSocket := sessionEvents(t, url, phone.Token)
	laptopSocket := sessionEvents(t, url, laptop.Token)
	time.Sleep(100 * time.Millisecond) // the subscriptions are live

	laptop.Must(t, `mutation($id: ID!) { revokeSession(id: $id) }`, map[string]any{"id": phone.SessionID}, nil)
	if code := waitClosed(t, phoneSocket, 2*time.Second); code != 4403 {
		t.Fatalf("the revoked session's socket closed with %d, want 4403", code)
	}
	if id, reason := nextRevoked(t, laptopSocket); id != phone.SessionID || reason != string(chat.EndRevoked) {
		t.Fatalf("laptop heard SessionRevoked %s %s", id, reason)
	}
	phone.Refused(t, "UNAUTHENTICATED", `{ me { id } }`, nil)
	// The phone's token cannot open a new socket either.
	s := apitest.Dial(context.Background(), t, url, phone.Token, true)
	if code := waitClosed(t, s, 2*time.Second); code != 4403 {
		t.Fatalf("a new socket with the revoked token: %d, want 4403", code)
	}
}

// TestRevocationClosesSocketsOnAnotherInstance: two API instances share a
// store and a log, and hear of ended sessions through real Redis pub/sub;
// a session revoked through instance A loses its socket on instance B
// within 2 s, and its token is refused there at once.
func TestRevocationClosesSocketsOnAnotherInstance(t *testing.T) {
	addrs := strings.Split(redistest.Addrs(t), ",")
	channel := "test:sessions:" + uuid.NewString()
	store := embeddedStore(t)
	log := memlog.New(memlog.Config{})
	t.Cleanup(func() { log.Close() })
	instance := func() string {
		bus, err := redisrevocation.New(context.Background(), redisrevocation.Config{Addrs: addrs, Channel: channel})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = bus.Close() })
		_, url := newEmbedded(t, apiOptions{store: store, log: log, chat: func(c *chat.Config) { c.Revocations = bus }}).serve(t, server.Config{})
		return url
	}
	a, b := instance(), instance()
	phone := signUpDevice(t, a, "two")
	laptop := logInDevice(t, phone, "Laptop")
	onB := &apitest.Client{URL: b, Token: phone.Token}
	onB.Must(t, `{ me { id } }`, nil, nil) // B now holds the session as open
	socket := sessionEvents(t, b, phone.Token)
	time.Sleep(100 * time.Millisecond)

	start := time.Now()
	laptop.Must(t, `mutation { revokeOtherSessions }`, nil, nil) // through A
	if code := waitClosed(t, socket, 2*time.Second); code != 4403 {
		t.Fatalf("the socket on B closed with %d, want 4403", code)
	}
	t.Logf("socket on the other instance closed %v after the revocation", time.Since(start).Round(time.Millisecond))
	onB.Refused(t, "UNAUTHENTICATED", `{ me { id } }`, nil)
}
