package cassandra

import (
	"context"
	"errors"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/cql"
	"messenger/media"
)

const multipartColumns = "id, owner_id, filename, content_type, size, part_size, store_id, created_at"

func scanMultipart(m *media.MultipartUpload) []any {
	return []any{&m.ID, &m.OwnerID, &m.Filename, &m.ContentType, &m.Size, &m.PartSize, &m.StoreID, &m.CreatedAt}
}

// PutMultipart implements media.Store: the record and its sweeper queue
// entry, both idempotent writes.
func (s *Store) PutMultipart(ctx context.Context, m media.MultipartUpload) error {
	err := s.exec(ctx, []stmt{
		{"INSERT INTO media_multipart_uploads (" + multipartColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			[]any{m.ID, m.OwnerID, m.Filename, m.ContentType, m.Size, m.PartSize, m.StoreID, cql.Timestamp(m.CreatedAt)}},
		s.enqueue(&s.mpQ, m.CreatedAt, m.ID, int(queueTTL.Seconds()), ""),
	})
	return wrap(err, "put multipart upload %s", m.ID)
}

// Multipart implements media.Store.
func (s *Store) Multipart(ctx context.Context, id string) (media.MultipartUpload, error) {
	var m media.MultipartUpload
	err := s.query(ctx, "SELECT "+multipartColumns+" FROM media_multipart_uploads WHERE id = ?", id).Scan(scanMultipart(&m)...)
	if errors.Is(err, gocql.ErrNotFound) {
		return media.MultipartUpload{}, media.ErrNotFound
	}
	if err != nil {
		return media.MultipartUpload{}, wrap(err, "get multipart upload %s", id)
	}
	m.CreatedAt = cql.Timestamp(m.CreatedAt)
	return m, nil
}

// DeleteMultipart implements media.Store.
func (s *Store) DeleteMultipart(ctx context.Context, id string) error {
	m, err := s.Multipart(ctx, id)
	if errors.Is(err, media.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	err = s.exec(ctx, []stmt{
		{"DELETE FROM media_multipart_uploads WHERE id = ?", []any{id}},
		s.dequeue(&s.mpQ, m.CreatedAt, id),
	})
	return wrap(err, "delete multipart upload %s", id)
}

// StaleMultiparts implements media.Store. It walks the queue; entries of
// uploads that are gone are dropped from it on the way.
func (s *Store) StaleMultiparts(ctx context.Context, before time.Time, limit int) ([]media.MultipartUpload, error) {
	type entry struct {
		at time.Time
		id string
	}
	var es []entry
	var e entry
	err := s.due(ctx, &s.mpQ, before, limit, "at, id",
		func() []any { return []any{&e.at, &e.id} }, func() { es = append(es, e) })
	if err != nil {
		return nil, err
	}
	out := []media.MultipartUpload{}
	var gone []stmt
	for _, e := range es {
		m, err := s.Multipart(ctx, e.id)
		if errors.Is(err, media.ErrNotFound) {
			gone = append(gone, s.dequeue(&s.mpQ, e.at, e.id))
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	if err := s.exec(ctx, gone); err != nil {
		return nil, wrap(err, "drop swept queue entries")
	}
	return out, nil
}
