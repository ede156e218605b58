package pushtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// APNs is a local APNs provider API: HTTP/2 over TLS, token auth.
type APNs struct {
	*recorder
	srv *httptest.Server
	// Key, KeyID, TeamID and Topic are the credentials it accepts.
	Key           *ecdsa.PrivateKey
	KeyID, TeamID string
	Topic         string
}

// StartAPNs starts an APNs server, stopped when the test ends.
func StartAPNs(t testing.TB) *APNs {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	a := &APNs{recorder: newRecorder(), Key: key, KeyID: "ABC123DEFG", TeamID: "DEF123GHIJ", Topic: "com.example.messenger"}
	a.srv = httptest.NewUnstartedServer(http.HandlerFunc(a.serve))
	a.srv.EnableHTTP2 = true
	a.srv.StartTLS()
	t.Cleanup(a.srv.Close)
	return a
}

// URL is the server's base URL.
func (a *APNs) URL() string { return a.srv.URL }

// Client trusts the server's certificate and speaks HTTP/2.
func (a *APNs) Client() *http.Client { return a.srv.Client() }

func (a *APNs) fail(w http.ResponseWriter, status int, reason string) {
	body := map[string]any{"reason": reason}
	if status == http.StatusGone {
		body["timestamp"] = time.Now().UnixMilli()
	}
	writeJSON(w, status, body)
}

func (a *APNs) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("apns-id", "00000000-0000-0000-0000-000000000000")
	if r.ProtoMajor != 2 {
		a.fail(w, http.StatusBadRequest, "BadProtocol") // APNs speaks HTTP/2 only
		return
	}
	token, ok := strings.CutPrefix(r.URL.Path, "/3/device/")
	if r.Method != http.MethodPost || !ok {
		a.fail(w, http.StatusMethodNotAllowed, "MethodNotAllowed")
		return
	}
	if reason := a.checkToken(r.Header.Get("authorization")); reason != "" {
		a.fail(w, http.StatusForbidden, reason)
		return
	}
	if _, err := hex.DecodeString(token); err != nil || len(token) == 0 {
		a.fail(w, http.StatusBadRequest, "BadDeviceToken")
		return
	}
	h := r.Header
	switch {
	case h.Get("apns-topic") == "":
		a.fail(w, http.StatusBadRequest, "MissingTopic")
		return
	case h.Get("apns-topic") != a.Topic:
		a.fail(w, http.StatusBadRequest, "DeviceTokenNotForTopic")
		return
	case h.Get("apns-push-type") != "alert" && h.Get("apns-push-type") != "background":
		a.fail(w, http.StatusBadRequest, "InvalidPushType")
		return
	case h.Get("apns-priority") != "" && h.Get("apns-priority") != "10" && h.Get("apns-priority") != "5" && h.Get("apns-priority") != "1":
		a.fail(w, http.StatusBadRequest, "BadPriority")
		return
	case len(h.Get("apns-collapse-id")) > 64:
		a.fail(w, http.StatusBadRequest, "BadCollapseId")
		return
	}
	if e := h.Get("apns-expiration"); e != "" {
		if _, err := strconv.ParseInt(e, 10, 64); err != nil {
			a.fail(w, http.StatusBadRequest, "BadExpirationDate")
			return
		}
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if len(body) > 4096 {
		a.fail(w, http.StatusRequestEntityTooLarge, "PayloadTooLarge")
		return
	}
	var payload map[string]any
	if err := json.Unmarshal(body, &payload); err != nil || payload["aps"] == nil {
		a.fail(w, http.StatusBadRequest, "PayloadEmpty")
		return
	}
	status, gone := a.next(token)
	switch {
	case gone:
		a.fail(w, http.StatusGone, "Unregistered")
		return
	case status == http.StatusTooManyRequests:
		a.fail(w, status, "TooManyRequests")
		return
	case status != 0:
		a.fail(w, status, "ServiceUnavailable")
		return
	}
	a.accept(Push{Device: token, Header: r.Header.Clone(), Payload: payload, At: time.Now()})
	w.WriteHeader(http.StatusOK)
}

// checkToken verifies the provider token as APNs does: ES256 signed by the
// key named in kid, issued by the team, not older than an hour.
func (a *APNs) checkToken(h string) string {
	raw, ok := strings.CutPrefix(h, "bearer ")
	if !ok {
		return "MissingProviderToken"
	}
	var claims jwt.MapClaims
	tok, err := jwt.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		if t.Header["kid"] != a.KeyID {
			return nil, fmt.Errorf("unknown kid %v", t.Header["kid"])
		}
		return &a.Key.PublicKey, nil
	}, jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuer(a.TeamID), jwt.WithIssuedAt())
	if err != nil || !tok.Valid {
		return "InvalidProviderToken"
	}
	iat, err := claims.GetIssuedAt()
	if err != nil || iat == nil {
		return "InvalidProviderToken"
	}
	if time.Since(iat.Time) > time.Hour {
		return "ExpiredProviderToken"
	}
	return ""
}
