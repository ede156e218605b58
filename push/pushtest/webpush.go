package pushtest

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"messenger/push"
)

// WebPush is a local Web Push service (RFC 8030) that decrypts each
// message (RFC 8291) with the subscription's keys and checks the VAPID
// authorization (RFC 8292) against the application server key the
// subscription was made with.
type WebPush struct {
	*recorder
	srv *httptest.Server

	mu   sync.Mutex
	subs map[string]*subscription
}

type subscription struct {
	key       *ecdh.PrivateKey
	auth      []byte
	serverKey string // the applicationServerKey (base64url)
}

// Subscription is what a browser's PushSubscription gives the app.
type Subscription struct {
	// ID names it in Push.Device.
	ID                     string
	Endpoint, P256dh, Auth string
}

// StartWebPush starts a Web Push service, stopped when the test ends.
func StartWebPush(t testing.TB) *WebPush {
	w := &WebPush{recorder: newRecorder(), subs: map[string]*subscription{}}
	w.srv = httptest.NewTLSServer(http.HandlerFunc(w.serve)) // push services are https only
	t.Cleanup(w.srv.Close)
	return w
}

// Client trusts the service's certificate.
func (w *WebPush) Client() *http.Client { return w.srv.Client() }

// Subscribe makes a subscription for the application server key vapid (as
// PushManager.subscribe({applicationServerKey}) does).
func (w *WebPush) Subscribe(vapid *ecdsa.PublicKey) Subscription {
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	secret := make([]byte, 16)
	id := make([]byte, 12)
	_, _ = rand.Read(secret)
	_, _ = rand.Read(id)
	pub, err := vapid.ECDH()
	if err != nil {
		panic(err)
	}
	s := Subscription{ID: hex.EncodeToString(id), P256dh: b64(key.PublicKey().Bytes()), Auth: b64(secret)}
	s.Endpoint = w.srv.URL + "/push/" + s.ID
	w.mu.Lock()
	w.subs[s.ID] = &subscription{key: key, auth: secret, serverKey: b64(pub.Bytes())}
	w.mu.Unlock()
	return s
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

var topicRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

func (w *WebPush) serve(rw http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutPrefix(r.URL.Path, "/push/")
	if r.Method != http.MethodPost || !ok {
		http.Error(rw, "not found", http.StatusNotFound)
		return
	}
	w.mu.Lock()
	sub := w.subs[id]
	w.mu.Unlock()
	if sub == nil {
		http.Error(rw, "no such subscription", http.StatusNotFound)
		return
	}
	if err := w.checkVAPID(r.Header.Get("Authorization"), sub.serverKey); err != nil {
		http.Error(rw, "VAPID: "+err.Error(), http.StatusForbidden)
		return
	}
	h := r.Header
	switch {
	case h.Get("TTL") == "":
		http.Error(rw, "TTL header required", http.StatusBadRequest)
		return
	case h.Get("Content-Encoding") != "aes128gcm":
		http.Error(rw, "Content-Encoding must be aes128gcm", http.StatusUnsupportedMediaType)
		return
	case h.Get("Topic") != "" && !topicRE.MatchString(h.Get("Topic")):
		http.Error(rw, "bad Topic", http.StatusBadRequest)
		return
	case h.Get("Urgency") != "" && !strings.Contains(" very-low low normal high ", " "+h.Get("Urgency")+" "):
		http.Error(rw, "bad Urgency", http.StatusBadRequest)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if len(body) > 4096 {
		http.Error(rw, "payload too large", http.StatusRequestEntityTooLarge)
		return
	}
	plain, err := push.DecryptWebPush(body, sub.key, sub.auth)
	if err != nil {
		http.Error(rw, "cannot decrypt: "+err.Error(), http.StatusBadRequest)
		return
	}
	var payload map[string]any
	if err := json.Unmarshal(plain, &payload); err != nil {
		http.Error(rw, "payload is not JSON", http.StatusBadRequest)
		return
	}
	status, gone := w.next(id)
	switch {
	case gone:
		http.Error(rw, "subscription expired", http.StatusGone)
		return
	case status == http.StatusTooManyRequests:
		rw.Header().Set("Retry-After", "1")
		http.Error(rw, "slow down", status)
		return
	case status != 0:
		http.Error(rw, "unavailable", status)
		return
	}
	w.accept(Push{Device: id, Header: r.Header.Clone(), Payload: payload, At: time.Now()})
	rw.Header().Set("Location", w.srv.URL+"/message/"+id)
	rw.WriteHeader(http.StatusCreated)
}

// checkVAPID verifies the vapid scheme: k is the subscription's server
// key, t an ES256 JWT signed by it for this origin, expiring within 24 h,
// with a contact.
func (w *WebPush) checkVAPID(h, serverKey string) error {
	rest, ok := strings.CutPrefix(h, "vapid ")
	if !ok {
		return fmt.Errorf("not the vapid scheme")
	}
	params := map[string]string{}
	for _, p := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		params[k] = v
	}
	if params["k"] != serverKey {
		return fmt.Errorf("k is not the subscription's application server key")
	}
	raw, err := base64.RawURLEncoding.DecodeString(params["k"])
	if err != nil {
		return err
	}
	epub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
	if err != nil {
		return err
	}
	var claims jwt.MapClaims
	if _, err := jwt.ParseWithClaims(params["t"], &claims, func(*jwt.Token) (any, error) { return epub, nil },
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithAudience(w.srv.URL), jwt.WithExpirationRequired()); err != nil {
		return err
	}
	exp, _ := claims.GetExpirationTime()
	if time.Until(exp.Time) > 24*time.Hour {
		return fmt.Errorf("exp more than 24 hours ahead")
	}
	sub, _ := claims["sub"].(string)
	if !strings.HasPrefix(sub, "mailto:") && !strings.HasPrefix(sub, "https:") {
		return fmt.Errorf("sub must be a mailto: or https: contact")
	}
	return nil
}
