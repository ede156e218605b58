package main

import (
	"context"
	"fmt"
	"sync/atomic"
)

// platform is what the direct, group and idle scenarios need from the
// system under test, so the same open-loop driver, stamps and histograms
// measure this project and a peer (-target centrifugo) side by side.
type platform interface {
	// users returns n accounts with working tokens.
	users(ctx context.Context, n int) ([]user, error)
	// direct returns the conversation of a and b.
	direct(ctx context.Context, a, b user) (string, error)
	// group creates a conversation of owner and members.
	group(ctx context.Context, owner user, members []user) (string, error)
	// open connects u and subscribes to everything u receives; onNext gets
	// each raw frame that may carry a message (parseStamp finds the body).
	open(ctx context.Context, u user, onNext func([]byte), onEnd func(error)) (*sub, openTimes, error)
	// send sends body to conv as from; key makes a retry idempotent where
	// the platform supports it.
	send(ctx context.Context, from user, conv, key, body string) error
}

// messenger is this project's API as a platform.
type messenger struct {
	api       *api
	ws        *wsClient
	usersFile string
	signupK   int
	// more are other API instances of the same fleet (-also-url): sends
	// alternate between api and these.
	more []*api
	next atomic.Uint64
}

func (m *messenger) users(ctx context.Context, n int) ([]user, error) {
	return ensureUsers(ctx, m.api, m.usersFile, n, m.signupK)
}

func (m *messenger) direct(ctx context.Context, a, b user) (string, error) {
	return directConversation(ctx, m.api, a, b)
}

func (m *messenger) group(ctx context.Context, owner user, members []user) (string, error) {
	ids := make([]string, 0, len(members))
	for _, u := range members {
		ids = append(ids, u.ID)
	}
	var g struct{ CreateGroup struct{ ID string } }
	if err := m.api.do(ctx, owner.Token, `mutation($t: String!, $m: [ID!]!) { createGroup(input: {title: $t, memberIds: $m}) { id } }`,
		map[string]any{"t": "loadgen " + randomHex(3), "m": ids}, &g); err != nil {
		return "", fmt.Errorf("createGroup of %d: %w", len(members)+1, err)
	}
	return g.CreateGroup.ID, nil
}

func (m *messenger) open(ctx context.Context, u user, onNext func([]byte), onEnd func(error)) (*sub, openTimes, error) {
	return m.ws.open(ctx, u.Token, "", onNext, onEnd)
}

func (m *messenger) send(ctx context.Context, from user, conv, key, body string) error {
	a := m.api
	if len(m.more) > 0 {
		if i := m.next.Add(1) % uint64(len(m.more)+1); i > 0 {
			a = m.more[i-1]
		}
	}
	return a.do(ctx, from.Token, sendMutation, map[string]any{"c": conv, "k": key, "b": body}, nil)
}
