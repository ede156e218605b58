package push

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"messenger/storage"
)

// APNsConfig configures the APNs provider (the HTTP/2 provider API with
// token-based authentication).
type APNsConfig struct {
	// URL is the service (default https://api.push.apple.com; development
	// builds use https://api.sandbox.push.apple.com).
	URL string
	// Key is the .p8 signing key's private key (P-256). Required.
	Key *ecdsa.PrivateKey
	// KeyID and TeamID name the key and the developer team. Required.
	KeyID, TeamID string
	// Topic is the app's bundle id, used for devices registered without
	// an appId. Required.
	Topic string
	// Client sends the requests (default: HTTP/2 over TLS, 10 s timeout).
	Client *http.Client
}

// APNs sends to Apple devices.
type APNs struct {
	cfg APNsConfig
	// token is the provider token, renewed every tokenLifetime: Apple
	// refuses tokens older than an hour and throttles renewals more often
	// than every 20 minutes.
	mu      sync.Mutex
	token   string
	tokenAt time.Time
}

var _ Provider = (*APNs)(nil)

// tokenLifetime is how long one provider token is used.
const tokenLifetime = 50 * time.Minute

// NewAPNs returns the APNs provider.
func NewAPNs(cfg APNsConfig) (*APNs, error) {
	if cfg.Key == nil || cfg.KeyID == "" || cfg.TeamID == "" || cfg.Topic == "" {
		return nil, fmt.Errorf("push: APNs needs a key, its key id, the team id and a topic")
	}
	if cfg.URL == "" {
		cfg.URL = "https://api.push.apple.com"
	}
	if cfg.Client == nil {
		cfg.Client = newHTTPClient(10*time.Second, nil)
	}
	return &APNs{cfg: cfg}, nil
}

// ParseP8 reads an APNs .p8 key (PKCS#8 PEM of a P-256 key).
func ParseP8(pemBytes []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, fmt.Errorf("push: no PEM block in the key")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("push: parse key: %w", err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("push: the key is not an ECDSA key")
	}
	return ec, nil
}

// Platform implements Provider.
func (a *APNs) Platform() storage.Platform { return storage.APNs }

// providerToken returns the current ES256 provider token.
func (a *APNs) providerToken(renew bool) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token != "" && !renew && time.Since(a.tokenAt) < tokenLifetime {
		return a.token, nil
	}
	now := time.Now()
	t := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": a.cfg.TeamID, "iat": now.Unix()})
	t.Header["kid"] = a.cfg.KeyID
	s, err := t.SignedString(a.cfg.Key)
	if err != nil {
		return "", fmt.Errorf("push: sign APNs token: %w", err)
	}
	a.token, a.tokenAt = s, now
	return s, nil
}

// apnsPayload is the JSON of an alert notification.
func apnsPayload(n Notification) ([]byte, error) {
	return json.Marshal(map[string]any{
		"aps": map[string]any{
			"alert":           map[string]string{"title": n.Title, "body": n.Body},
			"badge":           n.Badge,
			"sound":           "default",
			"thread-id":       n.ThreadID,
			"mutable-content": 1,
		},
		"conversationId": n.ConversationID,
		"messageId":      n.MessageID,
		"recalled":       n.Recalled,
	})
}

// Send implements Provider: POST /3/device/<token>.
func (a *APNs) Send(ctx context.Context, d storage.Device, n Notification) error {
	body, err := fit(n, maxPayload, apnsPayload)
	if err != nil {
		return err
	}
	err = a.send(ctx, d, n, body, false)
	var pe *PermanentError
	if asPermanent(err, &pe) && pe.Reason == "ExpiredProviderToken" {
		return a.send(ctx, d, n, body, true)
	}
	return err
}

func (a *APNs) send(ctx context.Context, d storage.Device, n Notification, body []byte, renew bool) error {
	tok, err := a.providerToken(renew)
	if err != nil {
		return &PermanentError{Reason: "credentials", Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.cfg.URL+"/3/device/"+d.Token, bytes.NewReader(body))
	if err != nil {
		return &PermanentError{Reason: "bad_token", Err: err}
	}
	topic := d.AppID
	if topic == "" {
		topic = a.cfg.Topic
	}
	req.Header.Set("authorization", "bearer "+tok)
	req.Header.Set("apns-topic", topic)
	req.Header.Set("apns-push-type", "alert")
	req.Header.Set("apns-priority", "10")
	req.Header.Set("apns-expiration", strconv.FormatInt(time.Now().Add(24*time.Hour).Unix(), 10))
	if n.CollapseID != "" {
		req.Header.Set("apns-collapse-id", cut(n.CollapseID, 64))
	}
	req.Header.Set("content-type", "application/json")
	resp, err := a.cfg.Client.Do(req)
	if err != nil {
		return networkError(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	var e struct {
		Reason string `json:"reason"`
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	_ = json.Unmarshal(raw, &e)
	switch {
	case resp.StatusCode == http.StatusGone,
		resp.StatusCode == http.StatusBadRequest && (e.Reason == "BadDeviceToken" || e.Reason == "DeviceTokenNotForTopic"):
		return ErrGone
	case transientStatus(resp.StatusCode):
		return &RetryError{Reason: strconv.Itoa(resp.StatusCode), After: retryAfter(resp.Header)}
	}
	if e.Reason == "" {
		e.Reason = strconv.Itoa(resp.StatusCode)
	}
	return &PermanentError{Reason: e.Reason, Err: fmt.Errorf("apns: %d %s", resp.StatusCode, e.Reason)}
}
