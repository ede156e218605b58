package cassandra

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/cql"
	"messenger/storage"
)

// tip is the newest claimed batch of a conversation, as recorded in the
// static columns of its sequencer partition.
type tip struct {
	// msgs are the batch's messages in seq order (ConversationID, Seq, ID,
	// SenderID, ClientMessageID, Body, SentAt, refs); the last has seq last.
	msgs    []storage.Message
	last    int64      // the last claimed seq (0: none yet)
	writeTS int64      // write timestamp (µs) of every cell of the batch
	attempt gocql.UUID // the batch that claimed it
	// durable: every message of the batch is known written with its
	// message_ids and index rows and the conversation's registers (true
	// only for batches this process wrote or saw written).
	durable bool
	// forever: the conversation's idempotency rows never expire (static
	// idem_forever, set when it was created, migration 020), so the Paxos
	// transaction alone decides whether a client id was sent before, and
	// message_ids is neither written nor read. Each claim carries it as a
	// condition, so a wrong belief fails the claim and is corrected.
	forever bool
}

// first is the tip's first seq (last+1 when it holds no message).
func (t tip) first() int64 {
	if len(t.msgs) == 0 {
		return t.last + 1
	}
	return t.msgs[0].Seq
}

// message returns the tip's message with this seq, if it holds it.
func (t tip) message(seq int64) (storage.Message, bool) {
	if len(t.msgs) == 0 || seq < t.first() || seq > t.last {
		return storage.Message{}, false
	}
	return t.msgs[seq-t.first()], true
}

// idemKey is the sequencer row of a send: its sender and client id, or,
// with no client id (no idempotency across calls), the batch's attempt and
// the send's place in it, so the batch still recognises its own claim
// after an unknown outcome.
func idemKey(m storage.Message, attempt gocql.UUID, i int) string {
	if m.ClientMessageID == "" {
		return "\x00attempt\x00" + attempt.String() + "\x00" + strconv.Itoa(i)
	}
	return m.SenderID + "\x00" + m.ClientMessageID
}

// commit runs one batch of sends to a conversation and settles each.
func (s *Store) commit(ctx context.Context, conversationID string, batch []*send) {
	attempt := gocql.MustRandomUUID()
	primary := map[string]*send{}
	dups := map[*send]*send{}
	var pending []*send
	for i, r := range batch {
		r.idemKey = idemKey(r.m, attempt, i)
		if p, ok := primary[r.idemKey]; ok {
			// The same client id twice in one batch: one send, and the
			// other gets its message back.
			dups[r] = p
			continue
		}
		primary[r.idemKey] = r
		pending = append(pending, r)
	}
	err := s.commitPending(ctx, conversationID, pending, attempt)
	if err == nil {
		err = fmt.Errorf("cassandra: append message to %s: send left unsettled", conversationID)
	}
	for _, r := range pending {
		if !r.settled {
			r.settle(r.m, false, err)
		}
	}
	for d, p := range dups {
		d.settle(p.got, false, p.err)
	}
}

// commitPending claims seqs for the pending sends and writes them, or
// settles them as repeats of earlier sends. An error is every unsettled
// send's.
func (s *Store) commitPending(ctx context.Context, conversationID string, pending []*send, attempt gocql.UUID) error {
	// The tip is read before message_ids: every seq below the tip's first
	// had its message_ids row written before the tip was claimed, so the
	// lookup covers every seq below it, and the loop checks the tip's
	// messages themselves. That keeps idempotency exact even after
	// sequencer rows expire.
	t, cached := s.heads.get(conversationID)
	if !cached {
		var err error
		if t, err = s.readTip(ctx, conversationID); err != nil {
			return err
		}
	}
	pending, err := s.settleEarlier(ctx, conversationID, pending, &t)
	if err != nil {
		return err
	}
	checked := t.last // every seq up to here is known not to hold a pending send (the tip by the loop)
	writeTS := time.Now().UnixMicro()
	unknown, lost := 0, 0
	applied := false
	for try := 0; len(pending) > 0 && !applied; try++ {
		if try == maxClaimTries {
			return fmt.Errorf("cassandra: append message to %s: %d claims lost to other senders: %w", conversationID, try, storage.ErrUnavailable)
		}
		if pending, err = s.settleInTip(ctx, conversationID, pending, &t); err != nil || len(pending) == 0 {
			return err
		}
		if !t.durable && t.last > 0 {
			// Another process's tip (or one read at start): write it unless
			// its durable mark says it is written already. After a second
			// lost claim in a row the other process is busy on this
			// conversation and its tip is still being written: reading the
			// mark would only add a round trip to every lost claim, and the
			// loser writing the tip too is what keeps two busy instances
			// taking turns (with the read, the loser was always one round
			// trip late and lost 100 claims in a row).
			durable := false
			if lost < 2 {
				if durable, err = s.tipDurable(ctx, conversationID, t); err != nil {
					return err
				}
			}
			if !durable {
				if err := s.persistTip(ctx, conversationID, t); err != nil {
					return err
				}
			}
			t.durable = true
		}
		n := t.last + 1
		for i, r := range pending {
			r.m.Seq = n + int64(i)
			r.m.ID = storage.MessageID(conversationID, r.m.Seq)
		}
		ok, rows, err := s.claimBatch(ctx, conversationID, pending, attempt, writeTS, t.forever)
		if err != nil {
			// The transaction may or may not have applied: run the same one
			// again (its answer holds our idempotency rows, with our
			// attempt, if the earlier one applied), a few times, while ctx
			// allows.
			if !cql.Unavailable(err) || ctx.Err() != nil || unknown == 3 {
				return wrap(err, "append message to %s: claim seqs %d-%d", conversationID, n, n+int64(len(pending))-1)
			}
			unknown++
			if err := sleep(ctx, time.Duration(50+rand.IntN(100))*time.Millisecond*time.Duration(unknown)); err != nil {
				return wrap(err, "append message to %s", conversationID)
			}
			try--
			continue
		}
		if ok {
			applied = true
			break
		}
		lost++
		cur, idem, err := parseClaimRows(conversationID, rows)
		if err != nil {
			return err
		}
		if applied, err = claimedByUs(conversationID, pending, idem, attempt); err != nil || applied {
			// An earlier try of this batch applied after all.
			if err != nil {
				return err
			}
			break
		}
		var rest []*send
		for _, r := range pending {
			row, ok := idem[r.idemKey]
			if !ok {
				rest = append(rest, r)
				continue
			}
			got, err := s.existingMessage(ctx, conversationID, row.seq, &cur)
			if err != nil {
				return err
			}
			r.settle(got, false, nil)
		}
		pending = rest
		if cur.first() > checked+1 || (t.forever && !cur.forever) {
			// Seqs were claimed between the tip we knew and the new one;
			// their message_ids rows were written before the new tip was
			// claimed, so a lookup now sees them. (Or the conversation
			// turned out not to keep its idempotency rows forever, and the
			// lookup was skipped.)
			if pending, err = s.settleEarlier(ctx, conversationID, pending, &cur); err != nil {
				return err
			}
		}
		t, checked = cur, cur.last
	}
	if !applied {
		return nil // every send was an earlier one
	}
	t = tip{last: pending[len(pending)-1].m.Seq, writeTS: writeTS, attempt: attempt, forever: t.forever}
	for _, r := range pending {
		t.msgs = append(t.msgs, r.m)
	}
	if s.afterClaim != nil {
		s.afterClaim(conversationID, t.first(), t.last)
	}
	if err := s.persistTip(ctx, conversationID, t); err != nil {
		// The seqs are claimed and will be filled by the next sender or a
		// retry.
		return err
	}
	t.durable = true
	s.heads.put(conversationID, t)
	for _, r := range pending {
		r.settle(r.m, true, nil)
	}
	return nil
}

// claimedByUs tells whether a failed transaction's answer shows that an
// earlier try of this very batch applied: every pending send's idempotency
// row carries our attempt. Then the sends get the seqs of those rows.
func claimedByUs(conversationID string, pending []*send, idem map[string]idemRow, attempt gocql.UUID) (bool, error) {
	ours := 0
	for _, r := range pending {
		if row, ok := idem[r.idemKey]; ok && row.attempt == attempt {
			ours++
		}
	}
	if ours == 0 {
		return false, nil
	}
	if ours != len(pending) {
		return false, fmt.Errorf("cassandra: append message to %s: %d of %d sends of one batch claimed", conversationID, ours, len(pending))
	}
	for _, r := range pending {
		r.m.Seq = idem[r.idemKey].seq
		r.m.ID = storage.MessageID(conversationID, r.m.Seq)
	}
	return true, nil
}

// claimBatch runs the Paxos transaction that claims seqs pending[0].m.Seq
// onwards, one per pending send.
//
// With forever (the conversation keeps idempotency rows for good), rows of
// sends with a client id get no TTL; the claim is conditioned on the
// conversation's flag either way.
func (s *Store) claimBatch(ctx context.Context, conversationID string, pending []*send, attempt gocql.UUID, writeTS int64, forever bool) (bool, []map[string]any, error) {
	n := pending[0].m.Seq
	newest := pending[len(pending)-1].m
	msgs := make([]storage.Message, len(pending))
	for i, r := range pending {
		msgs[i] = r.m
	}
	stmts := []stmt{{`UPDATE message_sequencer SET last_seq = ?, last_batch = ?, last_sender_id = ?, last_client_message_id = ?, last_body = ?,
			last_sent_at = ?, last_write_ts = ?, last_attempt = ?, last_refs = ? WHERE conversation_id = ? IF last_seq = ? AND idem_forever = ?`,
		[]any{newest.Seq, encodeBatch(msgs), newest.SenderID, newest.ClientMessageID, newest.Body, newest.SentAt, writeTS, attempt,
			encodeRefs(newest.MessageRefs), conversationID, n - 1, foreverArg(forever)}}}
	for _, r := range pending {
		ttl := int(claimTTL.Seconds())
		if forever && r.m.ClientMessageID != "" {
			ttl = 0 // no expiry: this row is the conversation's idempotency index
		}
		stmts = append(stmts, stmt{`INSERT INTO message_sequencer (conversation_id, idem_key, seq, attempt) VALUES (?, ?, ?, ?) IF NOT EXISTS USING TTL ?`,
			[]any{conversationID, r.idemKey, r.m.Seq, attempt, ttl}})
	}
	b := s.batch(ctx, gocql.LoggedBatch, false, stmts...)
	s.writes.Add(1)
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

// foreverArg is the claim's condition on idem_forever: true, or null for
// a conversation created before migration 020.
func foreverArg(forever bool) any {
	if forever {
		return true
	}
	return nil
}

type idemRow struct {
	seq     int64
	attempt gocql.UUID
}

// parseClaimRows reads a failed claim's answer: the current tip (static
// columns, present in every row) and the rows of earlier sends that used
// one of the batch's idempotency keys.
func parseClaimRows(conversationID string, rows []map[string]any) (tip, map[string]idemRow, error) {
	var t tip
	idem := map[string]idemRow{}
	found := false
	for _, r := range rows {
		if _, ok := r["last_seq"]; !ok {
			continue
		}
		found = true
		t = tipFromRow(conversationID, r)
		if k, _ := r["idem_key"].(string); k != "" {
			if seq, _ := r["seq"].(int64); seq > 0 {
				a, _ := r["attempt"].(gocql.UUID)
				idem[k] = idemRow{seq: seq, attempt: a}
			}
		}
	}
	if !found {
		return t, nil, fmt.Errorf("cassandra: append message to %s: %w", conversationID, storage.ErrNotFound)
	}
	return t, idem, nil
}
