package media_test

import (
	"testing"

	"messenger/media"
	"messenger/media/mediatest"
)

func TestPebbleStoreContract(t *testing.T) {
	mediatest.RunStore(t, func(t *testing.T) media.Store {
		s, err := media.OpenPebble(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
