package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"messenger/search"
	"messenger/search/bleve"
	"messenger/search/indexer"
	"messenger/search/opensearch"
	"messenger/search/subprocess"
	"messenger/storage"
)

// openSearch opens the search index: OpenSearch when
// MESSENGER_OPENSEARCH_URL is set, else bleve under <data>/search.
func openSearch(ctx context.Context, cfg config) (search.Rebuilder, error) {
	if len(cfg.OpenSearchURLs) > 0 {
		idx, err := opensearch.Open(ctx, opensearch.Config{
			URLs: cfg.OpenSearchURLs, Username: cfg.OpenSearchUser, Password: cfg.OpenSearchPassword,
			InsecureSkipVerify: cfg.OpenSearchInsecure, Prefix: cfg.OpenSearchPrefix,
		})
		if err != nil {
			return nil, fmt.Errorf("opensearch %v: %w", cfg.OpenSearchURLs, err)
		}
		return idx, nil
	}
	return bleve.Open(bleve.Config{Dir: filepath.Join(cfg.DataDir, "search")})
}

// openServingSearch is openSearch for the running API: the embedded index
// is served by a child process (`api search-index <dir>`, see
// search/subprocess) unless MESSENGER_SEARCH_PROCESS=false or the platform
// cannot pass it a socket. The child takes a sixth of the API's memory
// limit (memLimit, math.MaxInt64: none) and the API keeps the rest, so the
// two stay under the one limit the operator set.
func openServingSearch(ctx context.Context, cfg config, memLimit int64, logger *slog.Logger) (search.Rebuilder, error) {
	if len(cfg.OpenSearchURLs) > 0 || !cfg.SearchProcess {
		return openSearch(ctx, cfg)
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("search process: find the API's own binary: %w", err)
	}
	env := os.Environ()
	if memLimit > 0 && memLimit < math.MaxInt64 {
		child := memLimit / searchMemoryShare
		debug.SetMemoryLimit(memLimit - child)
		env = append(env, "GOMEMLIMIT="+strconv.FormatInt(child, 10)) // the last one wins
		logger.Info("memory limit shared with the search process", "apiMiB", (memLimit-child)>>20, "searchMiB", child>>20)
	}
	idx, err := subprocess.Start(ctx, subprocess.Config{
		Path: exe, Args: []string{"search-index", filepath.Join(cfg.DataDir, "search")}, Env: env, Logger: logger,
	})
	if errors.Is(err, errors.ErrUnsupported) {
		debug.SetMemoryLimit(memLimit)
		logger.Warn("search index runs in the API's process (no child processes here)")
		return openSearch(ctx, cfg)
	}
	return idx, err
}

// searchMemoryShare: the search process gets 1/searchMemoryShare of the
// memory limit (64 MiB of the default 384 MiB). Its heap after a 3,000
// msg/s run was ≈ 64 MiB; the limit is soft, so a larger index only makes
// its collector work harder.
const searchMemoryShare = 6

// runSearchIndex is `api search-index <dir>`, the child that
// openServingSearch starts: it serves the bleve index in dir to its parent
// on the socket it inherited, until the parent closes it or exits.
func runSearchIndex(args []string, logger *slog.Logger) error {
	if len(args) != 1 {
		return errors.New("usage: api search-index <dir> (started by the API itself)")
	}
	// The child follows its parent: a Ctrl-C or a SIGTERM sent to the whole
	// group would otherwise end it before the parent's last flush.
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM)
	conn, err := subprocess.InheritedConn()
	if err != nil {
		return err
	}
	idx, err := bleve.Open(bleve.Config{Dir: args[0], Logger: logger})
	if err != nil {
		return err
	}
	return errors.Join(subprocess.Serve(conn, idx), idx.Close())
}

// startIndexer runs the search indexer until ctx ends or stop is called;
// stop returns once it has stopped (call it before closing the store).
func startIndexer(ctx context.Context, idx search.Index, store storage.Store, flush time.Duration, logger *slog.Logger) (ix *indexer.Indexer, stop func(), err error) {
	ix, err = indexer.New(indexer.Config{Index: idx, Source: store, Logger: logger, FlushDelay: flush})
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := ix.Run(ctx); err != nil {
			logger.Error("search indexer stopped", "err", err)
		}
	}()
	return ix, func() { cancel(); <-done }, nil
}

// runReindex is `api reindex`: it rebuilds the search index from durable
// storage into a new generation and switches to it. With the embedded
// store and index the API must be stopped first (each locks its directory).
func runReindex(args []string, logger *slog.Logger) error {
	cfg, err := loadConfig(args)
	if err != nil {
		return err
	}
	ctx := context.Background()
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { _ = store.Close() }()
	idx, err := openSearch(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { _ = idx.Close() }()
	st, err := indexer.Rebuild(ctx, idx, store, logger)
	if err != nil {
		return errors.Join(errors.New("reindex failed; the previous index is still live"), err)
	}
	fmt.Printf("reindexed into %s: %d conversations, %d messages, %d hides, %d users\n", st.Generation, st.Conversations, st.Messages, st.Hides, st.Users)
	return nil
}

// searchDegraded is /readyz's report on search: the index being rebuilt
// from the store (it was new, or unusable at start and set aside), when
// searches may miss messages and users.
func searchDegraded(ix *indexer.Indexer) func() []string {
	return func() []string {
		if ix.Rebuilding() {
			return []string{"search: rebuilding the index from the store; results may be incomplete"}
		}
		return nil
	}
}
