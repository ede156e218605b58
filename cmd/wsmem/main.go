// Command wsmem measures the API's memory per idle websocket: it runs the
// API in this process (embedded backends, a temporary data directory),
// starts a copy of itself as the client process, which opens N
// graphql-transport-ws sockets (acknowledged, optionally subscribed), and
// reports how much the server's heap and stacks grew per socket.
//
// With -messages K, another user then sends K messages to the sockets'
// user, and wsmem reports what each delivered event cost on the wire and in
// server CPU, and the memory per socket again once the sockets are idle.
// With -compress the client offers permessage-deflate, as browsers do.
//
//	go run ./cmd/wsmem -n 5000 -subscribe
//	go run ./cmd/wsmem -n 2000 -subscribe -messages 50 [-compress]
//	go run ./cmd/wsmem -n 5000 -transport gqlgen   # gqlgen's stock transport, for comparison
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"

	"messenger/auth"
	"messenger/chat"
	"messenger/cmd/internal/inproc"
	"messenger/graph"
	"messenger/loaders"
	"messenger/resolvers"
	"messenger/server"
)

func main() {
	n := flag.Int("n", 5000, "sockets to open")
	subscribe := flag.Bool("subscribe", false, "subscribe to events on every socket")
	impl := flag.String("transport", "gqlws", "gqlws (ours) or gqlgen (stock transport.Websocket)")
	heap := flag.String("memprofile", "", "write a heap profile of the server with the sockets open")
	messages := flag.Int("messages", 0, "then send this many messages to the sockets' user (with -subscribe) and report bytes on the wire and CPU per event")
	compress := flag.Bool("compress", false, "the client offers permessage-deflate (RFC 7692), as browsers do")
	bodyBytes := flag.Int("body-bytes", 0, "with -messages: message bodies of about this many bytes (default: typical chat messages, 3 to 100 bytes)")
	dial := flag.String("dial", "", "internal: run as the client process against this URL")
	token := flag.String("token", "", "internal: the token the client process uses")
	flag.Parse()
	if *dial != "" {
		if err := clients(*dial, *token, *n, *subscribe, *compress, *messages > 0); err != nil {
			fmt.Fprintln(os.Stderr, "wsmem client:", err)
			os.Exit(1)
		}
		return
	}
	if *heap != "" {
		runtime.MemProfileRate = 512 // fine enough to attribute a few KiB per socket
	}
	if *messages > 0 && !*subscribe {
		fmt.Fprintln(os.Stderr, "wsmem: -messages needs -subscribe")
		os.Exit(2)
	}
	if *bodyBytes > 0 {
		bodies = longBodies(*bodyBytes)
	}
	if err := measure(*n, *subscribe, *impl, *heap, *messages, *compress); err != nil {
		fmt.Fprintln(os.Stderr, "wsmem:", err)
		os.Exit(1)
	}
}

func measure(n int, subscribe bool, impl, heap string, messages int, compress bool) error {
	api, closeAPI, err := inproc.Open(inproc.Config{Name: "wsmem"})
	if err != nil {
		return err
	}
	defer closeAPI() // the service before the store: closing sockets still record presence
	svc, tokens, store, quiet := api.Chat, api.Tokens, api.Store, api.Logger
	sess, err := svc.SignUp(context.Background(), "idle", "idle-password-1", "Idle")
	if err != nil {
		return err
	}
	var h http.Handler
	switch impl {
	case "gqlws":
		h = server.New(server.Config{Chat: svc, Tokens: tokens, Loaders: store, Logger: quiet})
	case "gqlgen":
		h = stock(svc, store, tokens)
	default:
		return fmt.Errorf("unknown transport %q", impl)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	before := snapshot()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	args := []string{"-dial", "http://" + ln.Addr().String(), "-token", sess.Token, "-n", fmt.Sprint(n)}
	if subscribe {
		args = append(args, "-subscribe")
	}
	if compress {
		args = append(args, "-compress")
	}
	if messages > 0 {
		args = append(args, "-messages", fmt.Sprint(messages))
	}
	cmd := exec.Command(self, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		stdin.Close()
		cmd.Wait()
		// Let the server notice the closed sockets and end their
		// subscriptions before the service and the store close.
		for i := 0; i < 100 && runtime.NumGoroutine() > before.goroutines+10; i++ {
			time.Sleep(50 * time.Millisecond)
		}
	}()
	lines := bufio.NewReader(out)
	line, err := lines.ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		return fmt.Errorf("client process: %q %v", line, err)
	}
	opened := time.Since(start)
	time.Sleep(2 * time.Second) // let the last subscriptions settle
	after := snapshot()
	if heap != "" {
		f, err := os.Create(heap)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
			return err
		}
	}
	per := func(a, b uint64) float64 { return float64(int64(a)-int64(b)) / float64(n) }
	res := map[string]any{
		"transport":           impl,
		"sockets":             n,
		"subscribed":          subscribe,
		"compress":            compress,
		"open_seconds":        opened.Seconds(),
		"heap_per_socket":     per(after.HeapInuse, before.HeapInuse),
		"stack_per_socket":    per(after.StackInuse, before.StackInuse),
		"total_per_socket":    per(after.HeapInuse+after.StackInuse, before.HeapInuse+before.StackInuse),
		"goroutines_per_sock": float64(after.goroutines-before.goroutines) / float64(n),
	}
	fmt.Printf("%s: %d sockets%s: %.0f bytes/socket (heap %.0f + stacks %.0f), %.1f goroutines/socket\n",
		impl, n, map[bool]string{true: " subscribed", false: " acknowledged"}[subscribe],
		res["total_per_socket"], res["heap_per_socket"], res["stack_per_socket"], res["goroutines_per_sock"])
	if messages > 0 {
		if err := traffic(svc, sess, messages, n, stdin, lines, res); err != nil {
			return err
		}
		idle := snapshot()
		res["idle_after_traffic_per_socket"] = per(idle.HeapInuse+idle.StackInuse, before.HeapInuse+before.StackInuse)
		fmt.Printf("after the traffic, idle again: %.0f bytes/socket\n", res["idle_after_traffic_per_socket"])
	}
	b, _ := json.Marshal(res)
	fmt.Printf("%s\n", b)
	return nil
}

type mem struct {
	runtime.MemStats
	goroutines int
}

func snapshot() mem {
	runtime.GC()
	runtime.GC()
	var m mem
	runtime.ReadMemStats(&m.MemStats)
	m.goroutines = runtime.NumGoroutine()
	return m
}

// stock is the API's GraphQL handler with gqlgen's own websocket transport,
// as it was before gqlws.
func stock(svc *chat.Service, store loaders.Source, tokens *auth.Tokens) http.Handler {
	gql := handler.New(graph.NewExecutableSchema(graph.Config{Resolvers: &resolvers.Resolver{Chat: svc}}))
	gql.AddTransport(transport.Websocket{
		KeepAlivePingInterval: 15 * time.Second,
		PingPongInterval:      20 * time.Second,
		InitFunc: func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			id, exp, err := tokens.Verify(p.Authorization())
			if err != nil {
				return ctx, nil, err
			}
			ctx = auth.WithIdentity(ctx, auth.Identity{UserID: id, Expires: exp})
			return ctx, nil, nil
		},
	})
	gql.AddTransport(transport.POST{})
	return loaders.Middleware(store, gql)
}

// clients opens n sockets, prints "ready", and holds them until stdin
// closes; a line "count K" on stdin asks it to wait until every socket has
// K events, then print what they cost on the wire.
func clients(url, token string, n int, subscribe, compress, typical bool) error {
	var w wire
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 10 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 1024,
		EnableCompression: compress, NetDialContext: w.dial}
	ws := "ws" + strings.TrimPrefix(url, "http") + "/graphql"
	query := "subscription { events { __typename cursor } }"
	if typical {
		query = typicalSubscription
	}
	sub, _ := json.Marshal(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": query}})
	conns := make([]*websocket.Conn, 0, n)
	for i := 0; i < n; i++ {
		c, _, err := d.Dial(ws, nil)
		if err != nil {
			return fmt.Errorf("socket %d: %w", i, err)
		}
		init, _ := json.Marshal(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}})
		if err := c.WriteMessage(websocket.TextMessage, init); err != nil {
			return err
		}
		if _, b, err := c.ReadMessage(); err != nil || !strings.Contains(string(b), "connection_ack") {
			return fmt.Errorf("socket %d: no ack: %s %v", i, b, err)
		}
		if subscribe {
			if err := c.WriteMessage(websocket.TextMessage, sub); err != nil {
				return err
			}
		}
		conns = append(conns, c)
		// Answer pings so the server keeps the socket; count events.
		go func(c *websocket.Conn) {
			for {
				_, b, err := c.ReadMessage()
				if err != nil {
					return
				}
				switch {
				case strings.Contains(string(b), `"type":"ping"`):
					_ = c.WriteMessage(websocket.TextMessage, []byte(`{"type":"pong"}`))
				case strings.Contains(string(b), `"type":"next"`) && strings.Contains(string(b), `"MessageAdded"`):
					w.event(len(b))
				}
			}
		}(c)
	}
	fmt.Println("ready")
	return w.serve(os.Stdin, n, func() {
		for _, c := range conns {
			c.Close()
		}
	})
}
