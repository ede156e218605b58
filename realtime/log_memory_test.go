package realtime_test

import (
	"testing"

	"messenger/realtime"
	"messenger/realtime/realtimetest"
)

func TestMemoryContract(t *testing.T) {
	realtimetest.Run(t, func(t *testing.T, o realtimetest.Options) realtime.Log {
		l := realtime.NewMemory(realtime.MemoryConfig{MaxEvents: o.MaxEvents, SlowAfter: o.SlowAfter})
		t.Cleanup(func() { l.Close() })
		return l
	})
}
