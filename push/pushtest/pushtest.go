// Package pushtest runs local servers that speak the push providers' wire
// protocols (APNs over HTTP/2 with TLS, FCM HTTP v1 with its OAuth 2.0
// token endpoint, a Web Push service) and check what the real services
// check: authentication JWTs and their signatures, required headers,
// payload size, and for Web Push that the body decrypts with the
// subscription's keys. Tests start them; each records what it accepted
// and can be told to fail a device's next requests.
package pushtest

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// Push is one notification a server accepted.
type Push struct {
	// Device is the APNs device token, FCM registration token or Web Push
	// subscription id it was sent to.
	Device string
	// Header holds the request's headers.
	Header http.Header
	// Payload is the decoded JSON payload (decrypted, for Web Push).
	Payload map[string]any
	// At is when it arrived.
	At time.Time
}

// recorder keeps what a server accepted and the failures it was told to
// answer with.
type recorder struct {
	mu       sync.Mutex
	pushes   []Push
	failures map[string][]int // device -> statuses to answer next, in order
	gone     map[string]bool
	arrived  chan struct{}
}

func newRecorder() *recorder {
	return &recorder{failures: map[string][]int{}, gone: map[string]bool{}, arrived: make(chan struct{}, 1)}
}

// Fail makes the next requests for device answer these statuses, one each.
func (r *recorder) Fail(device string, statuses ...int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures[device] = append(r.failures[device], statuses...)
}

// Unregister makes every later request for device answer as for a device
// the service no longer knows.
func (r *recorder) Unregister(device string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gone[device] = true
}

// Pushes returns what was accepted so far, in arrival order.
func (r *recorder) Pushes() []Push {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Push(nil), r.pushes...)
}

// Wait waits up to timeout until at least n pushes were accepted and
// returns them.
func (r *recorder) Wait(n int, timeout time.Duration) []Push {
	deadline := time.After(timeout)
	for {
		if ps := r.Pushes(); len(ps) >= n {
			return ps
		}
		select {
		case <-r.arrived:
		case <-deadline:
			return r.Pushes()
		}
	}
}

// next returns the scripted status for device (0: none), or gone.
func (r *recorder) next(device string) (status int, gone bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gone[device] {
		return 0, true
	}
	if f := r.failures[device]; len(f) > 0 {
		r.failures[device] = f[1:]
		return f[0], false
	}
	return 0, false
}

func (r *recorder) accept(p Push) {
	r.mu.Lock()
	r.pushes = append(r.pushes, p)
	r.mu.Unlock()
	select {
	case r.arrived <- struct{}{}:
	default:
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
