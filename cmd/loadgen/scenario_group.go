package main

import (
	"context"
	"fmt"
	"log"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// backlog tells whether deliveries fell further behind as the run went on:
// mean latency per second of schedule, and the verdict comparing the last
// quarter of the run with the first.
type backlog struct {
	Growing         bool      `json:"growing"`
	FirstQuarterMs  float64   `json:"firstQuarterMeanMs"`
	LastQuarterMs   float64   `json:"lastQuarterMeanMs"`
	Incomplete      int64     `json:"incompleteMessages"`
	MeanMsPerSecond []float64 `json:"meanMsPerSecond"`
}

// group: one group of -members members (default 1,000), all online with
// one socket each (the sender's own socket included: it is a member's
// device too); a random member sends at -rate (default 100/s). Recorded:
// every delivery's latency (e2e), and per message the time until the last
// member had it (timeToLast).
func (r *runner) group(ctx context.Context) error {
	c := r.cfg
	if c.Rate == 0 {
		c.Rate = 100
	}
	r.res.Params["members"], r.res.Params["rate"] = c.Members, c.Rate
	users, err := r.plat.users(ctx, c.Members)
	if err != nil {
		return err
	}
	conv, err := r.plat.group(ctx, users[0], users[1:])
	if err != nil {
		return err
	}

	warm := int64(c.Rate * c.Warmup.Seconds())
	total := warm + int64(c.Rate*c.Duration.Seconds())
	counts := make([]atomic.Int32, total)
	accepted := make([]atomic.Bool, total)
	last := make([]atomic.Int64, total)
	secs := int(c.Duration.Seconds()) + 1
	winSum, winN := make([]atomic.Int64, secs), make([]atomic.Int64, secs)
	var e2e, send hist
	var delivered, sentOK, sendErrs atomic.Int64
	var recording atomic.Bool

	before := r.rss()
	subs, ack := r.connectAll(ctx, users, len(users), func(int) func([]byte) {
		return func(b []byte) {
			st, ok := parseStamp(b)
			if !ok || st.target != -1 || !recording.Load() || st.index < warm || st.index >= total {
				return
			}
			lat := time.Since(time.Unix(0, st.intended))
			e2e.Record(lat)
			delivered.Add(1)
			counts[st.index].Add(1)
			for v := int64(lat); ; {
				m := last[st.index].Load()
				if v <= m || last[st.index].CompareAndSwap(m, v) {
					break
				}
			}
			w := int((st.index - warm) * int64(time.Second) / int64(c.Rate*float64(time.Second)))
			if w >= 0 && w < secs {
				winSum[w].Add(int64(lat))
				winN[w].Add(1)
			}
		}
	})
	defer closeAll(subs)
	online := countOpen(subs)
	r.res.Connections = online
	r.res.Latency["ack"] = ack.Summary()
	settle(ctx, time.Second+time.Duration(len(users))*time.Millisecond)
	r.memoryPerConn(before, online)
	recording.Store(true)

	prefix := randomHex(4)
	job := func(ctx context.Context, i int64, intended time.Time) {
		from := rand.IntN(len(users))
		st := stamp{intended: intended.UnixNano(), index: i, target: -1}
		err := r.plat.send(ctx, users[from], conv, fmt.Sprintf("%s-%d", prefix, i), st.body())
		if i < warm {
			return
		}
		if err != nil {
			sendErrs.Add(1)
			r.errs.add(err)
			return
		}
		send.Record(time.Since(intended))
		accepted[i].Store(true)
		sentOK.Add(1)
	}
	r.startProfile()
	m := newCPUMeter(r.pids)
	scheduled, elapsed := openLoop(ctx, c.Rate, c.Warmup+c.Duration, c.Workers, job)
	r.res.CPUCores = m.cores()
	if scheduled > 0 {
		r.res.ServerCPUPerOp = round3(r.res.CPUCores["server"] * elapsed.Seconds() * 1e6 / float64(scheduled))
	}
	r.stopProfile()
	want := int32(online)
	waitFor(ctx, c.Drain, func() bool { return delivered.Load() >= sentOK.Load()*int64(want) })

	var ttl hist
	var incomplete int64
	for i := warm; i < total; i++ {
		if !accepted[i].Load() {
			continue
		}
		if counts[i].Load() >= want {
			ttl.Record(time.Duration(last[i].Load()))
		} else {
			incomplete++
		}
	}
	dur := elapsed.Seconds() - c.Warmup.Seconds()
	r.res.DurationSec = round3(dur)
	r.res.Sent, r.res.SendErrors, r.res.Delivered = sentOK.Load(), sendErrs.Load(), delivered.Load()
	r.res.Lost = sentOK.Load()*int64(want) - delivered.Load()
	r.res.Throughput = round3(float64(sentOK.Load()) / dur)
	r.res.Deliveries = round3(float64(delivered.Load()) / dur)
	r.res.Latency["e2e"], r.res.Latency["send"], r.res.Latency["timeToLast"] = e2e.Summary(), send.Summary(), ttl.Summary()

	bl := &backlog{Incomplete: incomplete}
	for w := 0; w < secs; w++ {
		if n := winN[w].Load(); n > 0 {
			bl.MeanMsPerSecond = append(bl.MeanMsPerSecond, ms(time.Duration(winSum[w].Load()/n)))
		}
	}
	if q := len(bl.MeanMsPerSecond) / 4; q > 0 {
		bl.FirstQuarterMs, bl.LastQuarterMs = mean(bl.MeanMsPerSecond[:q]), mean(bl.MeanMsPerSecond[len(bl.MeanMsPerSecond)-q:])
		// Growing: the end of the run is both twice as late as its start and
		// 100 ms later (a margin above the jitter of a shared machine), or
		// messages never reached everyone.
		bl.Growing = (bl.LastQuarterMs > 2*bl.FirstQuarterMs && bl.LastQuarterMs-bl.FirstQuarterMs > 100) || incomplete > int64(len(bl.MeanMsPerSecond))
	}
	r.res.Backlog = bl
	log.Printf("group: %d messages to %d members, %d incomplete, backlog growing=%v (first quarter %.1f ms, last %.1f ms)",
		sentOK.Load(), online, incomplete, bl.Growing, bl.FirstQuarterMs, bl.LastQuarterMs)
	return ctx.Err()
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range v {
		s += x
	}
	return float64(int64(s/float64(len(v))*1000)) / 1000
}
