package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"

	"messenger/media"
	mediacql "messenger/media/cassandra"
)

// openMediaStore opens the metadata store of uploads and stories: in
// Cassandra (the chat store's keyspace and settings, tables prefixed
// media_) when MESSENGER_CASSANDRA_HOSTS is set, so every API instance
// shares claims, quotas and stories; else in <data>/media.
func openMediaStore(ctx context.Context, cfg config) (media.Store, error) {
	if len(cfg.CassandraHosts) == 0 {
		return media.OpenPebble(filepath.Join(cfg.DataDir, "media"))
	}
	mc := mediacql.Config{
		Hosts:             cfg.CassandraHosts,
		Keyspace:          cfg.CassandraKeyspace,
		Consistency:       cfg.CassandraConsist,
		Username:          cfg.CassandraUser,
		Password:          cfg.CassandraPassword,
		ReplicationFactor: cfg.CassandraRF,
		DataCenters:       cfg.CassandraDCs,
		LocalDC:           cfg.CassandraLocalDC,
	}
	if cfg.CassandraTLSCA != "" {
		pem, err := os.ReadFile(cfg.CassandraTLSCA)
		if err != nil {
			return nil, fmt.Errorf("cassandra TLS CA: %w", err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("cassandra TLS CA %s: no PEM certificate in it", cfg.CassandraTLSCA)
		}
		mc.TLS = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	s, err := mediacql.Open(ctx, mc)
	if err != nil {
		return nil, fmt.Errorf("media metadata in cassandra %v: %w", cfg.CassandraHosts, err)
	}
	return s, nil
}
