package cassandra

import (
	"context"
	"sync"
	"time"

	"messenger/cql"
	"messenger/storage"
)

// bucketSize is how many seqs share one messages (and reactions) partition.
const bucketSize = 1000

func bucketOf(seq int64) int64 { return seq / bucketSize }

const (
	// claimTTL is how long the sequencer keeps a send's idempotency row. It
	// only has to outlive the sends still in flight (see AppendMessage);
	// older retries are caught by message_ids and the head check.
	claimTTL = time.Hour
	// maxClaimTries bounds one batch's Paxos attempts. Every failed attempt
	// means another process claimed seqs, so the system as a whole always
	// progresses; the bound only stops one batch spinning forever.
	maxClaimTries = 100
	// maxBatch and maxBatchBytes bound the sends one Paxos transaction
	// claims: the transaction carries every message of the batch (in the
	// sequencer head and one idempotency row each) and must stay well under
	// Cassandra's batch_size_fail_threshold (50 KiB by default). A single
	// send larger than maxBatchBytes goes alone, as before group commit.
	maxBatch      = 64
	maxBatchBytes = 24 << 10
	// batchTimeout bounds one batch's work once its sends were taken from
	// the queue; each caller still stops waiting when its own ctx ends.
	batchTimeout = 30 * time.Second
)

// AppendMessage implements storage.Store.
//
// Group commit. Sends to one conversation that meet in one process wait in
// that conversation's queue; one goroutine at a time takes everything
// waiting (at most maxBatch sends, maxBatchBytes of content) and commits it
// as one batch: ONE Paxos transaction claims the next k seqs for the k
// sends, then their writes go out folded by partition. While a batch is in
// flight the next one gathers, so the busier a conversation, the larger its
// batches and the fewer Paxos rounds per message; a lone send pays exactly
// what it paid before (one round).
//
// Seq allocation. Each conversation has one sequencer partition
// (message_sequencer) whose static columns hold the last claimed seq and the
// full content of the last claimed batch (the "tip"). A batch claims seqs
// n..n+k-1 (n = tip+1) with one conditional batch on that partition, a
// single Paxos transaction:
//
//	UPDATE ... SET last_seq = n+k-1, last_batch = <the k messages> IF last_seq = n-1
//	INSERT (idem_key = sender+client id of send i) seq = n+i IF NOT EXISTS USING TTL 1 hour   (× k)
//
// so seq uniqueness and contiguity and the idempotency checks of all k sends
// are decided together by Paxos, whichever processes send. A failed
// condition returns the current tip and the rows of any earlier send with
// one of the k client ids in the same answer: those sends return the
// original message, and the rest retry at once with the right n. Only then
// are the k messages written: their messages rows (one write per bucket),
// message_ids rows (one per sender), thread, mention and unread-exception
// entries, the conversation's fan-out active row (at most one per process
// and minute: the outbox is derived from the seq range, see outbox.go),
// all idempotent, in parallel; then the conversation's LastSeq and
// LastActivityAt registers (one write). LastSeq, written last, is the
// tip's durable mark: LastSeq >= a tip's last seq means its rows are all
// written.
//
// Crash cases:
//   - Before the Paxos transaction: nothing was written; a retry starts over.
//   - After it, before the writes: seqs n..n+k-1 are claimed and their
//     messages exist only in the sequencer's tip. Nobody sees a gap: LastSeq
//     still says n-1 (or less) and no larger seq exists. Before anyone may
//     claim past the tip they make sure every message of it is written:
//     they read LastSeq (the durable mark) and, only when it is below the
//     tip, write the tip's messages (with the original write timestamp, so
//     the rewrite is cell-for-cell identical and cannot undo a later edit);
//     a retry of one of those sends finds its seq through its idempotency
//     row, or because its message is in the tip, and writes the tip too. So a claimed seq is always filled before a larger one is
//     claimed, and the only messages that can be missing from messages are
//     those of the newest claimed batch, until the next send. A process
//     paused between its claim and its writes (GC, SIGSTOP) changes nothing:
//     the others fill its batch from the tip, and its late writes are the
//     same cells at the same timestamps.
//   - Paxos outcome unknown (timeout, coordinator lost): the batch retries
//     the same transaction with the same attempt id; the idempotency rows
//     (keyed by the attempt id for sends without a client id) say whether
//     the earlier try applied.
//   - Two sends with one client id at once: in one process, the second
//     waits for the first's batch (or is the same batch) and gets its
//     message; in different processes, the idempotency rows are in the same
//     transactions, so one applies and the other gets the first's seq back.
//   - A retry after the sequencer row expired (an hour): whoever makes a
//     message durable also writes its message_ids row, and does so before
//     any seq past its batch is claimed; so a lookup made after learning the
//     tip covers every seq below the tip's first, and the loop compares the
//     tip's messages themselves. The lookup is repeated when a failed
//     transaction reveals seqs the last lookup could not have covered. The
//     sequencer rows are thus only needed for sends running at the same
//     moment.
//   - After the rows, before LastSeq: the tip is not marked durable, so the
//     next sender rewrites it (the same cells) and writes LastSeq. Readers
//     that stop at LastSeq (unread counts, the outbox sweep) do not see the
//     batch until then; history pages and message lookups already do.
//   - After LastSeq, before fan-out (the process dies before its events
//     reach the logs, or before FanOutDone): the seqs are above the
//     conversation's fan-out watermark with no confirmation row, so the
//     next outbox sweep of any instance lists exactly them (outbox.go).
//   - A caller whose ctx ends while its send waits or is in flight gets an
//     error; the send may still be committed (as with any timeout), and a
//     retry with the same client id returns it.
//
// Cost of a batch of k sends, steady state: one read of message_ids per
// sender, one Paxos transaction (Paxos v1: four coordinator-replica round
// trips, v2: two to three), then the folded writes in parallel: three
// client round trips in sequence, whatever k. The first batch of a process
// to a conversation first reads the tip. When another process sent last,
// add one failed Paxos attempt (which returns the new tip), one read of
// LastSeq (and, only if that process died before its durable mark, the
// writes that make its batch durable), and the lookup again if it claimed
// more than one seq. A lone 1:1 send: one Paxos transaction and four
// plain writes (messages, message_ids, the sender's unread exception,
// the registers), plus an active row at most once a minute per
// conversation; its fan-out confirmation is one more write (FanOutDone).
func (s *Store) AppendMessage(ctx context.Context, m storage.Message) (storage.Message, bool, error) {
	m.SentAt = cql.Timestamp(m.SentAt)
	m.EditedAt, m.DeletedAt = nil, nil
	m.ID, m.Seq = "", 0
	r := &send{ctx: ctx, m: m, done: make(chan struct{})}
	q := &s.sends
	q.mu.Lock()
	waiting, running := q.queues[m.ConversationID]
	if q.queues == nil {
		q.queues = map[string][]*send{}
	}
	q.queues[m.ConversationID] = append(waiting, r)
	q.mu.Unlock()
	if !running {
		go s.commitLoop(m.ConversationID)
	}
	select {
	case <-r.done:
		return r.got, r.created, r.err
	case <-ctx.Done():
		return m, false, wrap(ctx.Err(), "append message to %s", m.ConversationID)
	}
}

// send is one AppendMessage call waiting for its batch.
type send struct {
	ctx     context.Context
	m       storage.Message // the message; m.Seq is set once a claim is tried
	idemKey string
	done    chan struct{}
	got     storage.Message
	created bool
	err     error
	settled bool
}

func (r *send) settle(got storage.Message, created bool, err error) {
	r.got, r.created, r.err, r.settled = got, created, err, true
}

// sendQueues holds, per conversation, the sends waiting in this process.
// A conversation is in the map exactly while its commitLoop runs.
type sendQueues struct {
	mu     sync.Mutex
	queues map[string][]*send
}

// commitLoop commits a conversation's waiting sends batch after batch, and
// leaves when none is left.
func (s *Store) commitLoop(conversationID string) {
	q := &s.sends
	for {
		q.mu.Lock()
		batch, rest := takeBatch(q.queues[conversationID])
		if len(batch) == 0 && len(rest) == 0 {
			delete(q.queues, conversationID)
			q.mu.Unlock()
			return
		}
		q.queues[conversationID] = rest
		q.mu.Unlock()
		var live []*send
		for _, r := range batch {
			if err := r.ctx.Err(); err != nil {
				r.settle(r.m, false, wrap(err, "append message to %s", conversationID))
				close(r.done)
				continue
			}
			live = append(live, r)
		}
		if len(live) == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(live[0].ctx), batchTimeout)
		s.commit(ctx, conversationID, live)
		cancel()
		for _, r := range live {
			close(r.done)
		}
	}
}

// takeBatch splits the waiting sends into the next batch and the rest.
func takeBatch(waiting []*send) (batch, rest []*send) {
	size := 0
	for i, r := range waiting {
		// Twice the body: JSON escapes of quotes and newlines, and the
		// newest message's body travels twice (last_batch and last_body).
		n := 2*len(r.m.Body) + len(r.m.ClientMessageID) + len(r.m.SenderID) + len(encodeRefs(r.m.MessageRefs)) + 64
		if i > 0 && (i == maxBatch || size+n > maxBatchBytes) {
			return waiting[:i], append([]*send(nil), waiting[i:]...)
		}
		size += n
	}
	return waiting, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
