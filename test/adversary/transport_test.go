package adversary

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// A text frame that is not UTF-8 closes the websocket with 1007, as RFC
// 6455 requires, even when it is otherwise a valid message.
func TestWebsocketTextThatIsNotUTF8ClosesWith1007(t *testing.T) {
	t.Parallel()
	in := shared(t)
	c := signUp(t, in, "utf8")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(in.URL, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	if err := conn.Write(ctx, websocket.MessageText, []byte(`{"type":"connection_init","payload":{"Authorization":"Bearer `+c.Token+`"}}`)); err != nil {
		t.Fatal(err)
	}
	if _, ack, err := conn.Read(ctx); err != nil || !strings.Contains(string(ack), "connection_ack") {
		t.Fatalf("connection_init: %s %v", ack, err)
	}
	// A ping whose payload holds the bytes FF FE: valid JSON, invalid UTF-8.
	if err := conn.Write(ctx, websocket.MessageText, []byte("{\"type\":\"ping\",\"payload\":{\"x\":\"\xff\xfe\"}}")); err != nil {
		t.Fatal(err)
	}
	var answers []string
	for {
		_, msg, err := conn.Read(ctx)
		if err == nil {
			answers = append(answers, fmt.Sprintf("%q", msg))
			continue
		}
		switch st := websocket.CloseStatus(err); {
		case st == websocket.StatusInvalidFramePayloadData:
			return
		case st == -1 && ctx.Err() != nil:
			t.Fatalf("the socket stayed open after a text frame that is not UTF-8; the server answered %v", answers)
		default:
			t.Fatalf("the socket ended with %v (%v), want 1007", st, err)
		}
	}
}

// A client that sends its request headers one byte per second (slowloris)
// is disconnected once the server's header timeout passes, so such clients
// cannot hold sockets open.
func TestSlowlorisIsDisconnected(t *testing.T) {
	t.Parallel()
	in := shared(t)
	conn, err := net.Dial("tcp", in.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The headers never end: after the request line, one endless header.
	slow := []byte("GET /healthz HTTP/1.1\r\nHost: adversary\r\nX-Slow: ")
	began := time.Now()
	for i := 0; ; i++ {
		if held := time.Since(began); held > 45*time.Second {
			t.Fatalf("the server still holds a connection that sent %d header bytes in %v", i, held.Round(time.Second))
		}
		b := byte('a')
		if i < len(slow) {
			b = slow[i]
		}
		if _, err := conn.Write([]byte{b}); err != nil {
			t.Logf("disconnected after %v (write: %v)", time.Since(began).Round(time.Second), err)
			return
		}
		_ = conn.SetReadDeadline(time.Now().Add(time.Second))
		n, err := conn.Read(make([]byte, 512))
		var ne net.Error
		if n > 0 || err != nil && !(errors.As(err, &ne) && ne.Timeout()) {
			t.Logf("disconnected after %v (read %d bytes, %v)", time.Since(began).Round(time.Second), n, err)
			return
		}
	}
}
