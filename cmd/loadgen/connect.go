package main

import (
	"context"
	"log"
	"sync"
	"sync/atomic"
	"time"
)

// connectAll opens n subscriptions, socket i as users[i%len(users)],
// r.cfg.DialConc at a time; onNext(i) is socket i's event handler. Sockets
// that fail to open are nil and counted in the errors; a socket the server
// closes later is counted as dropped.
func (r *runner) connectAll(ctx context.Context, users []user, n int, onNext func(i int) func([]byte)) ([]*sub, *hist) {
	subs := make([]*sub, n)
	var ack hist
	var done atomic.Int64
	start := time.Now()
	_ = parallel(ctx, n, r.cfg.DialConc, func(ctx context.Context, i int) error {
		s, t, err := r.plat.open(ctx, users[i%len(users)], onNext(i), r.dropped)
		if err != nil {
			r.errs.add(err)
			return nil
		}
		ack.Record(t.Acked)
		subs[i] = s
		if d := done.Add(1); d%2500 == 0 {
			log.Printf("  %d/%d sockets open (%.0f/s)", d, n, float64(d)/time.Since(start).Seconds())
		}
		return nil
	})
	log.Printf("%d/%d sockets open in %v", ack.Count(), n, time.Since(start).Round(time.Millisecond))
	return subs, &ack
}

func (r *runner) dropped(err error) { r.errs.add(err) }

func closeAll(subs []*sub) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for _, s := range subs {
		if s == nil {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			s.close()
			<-sem
		}()
	}
	wg.Wait()
}

func countOpen(subs []*sub) int {
	n := 0
	for _, s := range subs {
		if s != nil {
			n++
		}
	}
	return n
}

// settle gives the server time to register subscriptions it acknowledged
// (the subscribe message is handled asynchronously) and to finish the
// garbage its connection setup made.
func settle(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func (r *runner) rss() int64 { return rssKiB(r.cfg.ServerPID) }

// memoryPerConn fills the server's memory figures for `conns` sockets
// opened since `before` was read.
func (r *runner) memoryPerConn(before int64, conns int) {
	after := r.rss()
	r.res.Server.RSSBeforeKiB, r.res.Server.RSSAfterKiB = before, after
	if signedUpThisRun > 0 && !r.warnedRSS {
		r.warnedRSS = true
		r.res.Notes = append(r.res.Notes, "users were signed up in this run: argon2id left the server's RSS high, so perConnKiB is understated; rerun with the cached users against a restarted server")
	}
	if conns > 0 && before > 0 {
		r.res.Server.PerConnKiB = float64(int64((float64(after-before)/float64(conns))*10)) / 10
	}
}

const sendMutation = `mutation($c: ID!, $k: String!, $b: String!) { sendMessage(input: {conversationId: $c, clientMessageId: $k, body: $b}) { id seq } }`

// startProfile starts the -cpuprofile, if asked for, over the measured phase.
func (r *runner) startProfile() {
	if r.cfg.CPUProfile == "" || r.prof != nil {
		return
	}
	stop, err := startCPUProfile(r.cfg.CPUProfile)
	if err != nil {
		log.Printf("cpuprofile: %v", err)
		return
	}
	r.prof = stop
}

func (r *runner) stopProfile() {
	if r.prof != nil {
		r.prof()
		r.prof = nil
	}
}
