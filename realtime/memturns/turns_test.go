package memturns_test

import (
	"testing"

	"messenger/realtime"
	"messenger/realtime/memturns"
	"messenger/realtime/realtimetest"
)

func TestContract(t *testing.T) {
	realtimetest.RunTurns(t, func(t *testing.T) (realtime.Turns, realtime.Turns) {
		turns := memturns.New(memturns.Config{})
		return turns, turns
	})
}
