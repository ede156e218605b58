package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"

	"messenger/internal/schemadiff"
)

// The committed snapshot is the schema: a change to schema/*.graphqls
// must come with `make schema-snapshot` (and, when breaking, a CHANGELOG
// entry) in the same commit.
func TestSchemaMatchesCommittedSnapshot(t *testing.T) {
	var out bytes.Buffer
	if err := check("../../schema/*.graphqls", "../../schema/snapshot.graphql", &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSnapshotUpdateRefusesAnUnannouncedBreakingChange(t *testing.T) {
	dir := t.TempDir()
	glob, snap, log := filepath.Join(dir, "*.graphqls"), filepath.Join(dir, "snapshot.graphql"), filepath.Join(dir, "CHANGELOG.md")
	writeFiles(t, dir, map[string]string{"a.graphqls": "type Query { a: Int b: Int }"})
	var out bytes.Buffer
	if err := update(glob, snap, log, &out); err != nil {
		t.Fatalf("first snapshot: %v", err)
	}
	first, _ := os.ReadFile(snap)

	writeFiles(t, dir, map[string]string{"a.graphqls": "type Query { a: Int }", "CHANGELOG.md": "## [Unreleased]\n- nothing yet\n"})
	if err := check(glob, snap, &out); err == nil || !strings.Contains(err.Error(), "BREAKING") {
		t.Fatalf("check of a removed field: %v, want a breaking-change failure", err)
	}
	if err := update(glob, snap, log, &out); err == nil {
		t.Fatal("update accepted a breaking change the changelog does not name")
	}
	if now, _ := os.ReadFile(snap); !bytes.Equal(now, first) {
		t.Fatal("a refused update changed the snapshot")
	}

	writeFiles(t, dir, map[string]string{"CHANGELOG.md": "## [Unreleased]\n### Removed\n- `Query.b`, deprecated for 6 months.\n"})
	if err := update(glob, snap, log, &out); err != nil {
		t.Fatalf("update with the change announced: %v", err)
	}
	if err := check(glob, snap, &out); err != nil {
		t.Fatalf("check after update: %v", err)
	}
}

func TestSafeChangeStillNeedsTheSnapshotUpdated(t *testing.T) {
	dir := t.TempDir()
	glob, snap := filepath.Join(dir, "*.graphqls"), filepath.Join(dir, "snapshot.graphql")
	writeFiles(t, dir, map[string]string{"a.graphqls": "type Query { a: Int }"})
	var out bytes.Buffer
	if err := update(glob, snap, filepath.Join(dir, "CHANGELOG.md"), &out); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{"a.graphqls": "type Query { a: Int b: Int }"})
	out.Reset()
	err := check(glob, snap, &out)
	if err == nil || strings.Contains(err.Error(), "BREAKING") || !strings.Contains(out.String(), "Query.b was added") {
		t.Fatalf("check of an added field: %v\n%s", err, out.String())
	}
	if err := update(glob, snap, filepath.Join(dir, "CHANGELOG.md"), &out); err != nil {
		t.Fatalf("a safe change needs no changelog entry: %v", err)
	}
}

// The README's API tour is the first thing a client developer copies: every
// operation there is named (so it pastes into graphql-codegen and trusted
// documents) and valid against the schema.
func TestReadmeTourOperationsAreNamedAndValid(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, tour, ok := strings.Cut(string(readme), "\n## API tour\n")
	if !ok {
		t.Fatal("no API tour section in the README")
	}
	tour, _, _ = strings.Cut(tour, "\n## ")
	schema, err := schemadiff.LoadFiles("../../schema/*.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```graphql\n(.*?)```").FindAllStringSubmatch(tour, -1)
	if len(blocks) == 0 {
		t.Fatal("no graphql block in the API tour")
	}
	ops := 0
	for _, b := range blocks {
		doc, errs := gqlparser.LoadQueryWithRules(schema, b[1], nil)
		if errs != nil {
			t.Errorf("an API tour operation does not validate: %v", errs)
			continue
		}
		for _, op := range doc.Operations {
			ops++
			if op.Name == "" {
				t.Errorf("an anonymous %s in the API tour: name it", op.Operation)
			}
		}
	}
	if ops < 10 {
		t.Errorf("found only %d operations in the API tour", ops)
	}
}
