package cql

import (
	"slices"
	"testing"
)

func TestStatementsSplitAtLineEndSemicolonsAndDropComments(t *testing.T) {
	text := "-- a table\nCREATE TABLE a (\n  id int PRIMARY KEY -- the key\n);\n\nCREATE TABLE b (id int PRIMARY KEY)"
	got := Statements(text)
	want := []string{"CREATE TABLE a (\n  id int PRIMARY KEY \n)", "CREATE TABLE b (id int PRIMARY KEY)"}
	if !slices.Equal(got, want) {
		t.Fatalf("Statements = %q, want %q", got, want)
	}
}

func TestTableIDIsStablePerNamespace(t *testing.T) {
	a, b := TableID("messenger.cassandra", "ks", "t"), TableID("messenger.media.cassandra", "ks", "t")
	if a != TableID("messenger.cassandra", "ks", "t") || a == b {
		t.Fatalf("TableID: %s, %s", a, b)
	}
}
