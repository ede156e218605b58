package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"messenger/apitest"
)

// sendSeq sends one message through url and returns its seq; an error is
// what a client sees of a paused or dying server (a timeout, no answer).
func sendSeq(hc *http.Client, url, token, conv, key string) (int, error) {
	q, _ := json.Marshal(map[string]any{
		"query":     `mutation($c: ID!, $k: String!, $b: String!) { sendMessage(input: {conversationId: $c, clientMessageId: $k, body: $b}) { seq } }`,
		"variables": map[string]any{"c": conv, "k": key, "b": key},
	})
	req, err := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(q))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var r struct {
		Data struct {
			SendMessage struct{ Seq int }
		}
		Errors []json.RawMessage
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return 0, err
	}
	if len(r.Errors) > 0 || r.Data.SendMessage.Seq == 0 {
		return 0, fmt.Errorf("status %d: %s", resp.StatusCode, r.Errors)
	}
	return r.Data.SendMessage.Seq, nil
}

// Two API processes on one Cassandra keyspace send into ONE group at
// once; one of them is frozen with SIGSTOP for several seconds (mid-claim
// or mid-write, wherever it is) while the other keeps sending, then
// resumed with SIGCONT. Clients whose request to the frozen process times
// out retry the same client id through the other one, as a client behind a
// load balancer would. Afterwards the history holds seqs 1..n with no hole
// and no duplicate, every client id exactly once, and every answer a
// client got (from either process, before or after the pause) names the
// stored message's seq.
func TestFleetSenderFrozenBySIGSTOPLosesNothing(t *testing.T) {
	env := append(fleetEnv(t), "MESSENGER_RATE_LIMITS=false")
	bin := buildBinary(t)
	urlA, cmdA := startBinary(t, bin, t.TempDir(), env...)
	urlB, _ := startBinary(t, bin, t.TempDir(), env...)
	alice := apitest.SignUp(t, urlA, "alice")
	conv := newGroup(t, alice)
	frozen := false
	defer func() {
		if frozen {
			_ = cmdA.Process.Signal(syscall.SIGCONT)
		}
	}()

	hc := &http.Client{Timeout: 2 * time.Second}
	const senders, each = 4, 40
	var mu sync.Mutex
	answers := map[string][]int{} // client id -> every seq answered for it
	var failed []string
	var wg sync.WaitGroup
	progress := make(chan struct{}, senders*each)
	for w := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			urls := []string{urlA, urlB}
			for i := range each {
				key := fmt.Sprintf("w%d-%d", w, i)
				ok := false
				for try := 0; try < 20 && !ok; try++ {
					// Each sender starts on its own process and moves to the
					// other after a failure (a timeout while A is frozen).
					url := urls[(w+try)%2]
					seq, err := sendSeq(hc, url, alice.Token, conv, key)
					if err != nil {
						time.Sleep(50 * time.Millisecond)
						continue
					}
					mu.Lock()
					answers[key] = append(answers[key], seq)
					mu.Unlock()
					ok = true
				}
				if !ok {
					mu.Lock()
					failed = append(failed, key)
					mu.Unlock()
					return
				}
				progress <- struct{}{}
			}
		}()
	}
	// Freeze A once some messages went through both, for 4 s.
	for range senders * each / 4 {
		<-progress
	}
	if err := cmdA.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	frozen = true
	time.Sleep(4 * time.Second)
	if err := cmdA.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	frozen = false
	wg.Wait()
	if len(failed) > 0 {
		t.Fatalf("sends that never succeeded through either process: %v", failed)
	}

	// A late answer of the frozen process may still be on its way (its
	// clients gave up); read the history once both answer again.
	seqOf := map[string]int{}
	var seqs []int
	after := ""
	for {
		var page struct {
			Messages struct {
				Edges []struct {
					Node struct {
						Seq             int
						ClientMessageID string
					}
				}
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
			}
		}
		vars := map[string]any{"c": conv, "after": nil}
		if after != "" {
			vars["after"] = after
		}
		alice.URL = urlB
		alice.Must(t, `query($c: ID!, $after: String) { messages(conversationId: $c, first: 100, after: $after) { edges { node { seq clientMessageId } } pageInfo { hasNextPage endCursor } } }`, vars, &page)
		for _, e := range page.Messages.Edges {
			if prev, dup := seqOf[e.Node.ClientMessageID]; dup {
				t.Fatalf("client id %s stored twice, at seqs %d and %d", e.Node.ClientMessageID, prev, e.Node.Seq)
			}
			seqOf[e.Node.ClientMessageID] = e.Node.Seq
			seqs = append(seqs, e.Node.Seq)
		}
		if !page.Messages.PageInfo.HasNextPage {
			break
		}
		after = page.Messages.PageInfo.EndCursor
	}
	for i, s := range seqs {
		if s != i+1 {
			t.Fatalf("history seqs diverge at %d: %v (a hole or a duplicate)", i, seqs)
		}
	}
	if len(seqOf) != senders*each {
		t.Fatalf("history holds %d client ids, want %d", len(seqOf), senders*each)
	}
	for key, got := range answers {
		for _, s := range got {
			if s != seqOf[key] {
				t.Fatalf("a send of %s was answered seq %d; the history has it at %d", key, s, seqOf[key])
			}
		}
	}
}
