package push

import (
	"crypto/tls"
	"net/http"
	"strconv"
	"time"
)

// newHTTPClient is the default client of the providers: HTTP/2 when the
// server offers it (APNs requires it), bounded by timeout.
func newHTTPClient(timeout time.Duration, tlsConfig *tls.Config) *http.Client {
	t := &http.Transport{
		ForceAttemptHTTP2:   true,
		TLSClientConfig:     tlsConfig,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
	}
	return &http.Client{Transport: t, Timeout: timeout}
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, time.Until(t))
	}
	return 0
}

// transientStatus is a status worth retrying: throttled or a server error.
func transientStatus(code int) bool { return code == http.StatusTooManyRequests || code >= 500 }

// networkError wraps a failed round trip: the notification may not have
// reached the service, so it is retried.
func networkError(err error) error { return &RetryError{Reason: "network", Err: err} }
