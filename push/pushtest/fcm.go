package pushtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// FCM is a local FCM HTTP v1 API with its OAuth 2.0 token endpoint.
type FCM struct {
	*recorder
	srv     *httptest.Server
	key     *rsa.PrivateKey
	keyID   string
	email   string
	project string

	mu     sync.Mutex
	tokens map[string]time.Time // access token -> expiry
	// TokenRequests counts access tokens issued.
	TokenRequests int
}

// StartFCM starts an FCM server, stopped when the test ends.
func StartFCM(t testing.TB) *FCM {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &FCM{recorder: newRecorder(), key: key, keyID: "key1", email: "push@test-project.iam.gserviceaccount.com",
		project: "test-project", tokens: map[string]time.Time{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", f.token)
	mux.HandleFunc("POST /v1/projects/{project}/messages:send", f.send)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// URL is the API's base URL (FCMConfig.URL).
func (f *FCM) URL() string { return f.srv.URL }

// Credentials is a service account key file naming this server's token
// endpoint.
func (f *FCM) Credentials() []byte {
	der, _ := x509.MarshalPKCS8PrivateKey(f.key)
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": f.project, "private_key_id": f.keyID,
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": f.email, "token_uri": f.srv.URL + "/token",
	})
	return b
}

func oauthError(w http.ResponseWriter, msg string) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": msg})
}

// token is the JWT bearer grant (RFC 7523) as Google's endpoint runs it.
func (f *FCM) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		oauthError(w, "unsupported grant_type")
		return
	}
	var claims jwt.MapClaims
	_, err := jwt.ParseWithClaims(r.PostForm.Get("assertion"), &claims, func(t *jwt.Token) (any, error) {
		if t.Header["kid"] != f.keyID {
			return nil, fmt.Errorf("unknown kid")
		}
		return &f.key.PublicKey, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(f.email), jwt.WithAudience(f.srv.URL+"/token"),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	if err != nil {
		oauthError(w, "invalid JWT signature or claims: "+err.Error())
		return
	}
	if claims["scope"] != "https://www.googleapis.com/auth/firebase.messaging" {
		oauthError(w, "missing the firebase.messaging scope")
		return
	}
	iat, _ := claims.GetIssuedAt()
	exp, _ := claims.GetExpirationTime()
	if exp.Sub(iat.Time) > time.Hour {
		oauthError(w, "JWT lives longer than an hour")
		return
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	tok := "ya29." + hex.EncodeToString(b)
	f.mu.Lock()
	f.tokens[tok] = time.Now().Add(time.Hour)
	f.TokenRequests++
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "expires_in": 3599, "token_type": "Bearer"})
}

func fcmError(w http.ResponseWriter, status int, code, errorCode string) {
	e := map[string]any{"code": status, "status": code, "message": code}
	if errorCode != "" {
		e["details"] = []map[string]string{{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": errorCode}}
	}
	writeJSON(w, status, map[string]any{"error": e})
}

func (f *FCM) send(w http.ResponseWriter, r *http.Request) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	exp, ok := f.tokens[tok]
	f.mu.Unlock()
	if !ok || time.Now().After(exp) {
		fcmError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "")
		return
	}
	if r.PathValue("project") != f.project {
		fcmError(w, http.StatusForbidden, "PERMISSION_DENIED", "SENDER_ID_MISMATCH")
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var req struct {
		Message struct {
			Token        string            `json:"token"`
			Notification map[string]string `json:"notification"`
			Data         map[string]string `json:"data"` // values must be strings
			Android      map[string]any    `json:"android"`
		} `json:"message"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Message.Token == "" {
		fcmError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "INVALID_ARGUMENT")
		return
	}
	if len(body) > 4096+len(req.Message.Token)+64 { // 4 KB of payload besides the addressing
		fcmError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "INVALID_ARGUMENT")
		return
	}
	status, gone := f.next(req.Message.Token)
	switch {
	case gone:
		fcmError(w, http.StatusNotFound, "NOT_FOUND", "UNREGISTERED")
		return
	case status == http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "1")
		fcmError(w, status, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED")
		return
	case status != 0:
		fcmError(w, status, "UNAVAILABLE", "UNAVAILABLE")
		return
	}
	var payload map[string]any
	_ = json.Unmarshal(body, &payload)
	f.accept(Push{Device: req.Message.Token, Header: r.Header.Clone(), Payload: payload["message"].(map[string]any), At: time.Now()})
	writeJSON(w, http.StatusOK, map[string]string{"name": "projects/" + f.project + "/messages/0:1"})
}
