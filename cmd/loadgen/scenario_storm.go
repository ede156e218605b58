package main

import (
	"context"
	"fmt"
	"log"
	"sync"
	"sync/atomic"
	"time"
)

// storm: -conns sockets (default 2,000, over -users users) opened at -rate
// per second (default 500), twice.
//
//  1. Cold: each socket connects, authenticates and subscribes live;
//     recorded: time from its scheduled start to connection_ack, failures.
//     Then every user gets one message (m1), whose event cursor is kept.
//  2. Reconnect: all sockets close, every user gets a second message (m2)
//     while offline, and the sockets reconnect at the same rate with
//     `after: <cursor of m1>`, as clients do after a deploy; recorded: time
//     from the scheduled start to the ack, and to the first event (the
//     replayed m2), failures.
//
// Using a cursor makes time-to-first-event exact: a live-only subscription
// has no event to wait for, and a message sent to it races the server's
// registration of the subscription.
func (r *runner) storm(ctx context.Context) error {
	c := r.cfg
	if c.Conns == 0 {
		c.Conns = 2000
	}
	if c.Users == 0 {
		c.Users = min(c.Conns, 1000)
	}
	if c.Rate == 0 {
		c.Rate = 500
	}
	r.res.Params["conns"], r.res.Params["users"], r.res.Params["rate"] = c.Conns, c.Users, c.Rate
	all, err := ensureUsers(ctx, r.api, c.UsersFile, c.Users+1, c.SignupConc)
	if err != nil {
		return err
	}
	users, partner := all[:c.Users], all[c.Users]
	convs := make([]string, c.Users)
	if err := parallel(ctx, c.Users, 16, func(ctx context.Context, i int) (err error) {
		convs[i], err = directConversation(ctx, r.api, partner, users[i])
		return err
	}); err != nil {
		return err
	}
	cursors := make([]atomic.Pointer[string], c.Users)
	prefix := randomHex(4)
	sendAll := func(index int64) error {
		return parallel(ctx, c.Users, 32, func(ctx context.Context, i int) error {
			st := stamp{intended: time.Now().UnixNano(), index: index, target: int64(i)}
			err := r.api.do(ctx, partner.Token, sendMutation, map[string]any{"c": convs[i], "k": fmt.Sprintf("%s-%d-%d", prefix, index, i), "b": st.body()}, nil)
			r.errs.add(err)
			return nil
		})
	}

	// wave runs one storm; onNext(i, intended) is socket i's handler.
	wave := func(name string, after func(u int) string, onNext func(i int, intended time.Time) func([]byte)) ([]*sub, *hist) {
		subs := make([]*sub, c.Conns)
		var ack hist
		var failed atomic.Int64
		m := newCPUMeter(r.pids)
		_, elapsed := openLoop(ctx, c.Rate, time.Duration(float64(c.Conns)/c.Rate*float64(time.Second)), 1024, func(ctx context.Context, i int64, intended time.Time) {
			u := int(i) % c.Users
			s, _, err := r.ws.open(ctx, users[u].Token, after(u), onNext(int(i), intended), r.dropped)
			if err != nil {
				failed.Add(1)
				r.errs.add(err)
				return
			}
			ack.Record(time.Since(intended))
			subs[i] = s
		})
		cpu := m.cores()
		r.res.Params[name+"Seconds"] = round3(elapsed.Seconds())
		r.res.Params[name+"Failed"] = failed.Load()
		r.res.Params[name+"ServerCpuCores"] = cpu["server"]
		r.res.CPUCores = cpu
		log.Printf("%s: %d/%d sockets open in %v (%d failed), ack p99 %.1f ms, server CPU %.2f cores",
			name, ack.Count(), c.Conns, elapsed.Round(time.Millisecond), failed.Load(), ack.Summary().P99, cpu["server"])
		return subs, &ack
	}

	before := r.rss()
	r.startProfile()
	cold, coldAck := wave("cold", func(int) string { return "" }, func(i int, _ time.Time) func([]byte) {
		u := i % c.Users
		return func(b []byte) {
			if st, ok := parseStamp(b); ok && st.index == 1 && st.target == int64(u) {
				if cur := parseCursor(b); cur != "" {
					cursors[u].CompareAndSwap(nil, &cur)
				}
			}
		}
	})
	r.res.Latency["ack"] = coldAck.Summary()
	r.res.Connections = countOpen(cold)
	settle(ctx, 2*time.Second)
	r.memoryPerConn(before, r.res.Connections)
	if err := sendAll(1); err != nil {
		return err
	}
	waitFor(ctx, c.Drain, func() bool {
		for i := range cursors {
			if cursors[i].Load() == nil {
				return false
			}
		}
		return true
	})
	closeAll(cold)
	settle(ctx, time.Second)
	if err := sendAll(2); err != nil {
		return err
	}

	var first hist
	var got atomic.Int64
	warm, warmAck := wave("reconnect", func(u int) string {
		if p := cursors[u].Load(); p != nil {
			return *p
		}
		return ""
	}, func(i int, intended time.Time) func([]byte) {
		u := i % c.Users
		var once sync.Once
		return func(b []byte) {
			if st, ok := parseStamp(b); ok && st.index == 2 && st.target == int64(u) {
				once.Do(func() {
					first.Record(time.Since(intended))
					got.Add(1)
				})
			}
		}
	})
	defer closeAll(warm)
	waitFor(ctx, c.Drain, func() bool { return got.Load() >= int64(countOpen(warm)) })
	r.stopProfile()
	r.res.Latency["reconnectAck"] = warmAck.Summary()
	r.res.Latency["firstEvent"] = first.Summary()
	r.res.Delivered = got.Load()
	r.res.Lost = int64(countOpen(warm)) - got.Load()
	r.res.DurationSec = round3(float64(c.Conns) / c.Rate)
	r.res.Throughput = c.Rate
	return ctx.Err()
}
