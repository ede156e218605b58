package server

import (
	"errors"
	"io"
	"net/http"
	"time"
)

// Timeouts bound how long a client may hold a connection to the public
// listener. Zero values are the defaults. None of them applies to a
// websocket once upgraded: its liveness is the websocket transport's
// pings.
type Timeouts struct {
	// ReadHeader bounds reading a request's line and headers (default
	// 10 s): a client sending them slowly (slowloris) is cut off.
	ReadHeader time.Duration
	// Idle bounds a kept-alive connection waiting for its next request
	// (default 120 s).
	Idle time.Duration
	// BodyGrace and MinBodyRate bound reading a request's body: each read
	// must finish by BodyGrace after the request arrived plus one second
	// per MinBodyRate bytes read so far (defaults 10 s and 64 KiB/s). A
	// 33 MiB upload may take 9 minutes and a 1 MiB JSON body 26 s, at
	// 0.5 Mbit/s or faster; a client trickling bytes is cut off within
	// the grace.
	BodyGrace   time.Duration
	MinBodyRate int64
	// Write bounds writing a /graphql response, from when its request's
	// body was read (default 60 s).
	Write time.Duration
	// Download bounds writing any other response (files under /blobs/, the
	// playground), from when its request was read (default 10 min: 32 MiB
	// at 56 KiB/s).
	Download time.Duration
}

func (t *Timeouts) defaults() {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	set(&t.ReadHeader, 10*time.Second)
	set(&t.Idle, 120*time.Second)
	set(&t.BodyGrace, 10*time.Second)
	set(&t.Write, 60*time.Second)
	set(&t.Download, 10*time.Minute)
	if t.MinBodyRate <= 0 {
		t.MinBodyRate = 64 << 10
	}
}

// HTTPServer returns an http.Server serving h with these timeouts. The
// server has no ReadTimeout or WriteTimeout of its own: those would also
// cut hijacked websockets, and a whole-request read deadline would cancel
// a request's context once it passed during a long query. Each request
// gets its own deadlines instead.
func (t Timeouts) HTTPServer(h http.Handler) *http.Server {
	t.defaults()
	return &http.Server{
		Handler:           t.wrap(h),
		ReadHeaderTimeout: t.ReadHeader,
		IdleTimeout:       t.Idle,
	}
}

// wrap sets the read and write deadlines of each request that is not a
// websocket upgrade.
func (t Timeouts) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		now := time.Now()
		write := t.Write
		if r.URL.Path != "/graphql" {
			write = t.Download
		}
		_ = rc.SetWriteDeadline(now.Add(write))
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc, start: now, t: t, write: write}
		}
		next.ServeHTTP(w, r)
	})
}

// deadlineBody moves the connection's read deadline as the body arrives
// (see Timeouts.MinBodyRate), and the write deadline with it, so that a
// response written after a long upload still has its whole Write. Once the
// body ends it clears the read deadline: the server then watches the idle
// connection for the client going away, which must not cancel a request
// that is still running. After any other error the deadline stays, so
// nothing more is read from a client that was too slow.
type deadlineBody struct {
	io.ReadCloser
	rc    *http.ResponseController
	start time.Time
	t     Timeouts
	write time.Duration
	n     int64
	done  bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	if !b.done {
		d := b.start.Add(b.t.BodyGrace + time.Duration(float64(b.n)/float64(b.t.MinBodyRate)*float64(time.Second)))
		_ = b.rc.SetReadDeadline(d)
		_ = b.rc.SetWriteDeadline(d.Add(b.write))
	}
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	switch {
	case b.done:
	case errors.Is(err, io.EOF):
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
		_ = b.rc.SetWriteDeadline(time.Now().Add(b.write))
	case err != nil:
		b.done = true // a passed deadline stays: the connection is done
	}
	return n, err
}
