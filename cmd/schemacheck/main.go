// Command schemacheck compares the public schema (schema/*.graphqls) with
// its committed snapshot (schema/snapshot.graphql) and lists every
// difference as breaking or safe.
//
//	go run ./cmd/schemacheck           # exit 1 when the schema differs from the snapshot
//	go run ./cmd/schemacheck -update   # rewrite the snapshot (make schema-snapshot)
//
// -update refuses a breaking change unless CHANGELOG.md names its
// coordinate (e.g. `Query.legacySearch`) under "## [Unreleased]", so a
// breaking change lands with the snapshot and its changelog entry in the
// same commit. Run it from the repository's root.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"messenger/internal/schemadiff"
)

func main() {
	schema := flag.String("schema", "schema/*.graphqls", "glob of the schema's SDL files")
	snapshot := flag.String("snapshot", "schema/snapshot.graphql", "the committed snapshot")
	changelog := flag.String("changelog", "CHANGELOG.md", "changelog whose Unreleased section must name breaking changes")
	write := flag.Bool("update", false, "rewrite the snapshot from the schema")
	flag.Parse()
	var err error
	if *write {
		err = update(*schema, *snapshot, *changelog, os.Stdout)
	} else {
		err = check(*schema, *snapshot, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "schemacheck:", err)
		os.Exit(1)
	}
}

// compare loads the schema and the snapshot (an empty schema when there
// is none yet) and returns the schema's printed form and the changes from
// the snapshot to it.
func compare(schemaGlob, snapshotPath string) (printed string, changes []schemadiff.Change, same bool, err error) {
	cur, err := schemadiff.LoadFiles(schemaGlob)
	if err != nil {
		return "", nil, false, err
	}
	printed = schemadiff.Print(cur)
	old, err := os.ReadFile(snapshotPath)
	if errors.Is(err, os.ErrNotExist) {
		return printed, nil, false, nil
	}
	if err != nil {
		return "", nil, false, fmt.Errorf("read snapshot: %w", err)
	}
	prev, err := schemadiff.Load(snapshotPath, string(old))
	if err != nil {
		return "", nil, false, err
	}
	return printed, schemadiff.Diff(prev, cur), string(old) == printed, nil
}

// check fails when the schema differs from the snapshot, listing each
// change with its class.
func check(schemaGlob, snapshotPath string, w io.Writer) error {
	_, changes, same, err := compare(schemaGlob, snapshotPath)
	if err != nil {
		return err
	}
	if same {
		return nil
	}
	for _, c := range changes {
		_, _ = fmt.Fprintln(w, c)
	}
	if schemadiff.HasBreaking(changes) {
		return fmt.Errorf("the schema has BREAKING changes against %s: name each coordinate under \"## [Unreleased]\" in CHANGELOG.md, then run `make schema-snapshot`", snapshotPath)
	}
	return fmt.Errorf("the schema differs from %s (safe changes only): run `make schema-snapshot` and commit it", snapshotPath)
}

// update rewrites the snapshot, unless a breaking change is not named in
// the changelog's Unreleased section.
func update(schemaGlob, snapshotPath, changelogPath string, w io.Writer) error {
	printed, changes, same, err := compare(schemaGlob, snapshotPath)
	if err != nil {
		return err
	}
	if same {
		_, _ = fmt.Fprintf(w, "%s is up to date\n", snapshotPath)
		return nil
	}
	for _, c := range changes {
		_, _ = fmt.Fprintln(w, c)
	}
	if schemadiff.HasBreaking(changes) {
		log, err := os.ReadFile(changelogPath)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("read changelog: %w", err)
		}
		if missing := schemadiff.Unannounced(changes, string(log)); len(missing) > 0 {
			for _, c := range missing {
				_, _ = fmt.Fprintf(w, "not in %s under Unreleased: `%s`\n", changelogPath, c.Coordinate)
			}
			return fmt.Errorf("refusing a breaking change that %s does not announce: add each coordinate above, in backticks, under \"## [Unreleased]\"", changelogPath)
		}
	}
	if err := os.WriteFile(snapshotPath, []byte(printed), 0o644); err != nil { //nolint:gosec // G306: a source file of the repository, readable like the others
		return fmt.Errorf("write snapshot: %w", err)
	}
	_, _ = fmt.Fprintf(w, "wrote %s (%d changes)\n", snapshotPath, len(changes))
	return nil
}
