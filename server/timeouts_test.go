package server_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"messenger/apitest"
	"messenger/server"
)

// serveWithTimeouts serves the API behind the http.Server the binary uses,
// with these timeouts, and returns its URL.
func serveWithTimeouts(t *testing.T, to server.Timeouts) string {
	t.Helper()
	e := newEmbedded(t, apiOptions{})
	h := server.New(server.Config{Chat: e.Chat, Tokens: e.Tokens, Loaders: e.Store})
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = to.HTTPServer(h)
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(h.Shutdown)
	return srv.URL
}

// trickle writes chunks to conn one per interval until the server closes
// the connection (true) or all were written and nothing came back within
// the interval (false).
func trickle(t *testing.T, conn net.Conn, chunks []string, every time.Duration) (closed bool) {
	t.Helper()
	gone := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, conn) // ends when the server closes
		close(gone)
	}()
	for _, c := range chunks {
		select {
		case <-gone:
			return true
		case <-time.After(every):
		}
		if _, err := conn.Write([]byte(c)); err != nil {
			return true
		}
	}
	select {
	case <-gone:
		return true
	case <-time.After(every):
		return false
	}
}

func dialTCP(t *testing.T, url string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TestSlowHeadersAreCutOff: a client sending its headers a line at a time
// (slowloris) loses its connection after ReadHeader, long before it is
// done.
func TestSlowHeadersAreCutOff(t *testing.T) {
	url := serveWithTimeouts(t, server.Timeouts{ReadHeader: 300 * time.Millisecond})
	conn := dialTCP(t, url)
	lines := []string{"GET /healthz HTTP/1.1\r\n", "Host: x\r\n"}
	for i := 0; i < 50; i++ { // 50 lines 100 ms apart: 5 s
		lines = append(lines, fmt.Sprintf("X-Slow-%d: 1\r\n", i))
	}
	if !trickle(t, conn, lines, 100*time.Millisecond) {
		t.Fatal("a client sending headers for 5 s kept its connection with a 300 ms header timeout")
	}
}

// TestSlowBodyIsCutOff: a body arriving below the minimum rate is cut off
// after the grace; the request does not run.
func TestSlowBodyIsCutOff(t *testing.T) {
	url := serveWithTimeouts(t, server.Timeouts{BodyGrace: 300 * time.Millisecond, MinBodyRate: 1000})
	conn := dialTCP(t, url)
	body := `{"query":"{ __typename }"}` + strings.Repeat(" ", 2000)
	head := fmt.Sprintf("POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
	chunks := []string{head}
	for i := 0; i < len(body); i += 10 { // 10 bytes per 100 ms: 100 B/s for 20 s
		chunks = append(chunks, body[i:min(i+10, len(body))])
	}
	if !trickle(t, conn, chunks, 100*time.Millisecond) {
		t.Fatal("a body trickling at 100 B/s was read to the end with a minimum of 1,000 B/s")
	}
}

// slowReader yields n bytes of r per read, one read per interval.
type slowReader struct {
	r     io.Reader
	n     int
	every time.Duration
}

func (s *slowReader) Read(p []byte) (int, error) {
	time.Sleep(s.every)
	return s.r.Read(p[:min(len(p), s.n)])
}

// TestABodyAtTheMinimumRateMayTakeLongerThanTheGrace: the read deadline
// grows with the bytes received, so a long upload at a sane rate is read
// whole.
func TestABodyAtTheMinimumRateMayTakeLongerThanTheGrace(t *testing.T) {
	url := serveWithTimeouts(t, server.Timeouts{BodyGrace: 300 * time.Millisecond, MinBodyRate: 4 << 10, Write: 300 * time.Millisecond})
	body := `{"query":"{ __typename }"}` + strings.Repeat(" ", 12<<10) // 12 KiB at 8 KiB/s: 1.5 s
	req, _ := http.NewRequest(http.MethodPost, url+"/graphql", &slowReader{r: strings.NewReader(body), n: 400, every: 50 * time.Millisecond})
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("a body at twice the minimum rate: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "Query") {
		t.Fatalf("a body at twice the minimum rate: %d %s", resp.StatusCode, b)
	}
}

// TestIdleConnectionsAreClosed: a kept-alive connection with no next
// request is closed after Idle.
func TestIdleConnectionsAreClosed(t *testing.T) {
	url := serveWithTimeouts(t, server.Timeouts{Idle: 300 * time.Millisecond})
	conn := dialTCP(t, url)
	if _, err := conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("an idle kept-alive connection: read %v, want EOF from the server closing it", err)
	}
}

// TestWebsocketsOutliveEveryHTTPTimeout: an upgraded socket has none of
// the HTTP deadlines; it lives on its pings.
func TestWebsocketsOutliveEveryHTTPTimeout(t *testing.T) {
	const short = 200 * time.Millisecond
	url := serveWithTimeouts(t, server.Timeouts{ReadHeader: short, Idle: short, BodyGrace: short, Write: short, Download: short})
	alice, bob := apitest.SignUp(t, url, "alice"), apitest.SignUp(t, url, "bob")
	conv := startDirect(t, alice, bob)
	events := subscribe(t, bob)
	time.Sleep(5 * short) // past every deadline
	sendMsg(t, alice, conv, "late", "still there?")
	if ev := events.NextOfType(t, "MessageAdded"); ev.Message == nil || ev.Message.Body != "still there?" {
		t.Fatalf("after the HTTP timeouts passed, the socket got %+v", ev)
	}
}
