package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"messenger/apitest"
)

// crash starts the API on dataDir and kills it (SIGKILL) after d, wherever
// it is in its start or its work.
func crash(t *testing.T, bin, dataDir string, d time.Duration) {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "MESSENGER_HTTP_ADDR=127.0.0.1:0", "MESSENGER_DATA_DIR="+dataDir)
	cmd.Env = append(cmd.Env, embedded...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(d)
	kill(t, cmd)
}

func kill(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
}

// expectReady checks /readyz answers 200 "ready" and returns its body.
func expectReady(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "ready\n") {
		t.Fatalf("/readyz: %d %q", resp.StatusCode, body)
	}
	return string(body)
}

// searchCount is the totalCount of a search for word in conversation c.
func searchCount(t *testing.T, c *apitest.Client, conv, word string) int {
	t.Helper()
	var out struct{ SearchMessages struct{ TotalCount int } }
	c.Must(t, `query($q: String!, $c: ID) { searchMessages(query: $q, conversationId: $c) { totalCount } }`, map[string]any{"q": word, "c": conv}, &out)
	return out.SearchMessages.TotalCount
}

func eventuallyFinds(t *testing.T, c *apitest.Client, conv, word string, want int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		n := searchCount(t, c, conv, word)
		if n == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("search for %q finds %d messages after 15 s, want %d", word, n, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func newGroup(t *testing.T, c *apitest.Client) string {
	t.Helper()
	var out struct{ CreateGroup struct{ ID string } }
	c.Must(t, `mutation { createGroup(input: {title: "crash", memberIds: []}) { id } }`, nil, &out)
	return out.CreateGroup.ID
}

// send sends one message; an error is what a client of a dying server
// sees (no answer, or an error answer). Unlike apitest's client it never
// fails the test, so senders can run while the server is killed.
func send(c *apitest.Client, conv, key, body string) error {
	q, _ := json.Marshal(map[string]any{
		"query":     `mutation($c: ID!, $k: String!, $b: String!) { sendMessage(input: {conversationId: $c, clientMessageId: $k, body: $b}) { seq } }`,
		"variables": map[string]any{"c": conv, "k": key, "b": body},
	})
	req, err := http.NewRequest(http.MethodPost, c.URL+"/graphql", bytes.NewReader(q))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var r struct {
		Data   json.RawMessage
		Errors []json.RawMessage
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return err
	}
	if len(r.Errors) > 0 || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %s", resp.StatusCode, r.Errors)
	}
	return nil
}

// TestKillDuringFirstStartNeverStopsTheNextStart: kill -9 at a random
// moment of the first second of a first start (an empty data directory),
// restart: the API starts, is ready, and search works. Before, a kill in
// that second could leave the search index without its mapping, and every
// later start exited.
func TestKillDuringFirstStartNeverStopsTheNextStart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	for i := range 6 {
		data := t.TempDir()
		d := time.Duration(rand.Int64N(int64(time.Second)))
		crash(t, bin, data, d)
		url, cmd := startBinary(t, bin, data, embedded...)
		expectReady(t, url)
		alice := apitest.SignUp(t, url, "alice")
		conv := newGroup(t, alice)
		word := fmt.Sprintf("afterkill%d", i)
		if err := send(alice, conv, "k", word+" is searchable"); err != nil {
			t.Fatalf("send after a kill at %v: %v", d, err)
		}
		eventuallyFinds(t, alice, conv, word, 1)
		kill(t, cmd)
	}
}

// TestKillUnderLoadSearchFindsEveryStoredMessageAfterRestart: kill -9 at a
// random moment while messages are being sent, restart: the API is ready
// and search finds every message the store holds, the ones sent before
// the kill included (the index catches up, or is rebuilt when unusable).
func TestKillUnderLoadSearchFindsEveryStoredMessageAfterRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	url, cmd := startBinary(t, bin, data, embedded...)
	alice := apitest.SignUp(t, url, "alice")
	conv := newGroup(t, alice)
	sent := 0
	for round := range 3 {
		var wg sync.WaitGroup
		var mu sync.Mutex
		stop := make(chan struct{})
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					if send(alice, conv, fmt.Sprintf("r%d-g%d-%d", round, g, n), "loaded message") != nil {
						return // the server died
					}
					mu.Lock()
					sent++
					mu.Unlock()
				}
			}()
		}
		time.Sleep(time.Duration(200+rand.IntN(2000)) * time.Millisecond)
		kill(t, cmd)
		close(stop)
		wg.Wait()

		url, cmd = startBinary(t, bin, data, embedded...)
		alice.URL = url
		expectReady(t, url)
		// Every acknowledged message, and any whose answer the kill cut off.
		var last struct {
			Messages struct {
				Edges []struct{ Node struct{ Seq int } }
			}
		}
		alice.Must(t, `query($c: ID!) { messages(conversationId: $c, last: 1) { edges { node { seq } } } }`, map[string]any{"c": conv}, &last)
		stored := last.Messages.Edges[0].Node.Seq
		if stored < sent {
			t.Fatalf("the store holds %d messages, %d were acknowledged", stored, sent)
		}
		eventuallyFinds(t, alice, conv, "loaded", stored)
	}
}
