package cassandra

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/cql"
	"messenger/storage"
)

// bucketSize is how many seqs share one messages (and reactions) partition.
const bucketSize = 1000

func bucketOf(seq int64) int64 { return seq / bucketSize }

// claimTTL is how long the sequencer keeps a send's idempotency row. It only
// has to outlive the sends still in flight (see AppendMessage); older
// retries are caught by message_ids and the head check.
const claimTTL = time.Hour

// maxClaimTries bounds one AppendMessage's Paxos attempts. Every failed
// attempt means another process claimed a seq, so the system as a whole
// always progresses; the bound only stops one caller spinning forever.
const maxClaimTries = 100

// head is the newest claimed message of a conversation, as recorded in the
// static columns of its sequencer partition.
type head struct {
	msg     storage.Message // ConversationID, Seq, SenderID, ClientMessageID, Body, SentAt
	writeTS int64           // write timestamp (µs) of every cell of the message
	attempt gocql.UUID      // the AppendMessage call that claimed it
	// durable: the message row, its message_ids row and the conversation's
	// registers are known written (true only for sends this process made).
	durable bool
}

// AppendMessage implements storage.Store.
//
// Seq allocation. Each conversation has one sequencer partition
// (message_sequencer) whose static columns hold the last claimed seq and the
// full content of that message (the "head"). A send claims seq n = head+1
// with one conditional batch on that partition, a single Paxos transaction:
//
//	UPDATE ... SET last_seq = n, last_* = <this message> IF last_seq = n-1
//	INSERT (idem_key = sender+client id) seq = n IF NOT EXISTS USING TTL 1 hour
//
// so seq uniqueness and contiguity and the idempotency check are decided
// together by Paxos, whichever process sends. A failed condition returns the
// current head (or the row of the earlier send with this client id) in the
// same answer, so a loser retries at once with the right n, or returns the
// original message. Only then is the message written to its messages bucket,
// with its message_ids row and the conversation's LastSeq/LastActivityAt
// registers (three idempotent writes in parallel).
//
// Within one process, sends to one conversation are serialised by a lock, so
// Paxos contention is between processes only.
//
// Crash cases:
//   - Before the Paxos transaction: nothing was written; a retry starts over.
//   - After it, before the writes: seq n is claimed and the message exists
//     only in the sequencer's head. Nobody sees a gap: LastSeq still says
//     n-1 and no larger seq exists. Before anyone may claim n+1 they write
//     the head's message (with its original write timestamp, so the rewrite
//     is cell-for-cell identical and cannot undo a later edit); a retry of
//     the same send finds n through its idempotency row, or because the head
//     is its own message, and writes it too. So a claimed seq is always
//     filled before a larger one exists, and the only message that can be
//     missing from messages is the newest claimed one, until the next send.
//   - Paxos outcome unknown (timeout, coordinator lost): the call retries
//     with the same attempt id; the idempotency row (keyed by the attempt id
//     when the client gave no id) says whether the earlier try applied.
//   - Two sends with one client id at once, from any processes: the
//     idempotency row is in the same transaction, so one applies and the
//     other gets the first's seq back and returns that message.
//   - A retry after the sequencer row expired (an hour): whoever makes a
//     message durable also writes its message_ids row, and does so before
//     any larger seq is claimed; so a lookup made after learning the head
//     covers every seq below it, and the loop compares the head itself.
//     The lookup is repeated when a failed transaction reveals seqs the
//     last lookup could not have covered. The sequencer rows are thus only
//     needed for sends running at the same moment.
//
// Cost of one send, steady state: one read (message_ids), one Paxos
// transaction (Paxos v1: four coordinator-replica round trips, v2: two to
// three), then three parallel single-partition writes: three client round
// trips in sequence. The first send of a process to a conversation first
// reads the head. When another process sent last, add one failed Paxos
// attempt (which returns the new head), the three writes that make its
// message durable, and the lookup again if it sent more than one.
func (s *Store) AppendMessage(ctx context.Context, m storage.Message) (storage.Message, bool, error) {
	m.SentAt = cql.Timestamp(m.SentAt)
	m.EditedAt, m.DeletedAt = nil, nil
	unlock, err := s.lockSend(ctx, m.ConversationID)
	if err != nil {
		return m, false, err
	}
	defer unlock()

	// The head is read before message_ids: every seq below the head had its
	// message_ids row written before the head was claimed, so the lookup
	// then covers every seq below the head, and the loop checks the head
	// itself. That keeps idempotency exact even after sequencer rows expire.
	h, cached := s.heads.get(m.ConversationID)
	if !cached {
		if h, err = s.readHead(ctx, m.ConversationID); err != nil {
			return m, false, err
		}
	}
	if earlier, err := s.earlierSend(ctx, m); err != nil || earlier != nil {
		return derefMessage(earlier), false, err
	}
	checked := h.msg.Seq // every seq up to here is known not to be this send (the head by the loop)

	attempt := gocql.MustRandomUUID()
	idemKey := m.SenderID + "\x00" + m.ClientMessageID
	if m.ClientMessageID == "" {
		// No client id, no idempotency across calls; the attempt id still
		// lets this call recognise its own claim after an unknown outcome.
		idemKey = "\x00attempt\x00" + attempt.String()
	}
	writeTS := time.Now().UnixMicro()
	unknown := 0
	for try := 0; ; try++ {
		if try == maxClaimTries {
			return m, false, fmt.Errorf("cassandra: append message to %s: %d claims lost to other senders: %w", m.ConversationID, try, storage.ErrUnavailable)
		}
		if m.ClientMessageID != "" && h.msg.Seq > 0 && h.msg.SenderID == m.SenderID && h.msg.ClientMessageID == m.ClientMessageID {
			// The newest message is this very send, claimed by an earlier
			// call (its sequencer row may have expired).
			got, err := s.existingMessage(ctx, m.ConversationID, h.msg.Seq, &h)
			return got, false, err
		}
		if !h.durable && h.msg.Seq > 0 {
			if err := s.persist(ctx, h); err != nil {
				return m, false, err
			}
			h.durable = true
		}
		n := h.msg.Seq + 1
		applied, rows, err := s.claim(ctx, m, n, idemKey, attempt, writeTS)
		if err != nil {
			// The transaction may or may not have applied: ask again (the
			// idempotency row tells), a few times, while ctx allows.
			if !cql.Unavailable(err) || ctx.Err() != nil || unknown == 3 {
				return m, false, wrap(err, "append message to %s: claim seq %d", m.ConversationID, n)
			}
			unknown++
			// The same transaction again: its answer says whether the
			// earlier one applied (our idempotency row, with our attempt).
			if err := sleep(ctx, time.Duration(50+rand.IntN(100))*time.Millisecond*time.Duration(unknown)); err != nil {
				return m, false, wrap(err, "append message to %s", m.ConversationID)
			}
			try--
			continue
		}
		if applied {
			m.Seq = n
			break
		}
		cur, idem, err := parseClaimRows(m.ConversationID, idemKey, rows)
		if err != nil {
			return m, false, err
		}
		if idem != nil {
			if idem.attempt == attempt {
				// An earlier try of this call applied after all.
				m.Seq = idem.seq
				break
			}
			got, err := s.existingMessage(ctx, m.ConversationID, idem.seq, &cur)
			return got, false, err
		}
		if cur.msg.Seq > checked+1 {
			// Seqs were claimed between the head we knew and the new one;
			// their message_ids rows were written before the new head was
			// claimed, so a lookup now sees them.
			if earlier, err := s.earlierSend(ctx, m); err != nil || earlier != nil {
				return derefMessage(earlier), false, err
			}
		}
		h, checked = cur, cur.msg.Seq
	}
	m.ID = storage.MessageID(m.ConversationID, m.Seq)
	h = head{msg: m, writeTS: writeTS, attempt: attempt}
	if err := s.persist(ctx, h); err != nil {
		// The seq is claimed and will be filled by the next sender or a retry.
		return m, false, err
	}
	h.durable = true
	s.heads.put(m.ConversationID, h)
	return m, true, nil
}

// earlierSend finds, through message_ids, a message the sender already sent
// with m's client id; nil when there is none.
func (s *Store) earlierSend(ctx context.Context, m storage.Message) (*storage.Message, error) {
	if m.ClientMessageID == "" {
		return nil, nil
	}
	var seq int64
	err := s.query(ctx, "SELECT seq FROM message_ids WHERE conversation_id = ? AND sender_id = ? AND client_message_id = ?",
		m.ConversationID, m.SenderID, m.ClientMessageID).Scan(&seq)
	if errors.Is(err, gocql.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap(err, "append message to %s: look up client id", m.ConversationID)
	}
	got, err := s.existingMessage(ctx, m.ConversationID, seq, nil)
	if err != nil {
		return nil, err
	}
	return &got, nil
}

func derefMessage(m *storage.Message) storage.Message {
	if m == nil {
		return storage.Message{}
	}
	return *m
}

// claim runs the Paxos transaction that claims seq n for m.
func (s *Store) claim(ctx context.Context, m storage.Message, n int64, idemKey string, attempt gocql.UUID, writeTS int64) (bool, []map[string]any, error) {
	b := s.batch(ctx, gocql.LoggedBatch, false,
		stmt{`UPDATE message_sequencer SET last_seq = ?, last_sender_id = ?, last_client_message_id = ?, last_body = ?,
			last_sent_at = ?, last_write_ts = ?, last_attempt = ?, last_refs = ? WHERE conversation_id = ? IF last_seq = ?`,
			[]any{n, m.SenderID, m.ClientMessageID, m.Body, m.SentAt, writeTS, attempt, encodeRefs(m.MessageRefs), m.ConversationID, n - 1}},
		stmt{`INSERT INTO message_sequencer (conversation_id, idem_key, seq, attempt) VALUES (?, ?, ?, ?) IF NOT EXISTS USING TTL ?`,
			[]any{m.ConversationID, idemKey, n, attempt, int(claimTTL.Seconds())}},
	)
	first := map[string]any{}
	applied, iter, err := b.MapExecCAS(first)
	if err != nil {
		if iter != nil {
			_ = iter.Close()
		}
		return false, nil, err
	}
	rows := []map[string]any{first}
	for {
		row := map[string]any{}
		if !iter.MapScan(row) {
			break
		}
		rows = append(rows, row)
	}
	if err := iter.Close(); err != nil {
		return false, nil, err
	}
	return applied, rows, nil
}

type idemRow struct {
	seq     int64
	attempt gocql.UUID
}

// parseClaimRows reads a failed claim's answer: the current head (static
// columns, present in every row) and, when an earlier send used idemKey,
// that send's row.
func parseClaimRows(conversationID, idemKey string, rows []map[string]any) (head, *idemRow, error) {
	var h head
	var idem *idemRow
	found := false
	for _, r := range rows {
		if _, ok := r["last_seq"]; !ok {
			continue
		}
		found = true
		h = headFromRow(conversationID, r)
		if k, _ := r["idem_key"].(string); k == idemKey {
			if seq, _ := r["seq"].(int64); seq > 0 {
				a, _ := r["attempt"].(gocql.UUID)
				idem = &idemRow{seq: seq, attempt: a}
			}
		}
	}
	if !found {
		return h, nil, fmt.Errorf("cassandra: append message to %s: %w", conversationID, storage.ErrNotFound)
	}
	return h, idem, nil
}

func headFromRow(conversationID string, r map[string]any) head {
	var h head
	h.msg.ConversationID = conversationID
	h.msg.Seq, _ = r["last_seq"].(int64)
	h.msg.SenderID, _ = r["last_sender_id"].(string)
	h.msg.ClientMessageID, _ = r["last_client_message_id"].(string)
	h.msg.Body, _ = r["last_body"].(string)
	if t, ok := r["last_sent_at"].(time.Time); ok && !t.IsZero() {
		h.msg.SentAt = t.UTC()
	}
	h.writeTS, _ = r["last_write_ts"].(int64)
	h.attempt, _ = r["last_attempt"].(gocql.UUID)
	refs, _ := r["last_refs"].(string)
	h.msg.MessageRefs = decodeRefs(refs)
	if h.msg.Seq > 0 {
		h.msg.ID = storage.MessageID(conversationID, h.msg.Seq)
	}
	return h
}

// readHead reads a conversation's sequencer head, or ErrNotFound when the
// conversation does not exist.
func (s *Store) readHead(ctx context.Context, conversationID string) (head, error) {
	row := map[string]any{}
	err := s.query(ctx, `SELECT last_seq, last_sender_id, last_client_message_id, last_body, last_sent_at, last_write_ts, last_attempt, last_refs
		FROM message_sequencer WHERE conversation_id = ? LIMIT 1`, conversationID).MapScan(row)
	if errors.Is(err, gocql.ErrNotFound) {
		return head{}, fmt.Errorf("cassandra: conversation %s: %w", conversationID, storage.ErrNotFound)
	}
	if err != nil {
		return head{}, wrap(err, "read sequencer of %s", conversationID)
	}
	return headFromRow(conversationID, row), nil
}

// persist writes a claimed message where readers find it: its messages
// row, its message_ids row, its fan-out outbox row and the conversation's
// LastSeq and LastActivityAt registers. Every write reuses the claim's timestamps, so
// running it twice, from anywhere, writes the same cells.
func (s *Store) persist(ctx context.Context, h head) error {
	m := h.msg
	writes := []*gocql.Query{
		s.query(ctx, `INSERT INTO messages (conversation_id, bucket, seq, sender_id, client_message_id, body, sent_at, refs)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) USING TIMESTAMP ?`,
			m.ConversationID, bucketOf(m.Seq), m.Seq, m.SenderID, m.ClientMessageID, m.Body, m.SentAt, encodeRefs(m.MessageRefs), h.writeTS),
	}
	writes = append(writes, s.refWrites(ctx, h)...)
	writes = append(writes, s.outboxInsert(ctx, h))
	if m.ClientMessageID != "" {
		writes = append(writes, s.query(ctx, `INSERT INTO message_ids (conversation_id, sender_id, client_message_id, seq)
			VALUES (?, ?, ?, ?) USING TIMESTAMP ?`, m.ConversationID, m.SenderID, m.ClientMessageID, m.Seq, h.writeTS))
	}
	err := cql.Parallel(ctx, len(writes)+1, func(ctx context.Context, i int) error {
		if i < len(writes) {
			return writes[i].WithContext(ctx).Exec()
		}
		return s.bumpConversation(ctx, m.ConversationID, m.Seq, m.SentAt)
	})
	return wrap(err, "write message %s", storage.MessageID(m.ConversationID, m.Seq))
}

// existingMessage returns the message an earlier send with the same client
// id got. If its row is missing, it can only be the newest claimed message,
// whose content is in the sequencer head: write it from there.
func (s *Store) existingMessage(ctx context.Context, conversationID string, seq int64, h *head) (storage.Message, error) {
	got, err := s.Messages(ctx, conversationID, []int64{seq})
	if err != nil {
		return storage.Message{}, err
	}
	if msg, ok := got[seq]; ok {
		return msg, nil
	}
	if h == nil || h.msg.Seq != seq {
		cur, err := s.readHead(ctx, conversationID)
		if err != nil {
			return storage.Message{}, err
		}
		h = &cur
	}
	if h.msg.Seq != seq {
		return storage.Message{}, fmt.Errorf("cassandra: message %s is claimed but not written, and is not the newest", storage.MessageID(conversationID, seq))
	}
	if err := s.persist(ctx, *h); err != nil {
		return storage.Message{}, err
	}
	return h.msg, nil
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
