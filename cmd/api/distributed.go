package main

import (
	"context"
	"errors"

	"messenger/realtime"
	"messenger/storage"
)

// openCassandra and openRedis are wired when their backends land.
func openCassandra(ctx context.Context, cfg config) (storage.Store, error) {
	return nil, errors.New("MESSENGER_CASSANDRA_HOSTS is set but this build has no Cassandra backend yet")
}

func openRedis(ctx context.Context, cfg config) (realtime.Log, error) {
	return nil, errors.New("MESSENGER_REDIS_ADDRS is set but this build has no Redis backend yet")
}
