package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"sync"
	"time"
)

// user is an account the load generator signed up.
type user struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Token string `json:"token"`
}

type usersFile struct {
	URL   string `json:"url"`
	Users []user `json:"users"`
}

const password = "loadgen-password"

// signedUpThisRun counts users this process signed up: argon2id's memory
// leaves the server's RSS high for a while, so memory per connection read
// in the same run overstates the baseline.
var signedUpThisRun int

// ensureUsers returns n users, reusing those cached in file (when their
// tokens still work against this server) and signing up the rest with
// `concurrency` requests in flight: signUp spends ~70 ms of argon2id CPU on
// the server, so 1,000 new users take most of a minute on two cores.
func ensureUsers(ctx context.Context, a *api, file string, n, concurrency int) ([]user, error) {
	var cached usersFile
	if file != "" {
		if b, err := os.ReadFile(file); err == nil && json.Unmarshal(b, &cached) == nil && cached.URL == a.url && len(cached.Users) > 0 {
			var me struct{ Me struct{ ID string } }
			err := a.do(ctx, cached.Users[len(cached.Users)-1].Token, `query { me { id } }`, nil, &me)
			if err != nil || me.Me.ID != cached.Users[len(cached.Users)-1].ID {
				log.Printf("users file %s does not match this server (%v): signing up new users", file, err)
				cached.Users = nil
			}
		} else {
			cached.Users = nil
		}
	}
	cached.URL = a.url
	users := cached.Users
	if len(users) >= n {
		return users[:n], nil
	}
	missing := n - len(users)
	log.Printf("signing up %d users (%d cached), %d at a time", missing, len(users), concurrency)
	prefix := randomHex(4)
	start := time.Now()
	made := make([]user, missing)
	errc := make(chan error, concurrency)
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				name := fmt.Sprintf("lg_%s_%d", prefix, i)
				var out struct {
					SignUp struct {
						Token string
						User  struct{ ID string }
					}
				}
				var err error
				for try := 0; try < 5; try++ {
					err = a.do(ctx, "", `mutation($i: SignUpInput!) { signUp(input: $i) { token user { id } } }`,
						map[string]any{"i": map[string]any{"username": name, "password": password, "displayName": "Load " + name}}, &out)
					if err == nil {
						break
					}
					time.Sleep(time.Duration(try+1) * 200 * time.Millisecond)
				}
				if err != nil {
					select {
					case errc <- fmt.Errorf("signUp %s: %w", name, err):
					default:
					}
					continue
				}
				made[i] = user{ID: out.SignUp.User.ID, Name: name, Token: out.SignUp.Token}
			}
		}()
	}
	for i := 0; i < missing; i++ {
		select {
		case next <- i:
		case err := <-errc:
			close(next)
			wg.Wait()
			return nil, err
		case <-ctx.Done():
			close(next)
			wg.Wait()
			return nil, ctx.Err()
		}
		if i > 0 && i%250 == 0 {
			log.Printf("  %d/%d users signed up (%.0f/s)", i, missing, float64(i)/time.Since(start).Seconds())
		}
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errc:
		return nil, err
	default:
	}
	users = append(users, made...)
	signedUpThisRun += missing
	log.Printf("signed up %d users in %v", missing, time.Since(start).Round(time.Millisecond))
	if file != "" {
		b, _ := json.Marshal(usersFile{URL: a.url, Users: users})
		if err := os.WriteFile(file, b, 0o600); err != nil {
			return nil, fmt.Errorf("writing users file: %w", err)
		}
	}
	return users[:n], nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// directConversation returns the one-to-one conversation of a and b
// (idempotent on the server, so reruns reuse it).
func directConversation(ctx context.Context, a *api, from user, to user) (string, error) {
	var out struct{ CreateDirectConversation struct{ ID string } }
	if err := a.do(ctx, from.Token, `mutation($u: ID!) { createDirectConversation(userId: $u) { id } }`, map[string]any{"u": to.ID}, &out); err != nil {
		return "", fmt.Errorf("createDirectConversation: %w", err)
	}
	return out.CreateDirectConversation.ID, nil
}

// parallel runs fn(i) for i in [0, n) with k goroutines and returns the
// first error.
func parallel(ctx context.Context, n, k int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
		next  = make(chan int)
	)
	for w := 0; w < k; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(ctx, i); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		}()
	}
loop:
	for i := 0; i < n; i++ {
		select {
		case next <- i:
		case <-ctx.Done():
			break loop
		}
	}
	close(next)
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return first
}
