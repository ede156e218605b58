package push_test

import (
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	"messenger/storage"
)

// BenchmarkGroupOf1000AllOffline: a group of 1,000 members, all offline
// with one device each (a third on each provider), receives messages at
// 10 per second; every push goes through the real wire protocols to the
// local provider servers (which run in this process: the CPU figures
// include them). Reports pushes/s, send-to-push p50/p99 and CPU per push.
//
//	go test -run '^$' -bench GroupOf1000 -benchtime 20x ./push/
func BenchmarkGroupOf1000AllOffline(b *testing.B) {
	e := newEnv(b, envOptions{})
	ids := e.users(b, "owner")
	owner := ids[0]
	var members []storage.Member
	for i := range 999 {
		u := e.users(b, fmt.Sprint("m", i))[0]
		members = append(members, storage.Member{UserID: u})
		e.device(b, u, platforms[i%3])
	}
	conv := e.group(b, "Big", owner, members...)
	want := 999 * b.N
	sentAt := map[string]time.Time{}
	var before syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	b.ResetTimer()
	start := time.Now()
	tick := time.NewTicker(100 * time.Millisecond) // 10 messages/s
	defer tick.Stop()
	for i := range b.N {
		if i > 0 {
			<-tick.C
		}
		m := e.send(b, owner, conv, fmt.Sprint("message ", i))
		sentAt[m.ID] = m.SentAt
	}
	for deadline := time.Now().Add(5 * time.Minute); len(e.all()) < want; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d pushes after 5 minutes", len(e.all()), want)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	var after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) * time.Nanosecond
	var lat []time.Duration
	for _, pl := range platforms {
		for _, p := range e.p.pushes(pl) {
			lat = append(lat, p.At.Sub(sentAt[messageID(pl, p.Payload)]))
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(want)/elapsed.Seconds(), "pushes/s")
	b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "p99-ms")
	b.ReportMetric(float64(cpu.Microseconds())/float64(want), "cpu-µs/push")
}

func messageID(pl storage.Platform, payload map[string]any) string {
	if pl == storage.FCM {
		return payload["data"].(map[string]any)["messageId"].(string)
	}
	return payload["messageId"].(string)
}
