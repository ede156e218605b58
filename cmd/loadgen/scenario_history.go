package main

import (
	"context"
	"fmt"
	"log"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

const (
	messagesPage = `query($c: ID!, $n: Int!, $before: String) { messages(conversationId: $c, last: $n, before: $before) {
  edges { cursor node { id seq body sentAt editedAt deletedAt sender { id displayName } readCount deliveredCount reactions { emoji count reactedByMe } } }
  pageInfo { hasPreviousPage startCursor } } }`
	conversationsPage = `query { conversations(first: 20) { edges { cursor node { id kind title unreadCount lastActivityAt
  lastMessage { id body sentAt sender { id displayName } } } } pageInfo { endCursor hasNextPage } } }`
)

// history: one user with -history-convs conversations of -history-messages
// messages each (seeded once and reused: every 4th message has two
// reactions) pages at -rate pages/s (default 200): one request in five is
// the conversation list, the rest a page of -page-size messages of a random
// conversation at a random depth, newest first, with senders, receipt
// counts and reactions. Latency is per page, from its scheduled time.
func (r *runner) history(ctx context.Context) error {
	c := r.cfg
	if c.Rate == 0 {
		c.Rate = 200
	}
	r.res.Params["rate"], r.res.Params["conversations"], r.res.Params["messages"], r.res.Params["pageSize"] = c.Rate, c.HistoryConvs, c.HistoryMsgs, c.PageSize
	users, err := ensureUsers(ctx, r.api, c.UsersFile, c.HistoryConvs+1, c.SignupConc)
	if err != nil {
		return err
	}
	reader := users[0]
	convs := make([]string, c.HistoryConvs)
	if err := parallel(ctx, c.HistoryConvs, 8, func(ctx context.Context, i int) (err error) {
		convs[i], err = directConversation(ctx, r.api, reader, users[i+1])
		return err
	}); err != nil {
		return err
	}
	start := time.Now()
	var seeded atomic.Int64
	if err := parallel(ctx, c.HistoryConvs, 8, func(ctx context.Context, i int) error {
		n, err := r.seed(ctx, convs[i], reader, users[i+1], c.HistoryMsgs)
		seeded.Add(int64(n))
		return err
	}); err != nil {
		return fmt.Errorf("seeding history: %w", err)
	}
	if seeded.Load() > 0 {
		log.Printf("seeded %d messages in %v", seeded.Load(), time.Since(start).Round(time.Millisecond))
	}

	var msgs, list hist
	var pages, fails atomic.Int64
	var mu sync.Mutex
	chains := make([][]string, len(convs)) // chains[c][d]: the `before` cursor of page d+1
	job := func(ctx context.Context, i int64, intended time.Time) {
		if i%5 == 0 {
			err := r.api.do(ctx, reader.Token, conversationsPage, nil, nil)
			if err != nil {
				fails.Add(1)
				r.errs.add(err)
				return
			}
			list.Record(time.Since(intended))
			pages.Add(1)
			return
		}
		ci := rand.IntN(len(convs))
		mu.Lock()
		depth := rand.IntN(len(chains[ci]) + 1)
		var before any
		if depth > 0 {
			before = chains[ci][depth-1]
		}
		mu.Unlock()
		var out struct {
			Messages struct {
				Edges    []struct{ Cursor string }
				PageInfo struct {
					HasPreviousPage bool
					StartCursor     string
				}
			}
		}
		err := r.api.do(ctx, reader.Token, messagesPage, map[string]any{"c": convs[ci], "n": c.PageSize, "before": before}, &out)
		if err != nil {
			fails.Add(1)
			r.errs.add(err)
			return
		}
		msgs.Record(time.Since(intended))
		pages.Add(1)
		if p := out.Messages.PageInfo; p.HasPreviousPage && p.StartCursor != "" {
			mu.Lock()
			if len(chains[ci]) == depth {
				chains[ci] = append(chains[ci], p.StartCursor)
			}
			mu.Unlock()
		}
	}
	// Warm-up fills the cursor chains; then the measured run.
	openLoop(ctx, c.Rate, c.Warmup, c.Workers, job)
	msgs, list = hist{}, hist{}
	pages.Store(0)
	fails.Store(0)
	r.startProfile()
	m := newCPUMeter(r.pids)
	_, elapsed := openLoop(ctx, c.Rate, c.Duration, c.Workers, job)
	r.res.CPUCores = m.cores()
	r.stopProfile()
	r.res.DurationSec = round3(elapsed.Seconds())
	r.res.Sent, r.res.SendErrors = pages.Load(), fails.Load()
	r.res.Throughput = round3(float64(pages.Load()) / elapsed.Seconds())
	r.res.Latency["messagesPage"], r.res.Latency["conversationsPage"] = msgs.Summary(), list.Summary()
	return ctx.Err()
}

// seed tops conversation conv up to n messages, alternating senders, and
// reacts to every 4th. It returns how many it sent.
func (r *runner) seed(ctx context.Context, conv string, a, b user, n int) (int, error) {
	var cur struct{ Conversation struct{ LastSeq int } }
	if err := r.api.do(ctx, a.Token, `query($c: ID!) { conversation(id: $c) { lastSeq } }`, map[string]any{"c": conv}, &cur); err != nil {
		return 0, err
	}
	sent := 0
	for seq := cur.Conversation.LastSeq + 1; seq <= n; seq++ {
		from, other := a, b
		if seq%2 == 0 {
			from, other = b, a
		}
		var out struct{ SendMessage struct{ ID string } }
		if err := r.api.do(ctx, from.Token, sendMutation, map[string]any{"c": conv, "k": fmt.Sprintf("hist-%s-%d", conv, seq),
			"b": fmt.Sprintf("history message %d: the quick brown fox jumps over the lazy dog", seq)}, &out); err != nil {
			return sent, err
		}
		sent++
		if seq%4 == 0 {
			for _, rx := range []struct {
				u user
				e string
			}{{from, "👍"}, {other, "🎉"}} {
				if err := r.api.do(ctx, rx.u.Token, `mutation($m: ID!, $e: String!) { addReaction(messageId: $m, emoji: $e) { id } }`,
					map[string]any{"m": out.SendMessage.ID, "e": rx.e}, nil); err != nil {
					return sent, err
				}
			}
		}
	}
	return sent, nil
}
