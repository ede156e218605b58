package main

import (
	"context"
	"fmt"
	"log"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// directRun is the shared state of one direct run or find-max step.
type directRun struct {
	base      int64 // stamp indexes of this run start here (one run per find-max step)
	warm      int64 // messages with a lower index are warm-up: not recorded
	e2e, send hist
	delivered atomic.Int64
	sentOK    atomic.Int64
	sendErrs  atomic.Int64
}

// direct: -pairs one-to-one conversations, each user online with one
// socket; messages at -rate in total, each from one member of a random pair
// to the other. Latency is from the send's scheduled time to the event on
// the recipient's socket (the sender's own socket gets the echo too; it is
// not counted).
func (r *runner) direct(ctx context.Context) error {
	c := r.cfg
	if c.Rate == 0 {
		c.Rate = 5000
	}
	r.res.Params["pairs"], r.res.Params["rate"] = c.Pairs, c.Rate
	users, err := r.plat.users(ctx, 2*c.Pairs)
	if err != nil {
		return err
	}
	convs := make([]string, c.Pairs)
	if err := parallel(ctx, c.Pairs, 16, func(ctx context.Context, p int) (err error) {
		convs[p], err = r.plat.direct(ctx, users[2*p], users[2*p+1])
		return err
	}); err != nil {
		return err
	}
	var cur atomic.Pointer[directRun]
	cur.Store(&directRun{})
	before := r.rss()
	subs, ack := r.connectAll(ctx, users, len(users), func(i int) func([]byte) {
		me := int64(i)
		return func(b []byte) {
			st, ok := parseStamp(b)
			if !ok || st.target != me {
				return
			}
			run := cur.Load()
			if st.index < run.base+run.warm || st.index >= run.base+1<<32 {
				return // warm-up, or a straggler from an earlier step
			}
			run.e2e.Record(time.Since(time.Unix(0, st.intended)))
			run.delivered.Add(1)
		}
	})
	defer closeAll(subs)
	r.res.Connections = countOpen(subs)
	r.res.Latency["ack"] = ack.Summary()
	settle(ctx, time.Second+time.Duration(len(users))*time.Millisecond/2)
	r.memoryPerConn(before, r.res.Connections)

	prefix := randomHex(4)
	var seq atomic.Int64
	step := func(rate float64, dur time.Duration) (*directRun, step) {
		id := seq.Add(1)
		run := &directRun{base: id << 32, warm: int64(rate * c.Warmup.Seconds())}
		cur.Store(run)
		job := func(ctx context.Context, i int64, intended time.Time) {
			p := rand.IntN(c.Pairs)
			from, to := 2*p, 2*p+1
			if rand.IntN(2) == 0 {
				from, to = to, from
			}
			st := stamp{intended: intended.UnixNano(), index: run.base + i, target: int64(to)}
			err := r.plat.send(ctx, users[from], convs[p], fmt.Sprintf("%s-%d-%d", prefix, id, i), st.body())
			if i < run.warm {
				return
			}
			if err != nil {
				run.sendErrs.Add(1)
				r.errs.add(err)
				return
			}
			run.send.Record(time.Since(intended))
			run.sentOK.Add(1)
		}
		r.startProfile()
		m := newCPUMeter(r.pids)
		total, elapsed := openLoop(ctx, rate, c.Warmup+dur, c.Workers, job)
		cpu := m.cores()
		r.stopProfile()
		waitFor(ctx, c.Drain, func() bool { return run.delivered.Load() >= run.sentOK.Load() })
		measured := total - run.warm
		secs := elapsed.Seconds() - c.Warmup.Seconds()
		s := step{
			Rate: rate, Seconds: secs, Throughput: round3(float64(run.sentOK.Load()) / secs), SendErrors: run.sendErrs.Load(),
			Lost: run.sentOK.Load() - run.delivered.Load(), Latency: run.e2e.Summary(), ServerCPU: cpu["server"], LoadAvg: loadAvg(),
		}
		if total > 0 {
			s.CPUPerOp = round3(cpu["server"] * elapsed.Seconds() * 1e6 / float64(total))
		}
		r.res.CPUCores = cpu
		log.Printf("rate %.0f/s: %d sends scheduled, %d ok, e2e p50 %.2f p99 %.2f p99.9 %.2f max %.2f ms, server CPU %.2f cores",
			rate, measured, run.sentOK.Load(), s.Latency.P50, s.Latency.P99, s.Latency.P999, s.Latency.Max, s.ServerCPU)
		return run, s
	}

	if !c.FindMax {
		run, s := step(c.Rate, c.Duration)
		r.fillSendResult(run, s)
		return ctx.Err()
	}
	// find-max: step up until p99 breaks the bound, errors pass 1 % or
	// throughput falls behind the offered rate by more than 5 %.
	for rate := c.Rate; rate <= c.MaxRate && ctx.Err() == nil; rate *= c.StepFactor {
		run, s := step(rate, c.StepDuration)
		r.res.Steps = append(r.res.Steps, s)
		if r.res.MaxRate == 0 {
			r.fillSendResult(run, s) // until a step passes, show the first
		}
		ok := s.Latency.Count > 0 && time.Duration(s.Latency.P99*float64(time.Millisecond)) <= c.MaxP99 &&
			float64(s.SendErrors) <= 0.01*rate*c.StepDuration.Seconds() && s.Throughput >= 0.95*rate
		if !ok {
			break
		}
		r.res.MaxRate = rate
		r.fillSendResult(run, s)
		r.res.Params["rate"] = rate
	}
	return ctx.Err()
}

func (r *runner) fillSendResult(run *directRun, s step) {
	dur := time.Duration(s.Seconds * float64(time.Second))
	r.res.DurationSec = round3(s.Seconds)
	r.res.ServerCPUPerOp = s.CPUPerOp
	r.res.Sent, r.res.SendErrors = run.sentOK.Load(), run.sendErrs.Load()
	r.res.Delivered, r.res.Lost = run.delivered.Load(), s.Lost
	r.res.Throughput = s.Throughput
	r.res.Deliveries = round3(float64(run.delivered.Load()) / dur.Seconds())
	r.res.Latency["e2e"], r.res.Latency["send"] = run.e2e.Summary(), run.send.Summary()
}

// waitFor polls cond until it holds or d passes.
func waitFor(ctx context.Context, d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cond()
}
