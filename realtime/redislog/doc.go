// Package redislog is the distributed realtime.Log: one Redis Stream per
// user, sharded by user, read by any number of stateless API instances.
//
// # Keys
//
// Every key of a user carries the hash tag {u:<userID>}, so in Redis
// Cluster all of them live in one slot (and in client-side sharding the
// user id picks the node by rendezvous hashing over the configured
// addresses):
//
//	<prefix>{u:<id>}:events   the stream; entry fields i (event id, optional), t (type) and d (data)
//	<prefix>{u:<id>}:epoch    random value, SET NX, no TTL: names this life of the stream
//	<prefix>{u:<id>}:wake     pub/sub channel: "new events" notices and signals
//
// # Write path
//
// Append groups the recipients by shard and sends, per shard, one pipeline
// (one round trip) holding for every recipient an XADD (with MAXLEN trimming)
// followed by a PUBLISH of a one-byte notice on the recipient's channel (in
// cluster mode SPUBLISH, sharded pub/sub, so the notice stays on the node
// that owns the user's slot). The notice is sent after the XADD on the same
// connection, so whoever receives it finds the entry. A sixteenth of the
// appends (at random) also trims by age (XTRIM MINID ~). AppendOnce, the
// replay of a fan-out an outbox found unconfirmed, runs instead a small Lua
// script per recipient that scans the entries added since the event was
// produced for its id (field i) and adds it only if absent; being one
// script on the stream's node, two replays of one event add it once, and
// only replays pay for the scan. Signals are only a
// PUBLISH on the same channels: never stored.
//
// # Read path
//
// An instance never blocks a Redis connection per subscriber. Per Redis
// node it holds one pub/sub connection, subscribed to the channels of the
// users that have a subscriber on this instance (and only those, so a
// notice reaches only the instances that need it). A notice wakes that
// user's local subscribers; each then reads with a non-blocking XRANGE
// (COUNT-bounded). Reads do not take a connection each: they are queued
// per shard and sent as pipelines of up to a few hundred reads by a few
// workers, over the shard's small command pool (PoolSize). Notices are an
// optimisation, not the source of truth: every subscriber also polls on a
// jittered PollInterval, and one whose pub/sub connection was lost is woken,
// so a lost notice only delays an event, never loses it. The subscribers
// of one key on an instance share their reads (the key's shared tail): a
// read of the same range from the same position that is still queued, or
// was sent after the asker was woken, is joined rather than repeated, and
// its entries are decoded once for all of them; a subscriber that is
// behind reads from its own position (docs/realtime.md). Tens of thousands
// of subscribers thus cost one pub/sub connection and PoolSize command
// connections per node.
//
// # Cursors, trimming and resets
//
// A cursor is opaque base64 of (epoch, stream entry id, ordinal), the
// ordinal being the entry's 1-based position among all entries ever added
// to the stream (Redis 7's entries-added counter). Because trimming only
// ever drops the oldest entries and entries are never deleted otherwise,
// the entries after a cursor are all still there iff entries-added - length
// <= ordinal: that is how a cursor that fell off the trimmed stream gives
// ErrCursorExpired, exactly, including the cursor of the entry just before
// the first one retained. (XREAD or XRANGE from a trimmed id would silently
// skip; max-deleted-entry-id is not updated by trimming.) A read whose start
// entry is still in the stream needs no check; otherwise the check runs in
// one MULTI with the XRANGE, so it sees one consistent snapshot.
//
// The epoch detects a stream that was lost (FLUSHALL, a restart without
// persistence, a node replaced empty): the new stream gets a new epoch, so
// old cursors give ErrCursorExpired instead of resuming into a stream whose
// ids happen to be larger. Every read fetches the epoch in the same
// pipeline, so a subscription that outlives a reset ends with
// ErrCursorExpired. A cursor ahead of the stream (its entry is gone but
// later ones are not, or its ordinal is past entries-added) means the
// stream lost its tail, and also gives ErrCursorExpired. What cannot be
// detected is a tail lost by asynchronous replication or appendfsync
// everysec when the client's cursor predates the lost entries: Redis
// acknowledged writes it then lost. Run with appendfsync always (and WAIT
// for replicas) where that matters; the conversations' own contiguous
// sequence numbers let clients see such a gap.
//
// Trimming: MAXLEN ~ MaxLen (approximate, whole radix nodes, cheap) when
// MaxLen is at least 1000, exact below that where the slack of a node (100
// entries) would dominate; MINID ~ now-MaxAge as above. Retention is thus
// "at least MaxLen entries and MaxAge", never less.
//
// # Failures
//
// Commands have bounded timeouts (Config.Timeout) and are never retried by
// the client, since a retried XADD could duplicate an event. When Redis
// cannot be reached, Append and Signal return an error wrapping
// realtime.ErrUnavailable; an Append that failed may have reached some
// recipients (the caller retries the fan-out, so delivery is at least
// once). A subscription whose reads keep failing for OutageGrace ends with
// ErrUnavailable; the pub/sub heartbeat notices a dead node within about
// 2×Timeout and wakes its subscribers, so idle subscriptions end within
// about 2×Timeout + OutageGrace too. After Redis is back (with its data),
// resuming from the last cursor gets every event after it; if the data was
// lost, the epoch turns that into ErrCursorExpired.
//
// Requires Redis 7.0 or later (entries-added, sharded pub/sub), with
// maxmemory-policy noeviction: an evicted epoch or stream would be taken
// for a reset.
package redislog
