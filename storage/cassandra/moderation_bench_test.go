package cassandra

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"messenger/storage"
)

// BenchmarkPostingRules measures what the posting rules add to a plain
// member's send: reading the group's settings (every send), and, in slow
// mode, taking the member's turn (a Paxos round).
func BenchmarkPostingRules(b *testing.B) {
	s := openTestStore(b, testConfig(b), true)
	u := uuid.NewString()
	warmUp(b, s, u)
	c := newGroup(b, s, u)
	secs := 30
	if err := s.UpdateModerationSettings(context.Background(), c.ID, storage.ModerationSettingsPatch{SlowModeSeconds: &secs}); err != nil {
		b.Fatal(err)
	}
	b.Run("ReadSettings", func(b *testing.B) {
		var l latencies
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			start := time.Now()
			if _, err := s.ModerationSettings(context.Background(), c.ID); err != nil {
				b.Fatal(err)
			}
			l.add(time.Since(start))
		}
		b.StopTimer()
		l.report(b)
	})
	b.Run("SlowModeTurn", func(b *testing.B) {
		var l latencies
		at := time.Now()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			at = at.Add(time.Minute) // every turn is allowed: the full cost
			start := time.Now()
			if _, err := s.TakeSlowModeTurn(context.Background(), c.ID, u, at, 30*time.Second); err != nil {
				b.Fatal(err)
			}
			l.add(time.Since(start))
		}
		b.StopTimer()
		l.report(b)
	})
}
