package push

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"messenger/storage"
)

// WebPushConfig configures the Web Push provider (RFC 8030 delivery,
// RFC 8291 message encryption, RFC 8292 VAPID).
type WebPushConfig struct {
	// PrivateKey is the VAPID key pair's private half (P-256). Required.
	PrivateKey *ecdsa.PrivateKey
	// Subject is the contact the JWT's sub claim carries (mailto: or https:
	// URL). Required.
	Subject string
	// TTL is how long the push service keeps an undelivered message
	// (default 24 h).
	TTL time.Duration
	// Client sends the requests (default: HTTP/2 capable, 10 s timeout).
	Client *http.Client
}

// WebPush sends to browsers' push services.
type WebPush struct {
	cfg    WebPushConfig
	public string // base64url uncompressed VAPID public key (the k parameter)

	// tokens caches one signed JWT per push service origin, reused until
	// an hour before it expires: signing per push would cost an ECDSA
	// signature each.
	mu     sync.Mutex
	tokens map[string]vapidToken
}

type vapidToken struct {
	jwt     string
	expires time.Time
}

var _ Provider = (*WebPush)(nil)

// NewWebPush returns the Web Push provider.
func NewWebPush(cfg WebPushConfig) (*WebPush, error) {
	if cfg.PrivateKey == nil || cfg.Subject == "" {
		return nil, fmt.Errorf("push: web push needs a VAPID private key and a subject")
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 24 * time.Hour
	}
	if cfg.Client == nil {
		cfg.Client = newHTTPClient(10*time.Second, nil)
	}
	pub, err := cfg.PrivateKey.PublicKey.ECDH()
	if err != nil {
		return nil, fmt.Errorf("push: VAPID key: %w", err)
	}
	return &WebPush{cfg: cfg, public: base64.RawURLEncoding.EncodeToString(pub.Bytes())}, nil
}

// Platform implements Provider.
func (w *WebPush) Platform() storage.Platform { return storage.WebPush }

// webPushRecordSize is the record size (rs) of the one record sent.
const webPushRecordSize = 4096

// webPushOverhead is what RFC 8291 encryption adds to a payload: the
// header (salt 16, rs 4, idlen 1, keyid 65), the padding delimiter and
// the AEAD tag.
const webPushOverhead = 86 + 1 + 16

// Send implements Provider: encrypts the JSON payload for the
// subscription's keys and POSTs it with a VAPID authorization.
func (w *WebPush) Send(ctx context.Context, d storage.Device, n Notification) error {
	plain, err := fit(n, maxPayload-webPushOverhead, webPushPayload)
	if err != nil {
		return err
	}
	body, err := EncryptWebPush(plain, d.P256dh, d.Auth)
	if err != nil {
		return &PermanentError{Reason: "bad_subscription", Err: err}
	}
	auth, err := w.authorization(d.Endpoint)
	if err != nil {
		return &PermanentError{Reason: "bad_subscription", Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Endpoint, bytes.NewReader(body))
	if err != nil {
		return &PermanentError{Reason: "bad_subscription", Err: err}
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Encoding", "aes128gcm")
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("TTL", strconv.Itoa(int(w.cfg.TTL/time.Second)))
	req.Header.Set("Urgency", "high")
	if n.CollapseID != "" {
		// Topic replaces a message still waiting at the push service; it
		// is at most 32 characters of the base64url alphabet.
		req.Header.Set("Topic", topic(n.CollapseID))
	}
	resp, err := w.cfg.Client.Do(req)
	if err != nil {
		return networkError(err)
	}
	defer func() { _ = resp.Body.Close() }()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch {
	case resp.StatusCode == http.StatusCreated || resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusAccepted:
		return nil
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return ErrGone
	case transientStatus(resp.StatusCode):
		return &RetryError{Reason: strconv.Itoa(resp.StatusCode), After: retryAfter(resp.Header)}
	}
	return &PermanentError{Reason: strconv.Itoa(resp.StatusCode), Err: fmt.Errorf("web push: %s", bytes.TrimSpace(msg))}
}

// topic derives a Topic header (<= 32 base64url characters) from an id.
func topic(id string) string {
	sum := sha256.Sum256([]byte(id))
	return base64.RawURLEncoding.EncodeToString(sum[:])[:32]
}

// authorization is the RFC 8292 header: a JWT for the endpoint's origin,
// signed with ES256, and the public key.
func (w *WebPush) authorization(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("endpoint %q is not an absolute URL", endpoint)
	}
	aud := u.Scheme + "://" + u.Host
	w.mu.Lock()
	defer w.mu.Unlock()
	if t, ok := w.tokens[aud]; ok && time.Until(t.expires) > time.Hour {
		return "vapid t=" + t.jwt + ", k=" + w.public, nil
	}
	exp := time.Now().Add(12 * time.Hour)
	claims := jwt.MapClaims{"aud": aud, "exp": exp.Unix(), "sub": w.cfg.Subject}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodES256, claims).SignedString(w.cfg.PrivateKey)
	if err != nil {
		return "", err
	}
	if w.tokens == nil || len(w.tokens) > 1000 {
		w.tokens = map[string]vapidToken{}
	}
	w.tokens[aud] = vapidToken{jwt: tok, expires: exp}
	return "vapid t=" + tok + ", k=" + w.public, nil
}

// webPushPayload is the JSON a service worker receives.
func webPushPayload(n Notification) ([]byte, error) {
	return json.Marshal(map[string]any{
		"title": n.Title, "body": n.Body, "conversationId": n.ConversationID, "messageId": n.MessageID,
		"badge": n.Badge, "tag": n.ThreadID, "recalled": n.Recalled,
	})
}

// EncryptWebPush encrypts plaintext for a subscription (RFC 8291,
// aes128gcm content coding of RFC 8188, one record). p256dh and auth are
// the subscription's keys, base64url as browsers give them.
func EncryptWebPush(plaintext []byte, p256dh, auth string) ([]byte, error) {
	uaPub, err := decode64(p256dh)
	if err != nil {
		return nil, fmt.Errorf("p256dh: %w", err)
	}
	secret, err := decode64(auth)
	if err != nil || len(secret) != 16 {
		return nil, fmt.Errorf("auth secret must be 16 bytes")
	}
	uaKey, err := ecdh.P256().NewPublicKey(uaPub)
	if err != nil {
		return nil, fmt.Errorf("p256dh: %w", err)
	}
	asKey, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	shared, err := asKey.ECDH(uaKey)
	if err != nil {
		return nil, err
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	asPub := asKey.PublicKey().Bytes()
	gcm, nonce, err := webPushKeys(shared, secret, salt, uaPub, asPub)
	if err != nil {
		return nil, err
	}
	if len(plaintext)+1+gcm.Overhead() > webPushRecordSize {
		return nil, fmt.Errorf("payload of %d bytes exceeds one record", len(plaintext))
	}
	header := make([]byte, 0, 86)
	header = append(header, salt...)
	header = binary.BigEndian.AppendUint32(header, webPushRecordSize)
	header = append(header, byte(len(asPub)))
	header = append(header, asPub...)
	record := append(append([]byte{}, plaintext...), 0x02) // last record, no padding
	return gcm.Seal(header, nonce, record, nil), nil
}

// webPushKeys derives the content encryption key and nonce (RFC 8291
// section 3.4) from the ECDH secret, the auth secret, the salt and both
// public keys (user agent first, then application server).
func webPushKeys(shared, authSecret, salt, uaPub, asPub []byte) (cipher.AEAD, []byte, error) {
	prkKey, err := hkdf.Extract(sha256.New, shared, authSecret)
	if err != nil {
		return nil, nil, err
	}
	info := "WebPush: info\x00" + string(uaPub) + string(asPub)
	ikm, err := hkdf.Expand(sha256.New, prkKey, info, 32)
	if err != nil {
		return nil, nil, err
	}
	prk, err := hkdf.Extract(sha256.New, ikm, salt)
	if err != nil {
		return nil, nil, err
	}
	cek, err := hkdf.Expand(sha256.New, prk, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, nil, err
	}
	nonce, err := hkdf.Expand(sha256.New, prk, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, nil, err
	}
	gcm, err := cipher.NewGCM(block)
	return gcm, nonce, err
}

// DecryptWebPush undoes EncryptWebPush with the user agent's private key
// and auth secret: what a browser (and the test push service) does.
func DecryptWebPush(body []byte, ua *ecdh.PrivateKey, authSecret []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, fmt.Errorf("body too short for an aes128gcm header")
	}
	salt, idlen := body[:16], int(body[20])
	if len(body) < 21+idlen {
		return nil, fmt.Errorf("truncated key id")
	}
	rs := binary.BigEndian.Uint32(body[16:20])
	asPub, ciphertext := body[21:21+idlen], body[21+idlen:]
	if uint32(len(ciphertext)) > rs {
		return nil, fmt.Errorf("record of %d bytes exceeds rs %d", len(ciphertext), rs)
	}
	asKey, err := ecdh.P256().NewPublicKey(asPub)
	if err != nil {
		return nil, fmt.Errorf("key id: %w", err)
	}
	shared, err := ua.ECDH(asKey)
	if err != nil {
		return nil, err
	}
	gcm, nonce, err := webPushKeys(shared, authSecret, salt, ua.PublicKey().Bytes(), asPub)
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, nonce, ciphertext, nil)
	if err != nil {
		return nil, err
	}
	// Strip the padding: trailing zeros, then the delimiter 0x02.
	i := len(plain) - 1
	for i >= 0 && plain[i] == 0 {
		i--
	}
	if i < 0 || plain[i] != 0x02 {
		return nil, fmt.Errorf("missing last-record delimiter")
	}
	return plain[:i], nil
}

// decode64 reads base64url with or without padding (browsers differ).
func decode64(s string) ([]byte, error) {
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.URLEncoding.DecodeString(s)
}
