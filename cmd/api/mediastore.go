package main

import (
	"context"
	"fmt"
	"path/filepath"

	"messenger/media"
	mediacql "messenger/media/cassandra"
	mediapebble "messenger/media/pebble"
)

// openMediaStore opens the metadata store of uploads and stories: in
// Cassandra (the chat store's keyspace and settings, tables prefixed
// media_) when MESSENGER_CASSANDRA_HOSTS is set, so every API instance
// shares claims, quotas and stories; else in <data>/media.
func openMediaStore(ctx context.Context, cfg config) (media.Store, error) {
	if len(cfg.CassandraHosts) == 0 {
		return mediapebble.Open(mediapebble.Config{Dir: filepath.Join(cfg.DataDir, "media")})
	}
	s, err := mediacql.Open(ctx, mediacql.Config{Config: cfg.cassandraConn()})
	if err != nil {
		return nil, fmt.Errorf("media metadata in cassandra %v: %w", cfg.CassandraHosts, err)
	}
	return s, nil
}
