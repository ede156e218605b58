package main

import (
	"context"
	"log"
	"runtime"
	"time"
)

type memStats struct{ goroutines, stack, heap int64 }

// inProcessStats is this process's goroutines, stack and live heap after a
// GC (meaningful with -inprocess, where the server lives here too).
func inProcessStats() memStats {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return memStats{int64(runtime.NumGoroutine()), int64(m.StackInuse), int64(m.HeapAlloc)}
}

// idle opens -conns subscriptions (default 15,000) spread over -users users
// and sends nothing: the server's memory per connection (VmRSS after minus
// before, divided by the sockets) and its CPU while they sit idle (which
// includes the protocol's keep-alive pings).
func (r *runner) idle(ctx context.Context) error {
	c := r.cfg
	if c.Conns == 0 {
		c.Conns = 15000
	}
	if c.Users == 0 {
		c.Users = min(c.Conns, 1000)
	}
	r.res.Params["conns"], r.res.Params["users"], r.res.Params["idleWindow"] = c.Conns, c.Users, c.IdleWindow.String()
	users, err := r.plat.users(ctx, c.Users)
	if err != nil {
		return err
	}
	settle(ctx, 2*time.Second)
	before := r.rss()
	inBefore := inProcessStats()
	start := time.Now()
	subs, ack := r.connectAll(ctx, users, c.Conns, func(int) func([]byte) { return nil })
	defer closeAll(subs)
	open := countOpen(subs)
	r.res.Connections = open
	r.res.Latency["ack"] = ack.Summary()
	r.res.Params["connectSeconds"] = round3(time.Since(start).Seconds())
	settle(ctx, c.Warmup)
	r.memoryPerConn(before, open)
	if c.InProcess && open > 0 {
		// Both ends live in this process: the load generator's share per
		// socket is one reader goroutine, a gorilla/websocket Conn and its
		// 2 KiB read buffer; the rest is the server's.
		after := inProcessStats()
		r.res.Params["goroutinesPerConn"] = round3(float64(after.goroutines-inBefore.goroutines) / float64(open))
		r.res.Params["stackKiBPerConn"] = round3(float64(after.stack-inBefore.stack) / 1024 / float64(open))
		r.res.Params["heapKiBPerConn"] = round3(float64(after.heap-inBefore.heap) / 1024 / float64(open))
	}
	log.Printf("server RSS %d -> %d KiB for %d sockets; measuring idle CPU for %v", r.res.Server.RSSBeforeKiB, r.res.Server.RSSAfterKiB, open, c.IdleWindow)
	r.startProfile()
	m := newCPUMeter(r.pids)
	settle(ctx, c.IdleWindow)
	r.res.CPUCores = m.cores()
	r.stopProfile()
	r.res.Server.IdleCPUCores = r.res.CPUCores["server"]
	r.res.DurationSec = round3(c.IdleWindow.Seconds())
	r.memoryPerConn(before, countOpen(subs)) // again, after the pings went round
	return ctx.Err()
}
