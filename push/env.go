package push

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
)

// ProvidersFromEnv builds the providers whose MESSENGER_* variables are
// set (getenv is os.Getenv in production):
//
//	APNs:     MESSENGER_APNS_KEY_FILE (.p8), MESSENGER_APNS_KEY_ID,
//	          MESSENGER_APNS_TEAM_ID, MESSENGER_APNS_TOPIC,
//	          MESSENGER_APNS_URL (default https://api.push.apple.com)
//	FCM:      MESSENGER_FCM_CREDENTIALS_FILE (service account JSON),
//	          MESSENGER_FCM_URL (default https://fcm.googleapis.com)
//	Web Push: MESSENGER_VAPID_PRIVATE_KEY (base64url P-256 scalar, as
//	          web-push generate-vapid-keys prints) or
//	          MESSENGER_VAPID_PRIVATE_KEY_FILE (PEM), MESSENGER_VAPID_SUBJECT
//
// A provider partly configured is an error; none configured is not (push
// is then off, which New logs).
func ProvidersFromEnv(getenv func(string) string) ([]Provider, error) {
	var out []Provider
	if f := getenv("MESSENGER_APNS_KEY_FILE"); f != "" {
		pemBytes, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("MESSENGER_APNS_KEY_FILE: %w", err)
		}
		key, err := ParseP8(pemBytes)
		if err != nil {
			return nil, fmt.Errorf("MESSENGER_APNS_KEY_FILE: %w", err)
		}
		a, err := NewAPNs(APNsConfig{URL: getenv("MESSENGER_APNS_URL"), Key: key, KeyID: getenv("MESSENGER_APNS_KEY_ID"),
			TeamID: getenv("MESSENGER_APNS_TEAM_ID"), Topic: getenv("MESSENGER_APNS_TOPIC")})
		if err != nil {
			return nil, fmt.Errorf("MESSENGER_APNS_*: %w", err)
		}
		out = append(out, a)
	}
	if f := getenv("MESSENGER_FCM_CREDENTIALS_FILE"); f != "" {
		creds, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("MESSENGER_FCM_CREDENTIALS_FILE: %w", err)
		}
		p, err := NewFCM(FCMConfig{URL: getenv("MESSENGER_FCM_URL"), Credentials: creds})
		if err != nil {
			return nil, fmt.Errorf("MESSENGER_FCM_*: %w", err)
		}
		out = append(out, p)
	}
	key, err := vapidKey(getenv("MESSENGER_VAPID_PRIVATE_KEY"), getenv("MESSENGER_VAPID_PRIVATE_KEY_FILE"))
	if err != nil {
		return nil, err
	}
	if key != nil {
		w, err := NewWebPush(WebPushConfig{PrivateKey: key, Subject: getenv("MESSENGER_VAPID_SUBJECT")})
		if err != nil {
			return nil, fmt.Errorf("MESSENGER_VAPID_*: %w", err)
		}
		out = append(out, w)
	}
	return out, nil
}

// vapidKey reads the VAPID private key from its base64url scalar or a PEM
// file (SEC 1 or PKCS#8); neither set is no key.
func vapidKey(raw, file string) (*ecdsa.PrivateKey, error) {
	switch {
	case raw != "":
		d, err := decode64(strings.TrimSpace(raw))
		if err != nil {
			return nil, fmt.Errorf("MESSENGER_VAPID_PRIVATE_KEY: %w", err)
		}
		k, err := ecdh.P256().NewPrivateKey(d)
		if err != nil {
			return nil, fmt.Errorf("MESSENGER_VAPID_PRIVATE_KEY: %w", err)
		}
		return ecdsaFromECDH(k)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("MESSENGER_VAPID_PRIVATE_KEY_FILE: %w", err)
		}
		block, _ := pem.Decode(b)
		if block == nil {
			return nil, fmt.Errorf("MESSENGER_VAPID_PRIVATE_KEY_FILE: no PEM block")
		}
		if k, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
			return k, nil
		}
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if ek, ok := k.(*ecdsa.PrivateKey); err == nil && ok {
			return ek, nil
		}
		return nil, fmt.Errorf("MESSENGER_VAPID_PRIVATE_KEY_FILE: not a P-256 private key")
	}
	return nil, nil
}

// ecdsaFromECDH turns a raw P-256 private key into an ECDSA signing key.
func ecdsaFromECDH(k *ecdh.PrivateKey) (*ecdsa.PrivateKey, error) {
	return ecdsa.ParseRawPrivateKey(elliptic.P256(), k.Bytes())
}
