// Package cold is the cold tier of message history: the segment format old
// buckets are compacted into, and the mover that puts them in object storage
// (S3/MinIO) and takes them out of the hot store, one bucket at a time,
// resumably and safely from several processes (docs/cold-tier.md).
package cold

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/klauspost/compress/zstd"

	"messenger/storage"
)

// Magic starts every segment; the digit is the format version.
const Magic = "MCOLD001"

// maxHeader bounds the header a decoder accepts, so a corrupt length cannot
// make it allocate without limit.
const maxHeader = 64 << 10

// maxPayload bounds a segment's decompressed payload (a bucket is at most
// 1,000 messages of a few KB each).
const maxPayload = 256 << 20

// ErrCorrupt is returned by Decode when a segment is malformed or its
// checksum does not match.
var ErrCorrupt = errors.New("cold: corrupt segment")

// Record is one message as a segment stores it: the message as it was when
// its bucket was moved, with the users who had hidden it for themselves.
type Record struct {
	storage.Message
	HiddenBy []string `json:",omitempty"`
}

// Header describes a segment; it is stored in front of the payload
// uncompressed, so a reader can check what it got before decompressing.
type Header struct {
	ConversationID string `json:"conversation"`
	Bucket         int64  `json:"bucket"`
	FirstSeq       int64  `json:"first_seq"`
	LastSeq        int64  `json:"last_seq"`
	Count          int    `json:"count"`
	Codec          string `json:"codec"`
	// PayloadSHA256 is the hex SHA-256 of the compressed payload that
	// follows the header.
	PayloadSHA256 string `json:"payload_sha256"`
	RawBytes      int64  `json:"raw_bytes"`
}

// Encode compacts the records of one bucket (any order; they are stored by
// seq) into a segment: Magic, a 4-byte big-endian header length, the JSON
// header, then the zstd-compressed JSON array of records. It returns the
// segment and its SHA-256 (hex, over the whole segment). The same records
// always give the same bytes.
func Encode(conversationID string, bucket int64, records []Record) ([]byte, string, error) {
	recs := slices.Clone(records)
	slices.SortFunc(recs, func(a, b Record) int { return int(a.Seq - b.Seq) })
	raw, err := json.Marshal(recs)
	if err != nil {
		return nil, "", fmt.Errorf("cold: encode %s/%d: %w", conversationID, bucket, err)
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return nil, "", fmt.Errorf("cold: encode %s/%d: %w", conversationID, bucket, err)
	}
	payload := enc.EncodeAll(raw, nil)
	_ = enc.Close()
	sum := sha256.Sum256(payload)
	h := Header{ConversationID: conversationID, Bucket: bucket, Count: len(recs), Codec: "zstd",
		PayloadSHA256: hex.EncodeToString(sum[:]), RawBytes: int64(len(raw))}
	if len(recs) > 0 {
		h.FirstSeq, h.LastSeq = recs[0].Seq, recs[len(recs)-1].Seq
	}
	hj, err := json.Marshal(h)
	if err != nil {
		return nil, "", fmt.Errorf("cold: encode %s/%d: %w", conversationID, bucket, err)
	}
	var buf bytes.Buffer
	buf.WriteString(Magic)
	_ = binary.Write(&buf, binary.BigEndian, uint32(len(hj)))
	buf.Write(hj)
	buf.Write(payload)
	whole := sha256.Sum256(buf.Bytes())
	return buf.Bytes(), hex.EncodeToString(whole[:]), nil
}

// Decode checks and opens a segment: the magic, the header, the payload's
// checksum, and that the records are the header's count, in seq order,
// within [FirstSeq, LastSeq]. Any mismatch is ErrCorrupt.
func Decode(data []byte) (Header, []Record, error) {
	h, payload, err := split(data)
	if err != nil {
		return h, nil, err
	}
	sum := sha256.Sum256(payload)
	if hex.EncodeToString(sum[:]) != h.PayloadSHA256 {
		return h, nil, fmt.Errorf("%w: payload checksum mismatch", ErrCorrupt)
	}
	if h.Codec != "zstd" || h.RawBytes < 0 || h.RawBytes > maxPayload {
		return h, nil, fmt.Errorf("%w: codec %q, %d bytes", ErrCorrupt, h.Codec, h.RawBytes)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxPayload))
	if err != nil {
		return h, nil, fmt.Errorf("cold: decode: %w", err)
	}
	defer dec.Close()
	raw, err := dec.DecodeAll(payload, make([]byte, 0, min(h.RawBytes, 1<<20)))
	if err != nil || int64(len(raw)) != h.RawBytes {
		return h, nil, fmt.Errorf("%w: payload: %v", ErrCorrupt, err)
	}
	var recs []Record
	if err := json.Unmarshal(raw, &recs); err != nil {
		return h, nil, fmt.Errorf("%w: records: %v", ErrCorrupt, err)
	}
	if len(recs) != h.Count {
		return h, nil, fmt.Errorf("%w: %d records, header says %d", ErrCorrupt, len(recs), h.Count)
	}
	for i, r := range recs {
		if r.Seq < h.FirstSeq || r.Seq > h.LastSeq || i > 0 && r.Seq <= recs[i-1].Seq {
			return h, nil, fmt.Errorf("%w: record %d out of order", ErrCorrupt, r.Seq)
		}
		recs[i].ConversationID = h.ConversationID
		recs[i].ID = storage.MessageID(h.ConversationID, r.Seq)
	}
	return h, recs, nil
}

// ParseHeader reads a segment's header without checking or opening its
// payload.
func ParseHeader(data []byte) (Header, error) {
	h, _, err := split(data)
	return h, err
}

func split(data []byte) (Header, []byte, error) {
	var h Header
	if len(data) < len(Magic)+4 || string(data[:len(Magic)]) != Magic {
		return h, nil, fmt.Errorf("%w: bad magic", ErrCorrupt)
	}
	n := binary.BigEndian.Uint32(data[len(Magic):])
	rest := data[len(Magic)+4:]
	if n > maxHeader || int(n) > len(rest) {
		return h, nil, fmt.Errorf("%w: bad header length", ErrCorrupt)
	}
	if err := json.Unmarshal(rest[:n], &h); err != nil {
		return h, nil, fmt.Errorf("%w: header: %v", ErrCorrupt, err)
	}
	return h, rest[n:], nil
}

// ReadAll reads a whole segment from r, refusing more than limit bytes.
func ReadAll(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrCorrupt, limit)
	}
	return data, nil
}

// Key is the object key of a segment: per conversation and bucket, with the
// segment's checksum in the name, so two movers that snapshot different
// contents never overwrite each other and a retry of the same content
// lands on the same object.
func Key(prefix, conversationID string, bucket int64, sha string) string {
	return fmt.Sprintf("%scold/%s/%010d-%s.seg", prefix, conversationID, bucket, sha[:16])
}
