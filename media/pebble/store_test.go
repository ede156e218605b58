package pebble_test

import (
	"testing"

	"messenger/media"
	"messenger/media/mediatest"
	"messenger/media/pebble"
)

func TestContract(t *testing.T) {
	mediatest.RunStore(t, func(t *testing.T) media.Store {
		s, err := pebble.Open(pebble.Config{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
