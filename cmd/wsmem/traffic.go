package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"messenger/chat"
)

// typicalSubscription is what a chat client subscribes to when events
// carry traffic: a message with its sender and conversation (every field a
// shared rendering allows, so one execution serves every socket).
const typicalSubscription = `subscription Events { events { __typename cursor ... on MessageAdded { message { id seq body sentAt clientMessageId sender { id username displayName } conversation { id } } } } }`

// bodies are typical chat messages, 3 to 100 bytes.
var bodies = []string{
	"on my way",
	"Are we still on for lunch tomorrow? I can bring the notes from Monday's meeting.",
	"ok 👍",
	"Just pushed the fix for the login bug, can someone review it before the release tonight?",
	"Thanks! That works for me.",
	"I'll be about ten minutes late, start without me and I'll catch up on the slides when I get there.",
	"lol",
	"Did anyone see the email from the landlord about the water being off on Thursday morning?",
}

// longBodies are bodies of about n bytes each, made of the typical ones.
func longBodies(n int) []string {
	out := make([]string, len(bodies))
	for i := range out {
		var b strings.Builder
		for j := i; b.Len() < n; j++ {
			b.WriteString(bodies[j%len(bodies)])
			b.WriteString(" ")
		}
		s := b.String()[:n]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		out[i] = strings.TrimSpace(s)
	}
	return out
}

// traffic has another user send messages to the sockets' user and asks
// the client process what they cost on the wire; it adds the results to
// res.
func traffic(svc *chat.Service, to chat.Session, messages, sockets int, client io.Writer, lines *bufio.Reader, res map[string]any) error {
	ctx := context.Background()
	from, err := svc.SignUp(ctx, "sender", "sender-password-1", "A Sender")
	if err != nil {
		return err
	}
	conv, err := svc.CreateDirect(ctx, from.User.ID, to.User.ID)
	if err != nil {
		return err
	}
	time.Sleep(time.Second) // the new conversation's event reaches every socket
	if _, err := fmt.Fprintf(client, "start\n"); err != nil {
		return err
	}
	if line, err := lines.ReadString('\n'); err != nil || strings.TrimSpace(line) != "started" {
		return fmt.Errorf("client process: %q %v", line, err)
	}
	// One message at a time: each is delivered to every socket before the
	// next is sent, so no subscriber falls behind (a loaded machine would
	// otherwise drop some as slow consumers).
	var wire, payload, events int64
	var elapsed, cpu time.Duration
	for i := 0; i < messages; i++ {
		cpu0, start := cpuTime(), time.Now()
		if _, err := svc.Send(ctx, from.User.ID, conv.ID, fmt.Sprint("m", i), bodies[i%len(bodies)]); err != nil {
			return fmt.Errorf("sending message %d: %w", i, err)
		}
		if _, err := fmt.Fprintf(client, "count 1\n"); err != nil {
			return err
		}
		line, err := lines.ReadString('\n')
		if err != nil {
			return fmt.Errorf("client process: %q %v", line, err)
		}
		var w, p, e int64
		if _, err := fmt.Sscanf(line, "wire %d payload %d events %d", &w, &p, &e); err != nil {
			return fmt.Errorf("client process: %q: %w", line, err)
		}
		elapsed, cpu = elapsed+time.Since(start), cpu+cpuTime()-cpu0
		wire, payload, events = wire+w, payload+p, events+e
	}
	res["events"] = events
	res["wire_bytes_per_event"] = float64(wire) / float64(events)
	res["payload_bytes_per_event"] = float64(payload) / float64(events)
	res["server_cpu_us_per_event"] = float64(cpu.Microseconds()) / float64(events)
	res["deliver_seconds"] = elapsed.Seconds()
	fmt.Printf("%d messages to %d sockets: %d events, %.0f bytes on the wire per event (payload %.0f), server CPU %.1f µs per event, %.2f s\n",
		messages, sockets, events, res["wire_bytes_per_event"], res["payload_bytes_per_event"], res["server_cpu_us_per_event"], elapsed.Seconds())
	return nil
}

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// wire counts the client process's bytes read from its sockets, and the
// events and their (inflated) bytes.
type wire struct {
	read, payload, events atomic.Int64
}

func (w *wire) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return counting{nc, &w.read}, nil
}

func (w *wire) event(n int) {
	w.payload.Add(int64(n))
	w.events.Add(1)
}

// serve answers the server's lines on stdin until it closes, then calls
// done. "start" sets the baseline (after the traffic before it, such as the
// new conversation, has arrived); "count K" waits until every one of the n
// sockets has K more events and prints what they cost since the baseline,
// which it then moves.
func (w *wire) serve(stdin io.Reader, n int, done func()) error {
	defer done()
	in := bufio.NewReader(stdin)
	var read0, payload0, events0 int64
	for {
		line, err := in.ReadString('\n')
		if err != nil {
			return nil
		}
		var k int
		switch line = strings.TrimSpace(line); {
		case line == "start":
			read0, payload0, events0 = w.read.Load(), w.payload.Load(), w.events.Load()
			fmt.Println("started")
			continue
		case strings.HasPrefix(line, "count "):
			if _, err := fmt.Sscanf(line, "count %d", &k); err != nil {
				return err
			}
		default:
			continue
		}
		want := events0 + int64(k*n)
		for deadline := time.Now().Add(time.Minute); w.events.Load() < want; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				return fmt.Errorf("%d of %d events arrived", w.events.Load()-events0, want-events0)
			}
		}
		read, payload, events := w.read.Load(), w.payload.Load(), w.events.Load()
		fmt.Printf("wire %d payload %d events %d\n", read-read0, payload-payload0, events-events0)
		read0, payload0, events0 = read, payload, events
	}
}

type counting struct {
	net.Conn
	n *atomic.Int64
}

func (c counting) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}
