package main

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"messenger/apitest"
)

// startBinary runs the built API on a free port with dataDir and returns its
// base URL; the process gets SIGTERM at cleanup unless stopped earlier.
func startBinary(t *testing.T, bin, dataDir string, env ...string) (string, *exec.Cmd) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "MESSENGER_HTTP_ADDR="+addr, "MESSENGER_DATA_DIR="+dataDir)
	cmd.Env = append(cmd.Env, env...)
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() })
	lines := make(chan string, 10)
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	deadline := time.After(startTimeout)
	for {
		select {
		case l := <-lines:
			if strings.HasPrefix(l, "playground: ") {
				if !strings.Contains(l, "/playground") {
					t.Fatalf("playground line %q", l)
				}
				return "http://" + addr, cmd
			}
		case <-deadline:
			t.Fatalf("the API did not print its playground URL within %v", startTimeout)
		}
	}
}

// embedded unsets the servers' variables a developer may have exported.
var embedded = []string{"MESSENGER_CASSANDRA_HOSTS=", "MESSENGER_REDIS_ADDRS=", "MESSENGER_OPENSEARCH_URL=", "MESSENGER_S3_ENDPOINT="}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "api")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestDataSurvivesARestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	url, cmd := startBinary(t, bin, data, embedded...)
	alice, bob := apitest.SignUp(t, url, "alice"), apitest.SignUp(t, url, "bob")
	var conv struct{ CreateDirectConversation struct{ ID string } }
	alice.Must(t, `mutation($u: ID!) { createDirectConversation(userId: $u) { id } }`, map[string]any{"u": bob.UserID}, &conv)
	alice.Must(t, `mutation($c: ID!) { sendMessage(input: {conversationId: $c, clientMessageId: "k", body: "still here?"}) { seq } }`, map[string]any{"c": conv.CreateDirectConversation.ID}, nil)
	events := bob.Subscribe(context.Background(), t, "")

	// SIGTERM: the server finishes, closes websockets cleanly and flushes the store.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-events.Closed:
	case <-time.After(10 * time.Second):
		t.Fatal("websocket was not closed on shutdown")
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("API exited with %v after SIGTERM", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("API did not exit after SIGTERM")
	}

	url, _ = startBinary(t, bin, data, embedded...)
	bob.URL = url // the token stays valid: the signing key is kept in the data dir
	var hist struct {
		Messages struct {
			Edges []struct{ Node struct{ Body string } }
		}
	}
	bob.Must(t, `query($c: ID!) { messages(conversationId: $c, last: 5) { edges { node { body } } } }`, map[string]any{"c": conv.CreateDirectConversation.ID}, &hist)
	if len(hist.Messages.Edges) != 1 || hist.Messages.Edges[0].Node.Body != "still here?" {
		t.Fatalf("after restart: %+v", hist)
	}
	relog := &apitest.Client{URL: url}
	relog.Must(t, `mutation($u: String!, $p: String!) { logIn(input: {username: $u, password: $p}) { token } }`, map[string]any{"u": alice.Username, "p": "password-" + alice.Username}, nil)
}

// startTimeout bounds an API start in these tests. A fleet start creates every
// table it needs on the real Cassandra (each a schema change the node must agree
// on), which takes far longer on a loaded 2-core machine than on an idle one.
const startTimeout = 90 * time.Second
