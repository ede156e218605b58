package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"messenger/auth"
	"messenger/chat"
	"messenger/cql"
	"messenger/cql/cqltest"
	"messenger/realtime/memlog"
	"messenger/storage"
	"messenger/storage/cassandra"
	"messenger/storage/pebble"
)

// adminData makes a data directory with alice and bob in a group, alice
// having sent a few messages: in the embedded store, or in a fresh
// Cassandra keyspace when cassandraKeyspace is set (then the commands use
// it through MESSENGER_CASSANDRA_*). Other servers of the environment are
// switched off: the commands run on the embedded rest.
func adminData(t *testing.T, cassandraKeyspace string) string {
	t.Helper()
	for _, v := range []string{"MESSENGER_CASSANDRA_HOSTS", "MESSENGER_REDIS_ADDRS", "MESSENGER_OPENSEARCH_URL", "MESSENGER_S3_ENDPOINT"} {
		if v != "MESSENGER_CASSANDRA_HOSTS" || cassandraKeyspace == "" {
			t.Setenv(v, "")
		}
	}
	dir := t.TempDir()
	var store storage.Store
	var err error
	if cassandraKeyspace != "" {
		t.Setenv("MESSENGER_CASSANDRA_KEYSPACE", cassandraKeyspace)
		store, err = cassandra.Open(context.Background(), cql.Config{Hosts: strings.Split(os.Getenv("MESSENGER_CASSANDRA_HOSTS"), ","), Keyspace: cassandraKeyspace})
	} else {
		store, err = pebble.Open(pebble.Config{Dir: filepath.Join(dir, "store"), NoSync: true})
	}
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	tokens, _ := auth.NewTokens(auth.TokensConfig{Key: []byte(strings.Repeat("k", 32))})
	svc, err := chat.New(chat.Config{Store: store, Log: memlog.New(memlog.Config{}), Tokens: tokens, FanOutSweep: -1,
		PasswordCost: auth.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	ctx := context.Background()
	alice, err := svc.SignUp(ctx, "alice", "password1", "Alice")
	if err != nil {
		t.Fatal(err)
	}
	bob, err := svc.SignUp(ctx, "bob", "password1", "Bob")
	if err != nil {
		t.Fatal(err)
	}
	g, err := svc.CreateGroup(ctx, alice.User.ID, "g", []string{bob.User.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ReportUser(ctx, bob.User.ID, alice.User.ID, chat.ReasonSpam, "sells things"); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{"one", "two", "three"} {
		if _, err := svc.Send(ctx, alice.User.ID, g.ID, body, "alice: "+body); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.Send(ctx, bob.User.ID, g.ID, "b", "bob's secret"); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runAdminCmd runs `api admin args... -data-dir dir` and returns its output.
func runAdminCmd(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := admin(context.Background(), append(args, "-data-dir", dir), &out, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return out.String(), err
}

type adminUser struct {
	ID, Username        string
	BannedAt, DeletedAt *string
}

func findUser(t *testing.T, dir, who string) adminUser {
	t.Helper()
	out, err := runAdminCmd(t, dir, "find-user", who)
	if err != nil {
		t.Fatalf("find-user %s: %v", who, err)
	}
	var u adminUser
	if err := json.Unmarshal([]byte(out), &u); err != nil {
		t.Fatalf("find-user output %q: %v", out, err)
	}
	return u
}

func TestAdminBanAndUnban(t *testing.T) {
	dir := adminData(t, "")
	alice := findUser(t, dir, "ALICE")
	if alice.Username != "alice" || alice.BannedAt != nil {
		t.Fatalf("find-user: %+v", alice)
	}
	if _, err := runAdminCmd(t, dir, "ban", "alice"); err != nil {
		t.Fatalf("ban: %v", err)
	}
	if u := findUser(t, dir, alice.ID); u.BannedAt == nil {
		t.Fatalf("after ban: %+v", u)
	}
	if _, err := runAdminCmd(t, dir, "unban", "@alice"); err != nil {
		t.Fatalf("unban: %v", err)
	}
	if u := findUser(t, dir, "alice"); u.BannedAt != nil {
		t.Fatalf("after unban: %+v", u)
	}
}

func TestAdminExportWritesTheArchive(t *testing.T) {
	dir := adminData(t, "")
	file := filepath.Join(t.TempDir(), "a.zip")
	if out, err := runAdminCmd(t, dir, "export", "alice", "-o", file); err != nil || !strings.Contains(out, file) {
		t.Fatalf("export: %q %v", out, err)
	}
	z, err := zip.OpenReader(file)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	for _, f := range z.File {
		if f.Name != "messages.json" {
			continue
		}
		r, _ := f.Open()
		b, _ := io.ReadAll(r)
		r.Close()
		if !bytes.Contains(b, []byte("alice: three")) || bytes.Contains(b, []byte("bob's secret")) {
			t.Fatalf("messages.json: %s", b)
		}
		return
	}
	t.Fatal("no messages.json in the archive")
}

func TestAdminDeleteAccountErasesAtOnce(t *testing.T) {
	dir := adminData(t, "")
	out, err := runAdminCmd(t, dir, "delete-account", "alice")
	if err != nil || !strings.Contains(out, "messages erased") {
		t.Fatalf("delete-account: %q %v", out, err)
	}
	u := findUser(t, dir, "alice") // the username stays claimed during quarantine
	if u.DeletedAt == nil || u.Username != "deleted" {
		t.Fatalf("after delete-account: %+v", u)
	}
	file := filepath.Join(t.TempDir(), "a.zip")
	if _, err := runAdminCmd(t, dir, "export", u.ID, "-o", file); err != nil {
		t.Fatal(err)
	}
	z, _ := zip.OpenReader(file)
	defer z.Close()
	for _, f := range z.File {
		r, _ := f.Open()
		b, _ := io.ReadAll(r)
		r.Close()
		if bytes.Contains(b, []byte("alice: ")) {
			t.Fatalf("%s still holds alice's words after deletion: %s", f.Name, b)
		}
	}
}

func TestAdminRefusesBadCommands(t *testing.T) {
	dir := adminData(t, "")
	for _, args := range [][]string{
		{"frobnicate", "alice"},
		{"ban"},
		{"ban", "alice", "bob"},
		{"ban", "nobody"},
		{"reports", "-limit", "0"},
	} {
		if _, err := runAdminCmd(t, dir, args...); err == nil {
			t.Errorf("admin %q: no error", args)
		}
	}
	if out, err := runAdminCmd(t, dir, "help"); err != nil || !strings.Contains(out, "delete-account") {
		t.Fatalf("help: %q %v", out, err)
	}
}

func TestAdminOnCassandra(t *testing.T) {
	cfg := cqltest.Config(t, "test_admin_")
	t.Cleanup(func() {
		if sess, err := cql.Open(context.Background(), cfg); err == nil {
			cqltest.DropKeyspace(t, sess.Session, cfg.Keyspace)
			sess.Close()
		}
	})
	dir := adminData(t, cfg.Keyspace)
	if _, err := runAdminCmd(t, dir, "ban", "alice"); err != nil {
		t.Fatalf("ban: %v", err)
	}
	if u := findUser(t, dir, "alice"); u.BannedAt == nil {
		t.Fatalf("after ban: %+v", u)
	}
	if out, err := runAdminCmd(t, dir, "delete-account", "bob"); err != nil || !strings.Contains(out, "messages erased") {
		t.Fatalf("delete-account: %q %v", out, err)
	}
	if u := findUser(t, dir, "bob"); u.DeletedAt == nil || u.Username != "deleted" {
		t.Fatalf("after delete-account: %+v", u)
	}
}

func TestAdminReportsListsWhatWasFiled(t *testing.T) {
	dir := adminData(t, "")
	out, err := runAdminCmd(t, dir, "reports", "-limit", "10")
	if err != nil || !strings.Contains(out, "sells things") || !strings.Contains(out, "SPAM") {
		t.Fatalf("reports: %q %v", out, err)
	}
}
