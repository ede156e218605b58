package bleve

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"

	blevesearch "github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
)

// The index is derived data: durable storage can always rebuild it, so an
// index that cannot be used must never stop the API from starting. A crash
// can leave one (before the persister first wrote it, a generation had no
// mapping on disk; newGen now prevents that), and so can a damaged disk or
// a hand edit. Open then sets the generation aside, for inspection, and
// starts empty; the indexer notices an index that was never in sync and
// rebuilds it from the store in the background.

// keepBroken is how many set-aside generations are kept (the newest).
const keepBroken = 2

// brokenMark separates a set-aside generation's name from when it was set
// aside.
const brokenMark = ".broken-"

// openLive opens the generation CURRENT names and removes the other
// generations (unfinished: a first start or a rebuild that crashed). It
// returns nil, and no error, when there is no usable generation: none was
// ever made live (no CURRENT), or CURRENT cannot be read, names no
// generation, or names one that does not open (missing or corrupt mapping,
// metadata, root or segment; see verify). In those cases the generation is
// set aside and the reason logged. An error is only what a fresh index
// would fail on too (Dir cannot be read).
func (b *Index) openLive() (*indexes, error) {
	name, err := b.readCurrent()
	if errors.Is(err, fs.ErrNotExist) {
		return nil, b.removeGenerations("")
	}
	if err == nil {
		g, oerr := openGen(filepath.Join(b.dir, name))
		if oerr == nil {
			return g, b.removeGenerations(name)
		}
		err = oerr
	}
	// What CURRENT named, or every generation when it names none.
	names := []string{name}
	if name == "" {
		names = b.generations("")
	}
	aside := b.setAside(names)
	b.log.Warn("search index unusable: set aside, starting empty; the indexer rebuilds it from the store in the background",
		"err", err, "set_aside_as", aside)
	if err := os.Remove(filepath.Join(b.dir, "CURRENT")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("search: remove CURRENT: %w", err)
	}
	return nil, b.removeGenerations("")
}

// readCurrent returns the generation CURRENT names: a plain directory name.
func (b *Index) readCurrent() (string, error) {
	raw, err := os.ReadFile(filepath.Join(b.dir, "CURRENT"))
	if err != nil {
		return "", fmt.Errorf("search: read CURRENT: %w", err)
	}
	name := strings.TrimSpace(string(raw))
	if name == "" || name == "." || name == ".." || name != filepath.Base(name) ||
		strings.Contains(name, brokenMark) || strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return "", fmt.Errorf("search: CURRENT names no generation: %q", raw)
	}
	return name, nil
}

// setAside renames each generation of names to <name>.broken-<time> and
// keeps only the newest keepBroken set-aside generations. It returns the
// new paths. Failures are logged: a generation that cannot even be moved
// is removed by removeGenerations.
func (b *Index) setAside(names []string) []string {
	var aside []string
	at := time.Now().UTC().Format("20060102T150405.000Z")
	for _, name := range names {
		to := filepath.Join(b.dir, name+brokenMark+at)
		if err := os.Rename(filepath.Join(b.dir, name), to); err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				b.log.Warn("search: setting an unusable index aside failed; removing it", "err", err)
			}
			continue
		}
		aside = append(aside, to)
	}
	entries, err := os.ReadDir(b.dir)
	if err != nil {
		b.log.Warn("search: listing set-aside indexes failed", "err", err)
		return aside
	}
	var broken []string
	for _, e := range entries {
		if e.IsDir() && strings.Contains(e.Name(), brokenMark) {
			broken = append(broken, e.Name())
		}
	}
	// Names sort by generation, then by when they were set aside: close
	// enough to oldest first.
	slices.SortFunc(broken, func(x, y string) int { return strings.Compare(brokenTime(x), brokenTime(y)) })
	for len(broken) > keepBroken {
		if err := os.RemoveAll(filepath.Join(b.dir, broken[0])); err != nil {
			b.log.Warn("search: removing an old set-aside index failed", "err", err)
		}
		broken = broken[1:]
	}
	return aside
}

func brokenTime(name string) string {
	_, t, _ := strings.Cut(name, brokenMark)
	return t
}

// generations lists the generation directories but keep: every directory
// that was not set aside.
func (b *Index) generations(keep string) []string {
	entries, _ := os.ReadDir(b.dir) // an unreadable Dir fails removeGenerations
	var out []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != keep && !strings.Contains(e.Name(), brokenMark) {
			out = append(out, e.Name())
		}
	}
	return out
}

// removeGenerations removes every generation directory but keep (and the
// set-aside ones), and a CURRENT.tmp left by a crash.
func (b *Index) removeGenerations(keep string) error {
	if _, err := os.ReadDir(b.dir); err != nil {
		return fmt.Errorf("search: list %s: %w", b.dir, err)
	}
	for _, n := range append(b.generations(keep), "CURRENT.tmp") {
		if err := os.RemoveAll(filepath.Join(b.dir, n)); err != nil {
			return fmt.Errorf("search: remove unfinished index %s: %w", n, err)
		}
		if n != "CURRENT.tmp" {
			b.log.Info("search: removed an unfinished index generation", "generation", n)
		}
	}
	return nil
}

// verify checks the checksum of every segment file the index's current
// snapshot uses. A flipped byte inside a segment passes bleve's open and
// panics a later search or write instead; segment files are immutable once
// in a snapshot, so reading them while the merger runs is safe. The cost
// is one read of the index at start.
func verify(idx blevesearch.Index) error {
	adv, err := idx.Advanced()
	if err != nil {
		return err
	}
	r, err := adv.Reader()
	if err != nil {
		return err
	}
	defer func() { _ = r.Close() }()
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		return nil
	}
	for _, s := range snap.Segments() {
		if p, ok := s.Segment().(interface{ Path() string }); ok {
			if err := verifySegment(p.Path()); err != nil {
				return err
			}
		}
	}
	return nil
}

// verifySegment compares a zap segment's CRC-32 (IEEE) of everything
// before its last 4 bytes with those bytes (big-endian), as zap writes it.
func verifySegment(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.Size() < 4 {
		return fmt.Errorf("segment %s: truncated", filepath.Base(path))
	}
	h := crc32.NewIEEE()
	if _, err := io.CopyN(h, f, st.Size()-4); err != nil {
		return fmt.Errorf("segment %s: %w", filepath.Base(path), err)
	}
	var sum [4]byte
	if _, err := io.ReadFull(f, sum[:]); err != nil {
		return fmt.Errorf("segment %s: %w", filepath.Base(path), err)
	}
	if binary.BigEndian.Uint32(sum[:]) != h.Sum32() {
		return fmt.Errorf("segment %s: checksum mismatch", filepath.Base(path))
	}
	return nil
}

// writeSynced writes a file and flushes it to disk.
func writeSynced(path string, data []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// syncDir flushes a directory's entries (a rename in it) to disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
