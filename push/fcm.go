package push

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"messenger/storage"
)

// FCMConfig configures the FCM provider (the HTTP v1 API, authorised by
// OAuth 2.0 access tokens obtained with a service account's JWT).
type FCMConfig struct {
	// URL is the API (default https://fcm.googleapis.com).
	URL string
	// Credentials is the service account key file's JSON. Required.
	Credentials []byte
	// Client sends the requests (default: 10 s timeout).
	Client *http.Client
}

// ServiceAccount is the part of a Google service account key file FCM
// needs.
type ServiceAccount struct {
	ProjectID    string `json:"project_id"`
	PrivateKeyID string `json:"private_key_id"`
	PrivateKey   string `json:"private_key"`
	ClientEmail  string `json:"client_email"`
	TokenURI     string `json:"token_uri"`
}

// fcmScope is the OAuth 2.0 scope of sending messages.
const fcmScope = "https://www.googleapis.com/auth/firebase.messaging"

// FCM sends to Android (and FCM-registered iOS and web) apps.
type FCM struct {
	cfg FCMConfig
	sa  ServiceAccount
	key *rsa.PrivateKey

	mu          sync.Mutex
	accessToken string
	expires     time.Time
}

var _ Provider = (*FCM)(nil)

// NewFCM returns the FCM provider.
func NewFCM(cfg FCMConfig) (*FCM, error) {
	var sa ServiceAccount
	if err := json.Unmarshal(cfg.Credentials, &sa); err != nil {
		return nil, fmt.Errorf("push: FCM credentials: %w", err)
	}
	if sa.ProjectID == "" || sa.ClientEmail == "" || sa.PrivateKey == "" {
		return nil, fmt.Errorf("push: FCM credentials need project_id, client_email and private_key")
	}
	if sa.TokenURI == "" {
		sa.TokenURI = "https://oauth2.googleapis.com/token"
	}
	block, _ := pem.Decode([]byte(sa.PrivateKey))
	if block == nil {
		return nil, fmt.Errorf("push: FCM credentials: no PEM private key")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("push: FCM credentials: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("push: FCM credentials: the key is not RSA")
	}
	if cfg.URL == "" {
		cfg.URL = "https://fcm.googleapis.com"
	}
	if cfg.Client == nil {
		cfg.Client = newHTTPClient(10*time.Second, nil)
	}
	return &FCM{cfg: cfg, sa: sa, key: rk}, nil
}

// Platform implements Provider.
func (f *FCM) Platform() storage.Platform { return storage.FCM }

// token returns a cached access token, exchanging a fresh signed JWT
// (RFC 7523 bearer grant) when it is missing or about to expire.
func (f *FCM) token(ctx context.Context, renew bool) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.accessToken != "" && !renew && time.Until(f.expires) > time.Minute {
		return f.accessToken, nil
	}
	now := time.Now()
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": f.sa.ClientEmail, "scope": fcmScope, "aud": f.sa.TokenURI,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})
	t.Header["kid"] = f.sa.PrivateKeyID
	assertion, err := t.SignedString(f.key)
	if err != nil {
		return "", &PermanentError{Reason: "credentials", Err: err}
	}
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {assertion}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.sa.TokenURI, strings.NewReader(form.Encode()))
	if err != nil {
		return "", &PermanentError{Reason: "credentials", Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := f.cfg.Client.Do(req)
	if err != nil {
		return "", networkError(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var out struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		Error       string `json:"error"`
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = json.Unmarshal(raw, &out)
	if transientStatus(resp.StatusCode) {
		return "", &RetryError{Reason: "token_" + strconv.Itoa(resp.StatusCode), After: retryAfter(resp.Header)}
	}
	if resp.StatusCode != http.StatusOK || out.AccessToken == "" {
		return "", &PermanentError{Reason: "credentials", Err: fmt.Errorf("fcm token: %d %s", resp.StatusCode, out.Error)}
	}
	f.accessToken, f.expires = out.AccessToken, now.Add(time.Duration(out.ExpiresIn)*time.Second)
	return f.accessToken, nil
}

// fcmPayload is the v1 send request for one registration token.
func fcmPayload(token string) func(Notification) ([]byte, error) {
	return func(n Notification) ([]byte, error) {
		return json.Marshal(map[string]any{"message": map[string]any{
			"token":        token,
			"notification": map[string]string{"title": n.Title, "body": n.Body},
			"data": map[string]string{
				"conversationId": n.ConversationID, "messageId": n.MessageID,
				"badge": strconv.Itoa(n.Badge), "recalled": strconv.FormatBool(n.Recalled),
			},
			"android": map[string]any{
				"priority":     "HIGH",
				"collapse_key": cut(n.CollapseID, 64),
				"notification": map[string]any{"tag": n.ThreadID, "notification_count": n.Badge},
			},
		}})
	}
}

// Send implements Provider: POST /v1/projects/<project>/messages:send.
func (f *FCM) Send(ctx context.Context, d storage.Device, n Notification) error {
	body, err := fit(n, maxPayload, fcmPayload(d.Token))
	if err != nil {
		return err
	}
	err = f.send(ctx, body, false)
	var pe *PermanentError
	if asPermanent(err, &pe) && pe.Reason == "401" {
		return f.send(ctx, body, true) // the access token was revoked early
	}
	return err
}

func (f *FCM) send(ctx context.Context, body []byte, renew bool) error {
	tok, err := f.token(ctx, renew)
	if err != nil {
		return err
	}
	u := f.cfg.URL + "/v1/projects/" + url.PathEscape(f.sa.ProjectID) + "/messages:send"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return &PermanentError{Reason: "request", Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := f.cfg.Client.Do(req)
	if err != nil {
		return networkError(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode == http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil
	}
	var e struct {
		Error struct {
			Status  string `json:"status"`
			Message string `json:"message"`
			Details []struct {
				ErrorCode string `json:"errorCode"`
			} `json:"details"`
		} `json:"error"`
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = json.Unmarshal(raw, &e)
	code := e.Error.Status
	for _, d := range e.Error.Details {
		if d.ErrorCode != "" {
			code = d.ErrorCode
		}
	}
	switch {
	case code == "UNREGISTERED" || resp.StatusCode == http.StatusNotFound:
		return ErrGone
	case transientStatus(resp.StatusCode):
		return &RetryError{Reason: strconv.Itoa(resp.StatusCode), After: retryAfter(resp.Header)}
	case resp.StatusCode == http.StatusUnauthorized:
		return &PermanentError{Reason: "401", Err: fmt.Errorf("fcm: %s", e.Error.Message)}
	}
	if code == "" {
		code = strconv.Itoa(resp.StatusCode)
	}
	return &PermanentError{Reason: code, Err: fmt.Errorf("fcm: %d %s: %s", resp.StatusCode, code, e.Error.Message)}
}
