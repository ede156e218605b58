package adversary

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"messenger/persisted"
)

// rootShapes wraps root fields the three ways a document can put them at
// the root of a mutation.
var rootShapes = []struct {
	name string
	wrap func(fields string) string
}{
	{"plain aliases", func(f string) string { return "mutation {\n" + f + "}" }},
	{"inline fragment on Mutation", func(f string) string { return "mutation { ... on Mutation {\n" + f + "} }" }},
	{"named fragment", func(f string) string {
		return "mutation { ...many }\nfragment many on Mutation {\n" + f + "}"
	}},
	{"fragment inside a fragment", func(f string) string {
		return "mutation { ... on Mutation { ...many } }\nfragment many on Mutation { ... on Mutation {\n" + f + "} }"
	}},
}

// 30 logIn aliases in one request are 30 password guesses, however the
// document nests them: beyond the per-IP burst (20) the request is refused
// with RATE_LIMITED, and no guess beyond the burst is checked, so the
// correct password hidden at guess 25 is never confirmed.
func TestPasswordGuessesInFragmentsAreRateLimited(t *testing.T) {
	t.Parallel()
	in := shared(t)
	victim := signUp(t, in, "victim")
	var fields strings.Builder
	for i := 1; i <= 30; i++ {
		pw := fmt.Sprintf("guess-%d", i)
		if i == 25 {
			pw = password(victim.Username)
		}
		fmt.Fprintf(&fields, "  g%d: logIn(input: {username: %q, password: %q}) { token }\n", i, victim.Username, pw)
	}
	for _, shape := range rootShapes {
		t.Run(shape.name, func(t *testing.T) {
			r := mustPost(t, in.URL, "", map[string]string{"X-Real-IP": fakeIP()}, op(shape.wrap(fields.String()), nil))
			checked, limited, g25 := 0, false, false
			for _, e := range r.Errors {
				switch e.Code() {
				case "UNAUTHENTICATED":
					checked++
					g25 = g25 || (len(e.Path) > 0 && e.Path[0] == "g25")
				case "RATE_LIMITED":
					limited = true
				}
			}
			if checked == 29 && !g25 {
				t.Errorf("every guess was checked, and guess 25 is the only one without an error: the response confirms the password")
			}
			if !limited || checked > 20 {
				t.Fatalf("30 password guesses in one request: %d checked, RATE_LIMITED=%v (want at most 20 checked and RATE_LIMITED)", checked, limited)
			}
		})
	}
}

// 50 sendMessage aliases in one request are 50 sends, however the document
// nests them: beyond the per-user burst (40) the request is refused with
// RATE_LIMITED, and at most the burst is stored.
func TestSendsInFragmentsAreRateLimited(t *testing.T) {
	t.Parallel()
	in := shared(t)
	for _, shape := range rootShapes {
		t.Run(shape.name, func(t *testing.T) {
			a, b := signUp(t, in, "flood"), signUp(t, in, "flood")
			conv := direct(t, a, b)
			var fields strings.Builder
			for i := 1; i <= 50; i++ {
				fmt.Fprintf(&fields, "  s%d: sendMessage(input: {conversationId: %q, clientMessageId: \"f%d\", body: \"flood %d\"}) { seq }\n", i, conv, i, i)
			}
			r := a.Do(t, shape.wrap(fields.String()), nil)
			limited := false
			for _, e := range r.Errors {
				limited = limited || e.Code() == "RATE_LIMITED"
			}
			stored := len(history(t, b, conv))
			if !limited || stored > 40 {
				t.Fatalf("50 sends in one request: %d stored, RATE_LIMITED=%v (want at most 40 stored and RATE_LIMITED)", stored, limited)
			}
		})
	}
}

// apq is a request registering doc as an automatic persisted query (with
// its text) or running it by hash alone (doc "" and hash set).
func apq(doc, hash string) map[string]any {
	body := map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}}
	if doc != "" {
		body["query"] = doc
	}
	return body
}

// Anyone may register automatic persisted queries, so only documents that
// parse and validate, and of bounded size, are registered: a hash sent
// alone afterwards answers PERSISTED_QUERY_NOT_FOUND for any other.
func TestPersistedQueriesRegisterOnlyValidDocumentsOfBoundedSize(t *testing.T) {
	t.Parallel()
	in := shared(t)
	u := signUp(t, in, "apq")
	nonce := randomHex(6)
	valid := "query { me { id } } # " + nonce

	// The control: a valid document registers and runs by hash.
	h := persisted.Hash(valid)
	if r := mustPost(t, in.URL, u.Token, nil, apq(valid, h)); len(r.Errors) > 0 {
		t.Fatalf("registering a valid document: %+v", r.Errors)
	}
	if r := mustPost(t, in.URL, u.Token, nil, apq("", h)); len(r.Errors) > 0 || !strings.Contains(string(r.Data), u.UserID) {
		t.Fatalf("a registered document run by hash: %s %+v", r.Data, r.Errors)
	}

	for name, doc := range map[string]string{
		"that does not parse":    "query { me { id " + nonce,
		"that does not validate": "query { noSuchField" + nonce + " }",
		// Half the 1 MiB body limit; 10,000 of these would be 5 GB.
		"of half a megabyte": "query { me { id } }\n#" + strings.Repeat(" padding", 64<<10) + nonce,
	} {
		t.Run(name, func(t *testing.T) {
			h := persisted.Hash(doc)
			mustPost(t, in.URL, u.Token, nil, apq(doc, h))
			r := mustPost(t, in.URL, u.Token, nil, apq("", h))
			if r.Code() != persisted.CodeNotFound {
				t.Fatalf("a document %s was registered: running it by hash answers %s %+v", name, r.Data, r.Errors)
			}
		})
	}
}

// Password hashing has a process-wide memory bound: 32 log-ins at once,
// each from its own address (so no per-IP limit applies), do not hold 32
// argon2id hashes of 64 MiB at the same time. Each answers with a token,
// or RATE_LIMITED / UNAVAILABLE when the queue stays full.
func TestConcurrentPasswordChecksHaveAMemoryBound(t *testing.T) {
	t.Parallel()
	in := startInstance(t, "argon2", 30*time.Second, embedded()...)
	u := signUp(t, in, "hash")
	before, err := in.peakRSS()
	if err != nil {
		t.Skipf("no peak memory to read: %v", err)
	}
	const n = 32
	codes := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			r, err := post(ctx, in.URL, "", map[string]string{"X-Real-IP": fakeIP()}, op(
				`mutation($u: String!, $p: String!) { logIn(input: {username: $u, password: $p}) { token } }`,
				map[string]any{"u": u.Username, "p": password(u.Username)}))
			switch {
			case err != nil:
				codes[i] = err.Error()
			case len(r.Errors) > 0:
				codes[i] = r.Code()
			default:
				codes[i] = "ok"
			}
		}()
	}
	wg.Wait()
	after, err := in.peakRSS()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range codes {
		if c != "ok" && c != "RATE_LIMITED" && c != "UNAVAILABLE" {
			t.Errorf("a log-in answered %s", c)
		}
	}
	const bound = 1536 << 20 // 24 hashes' worth: unbounded, 32 take 2 GiB
	if grew := after - before; grew > bound {
		t.Fatalf("%d concurrent log-ins grew the peak memory by %d MiB (from %d MiB): hashing is not bounded process-wide",
			n, grew>>20, before>>20)
	} else {
		t.Logf("%d concurrent log-ins grew the peak memory by %d MiB (from %d MiB); answers %v", n, grew>>20, before>>20, codes)
	}
}
