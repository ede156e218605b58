package revocation_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"messenger/redistest"
	"messenger/revocation"
	"messenger/revocation/memrevocation"
	"messenger/revocation/redisrevocation"
	"messenger/revocation/revocationtest"
)

func TestMemoryContract(t *testing.T) {
	revocationtest.Run(t, func(t *testing.T) (revocation.Bus, revocation.Bus) {
		b := memrevocation.New()
		t.Cleanup(func() { _ = b.Close() })
		return b, b
	})
}

func TestRedisContract(t *testing.T) {
	addrs := strings.Split(redistest.Addrs(t), ",")
	revocationtest.Run(t, func(t *testing.T) (revocation.Bus, revocation.Bus) {
		channel := "test:revocation:" + uuid.NewString()
		open := func() revocation.Bus {
			b, err := redisrevocation.New(context.Background(), redisrevocation.Config{Addrs: addrs, Channel: channel})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = b.Close() })
			return b
		}
		return open(), open()
	})
}
