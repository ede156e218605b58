package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"messenger/auth"
	"messenger/chat"
	"messenger/lifecycle"
	"messenger/observe"
	"messenger/storage"
)

// adminUsage is the help of `api admin`.
const adminUsage = `usage: api admin <command> [configuration flags] [arguments]

Operator commands, with the same configuration (MESSENGER_* variables or
flags) as the server, on the backends it names:

  find-user <username|id>        print the account as JSON
  ban <username|id>              ban: refuse sign-in and tokens, end every session
  unban <username|id>            lift a ban
  delete-account <username|id>   delete the account (as deleteAccount does, no
                                 password) and run the erasure job now
  export <username|id> [-o file] write the user's data archive to file
                                 (default <username>-export.zip; "-" = stdout)
  reports [-limit n] [-after c]  list user and message reports, oldest first, one
                                 JSON object a line, then "next: <cursor>" if more
`

// adminReports lists reports for `api admin reports` (a variable, so a
// build without reports can leave it nil: the command then says so).
var adminReports = listReports

// listReports prints one page of reports (chat.Service.ListReports), one
// JSON object a line, then the cursor of the next page if there is one.
func listReports(ctx context.Context, env *adminEnv, w io.Writer, limit int, after string) error {
	rs, next, err := env.Chat.ListReports(ctx, limit, after)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	for _, r := range rs {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	if next != "" {
		_, err = fmt.Fprintf(w, "next: %s\n", next)
	}
	return err
}

// runAdmin is `api admin ...`.
func runAdmin(args []string, logger *slog.Logger) error {
	return admin(context.Background(), args, os.Stdout, logger)
}

// adminEnv is what the admin commands run on: the configured backends.
type adminEnv struct {
	Config config
	Store  storage.Store
	Chat   *chat.Service
	Life   *lifecycle.Service
	close  []func()
}

func (e *adminEnv) Close() {
	for i := len(e.close) - 1; i >= 0; i-- {
		e.close[i]()
	}
}

// openAdmin opens the configured backends like the server does (store,
// events log, search), without serving anything.
func openAdmin(ctx context.Context, cfg config, logger *slog.Logger) (*adminEnv, error) {
	env := &adminEnv{Config: cfg}
	ok := false
	defer func() {
		if !ok {
			env.Close()
		}
	}()
	store, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	env.Store = store
	env.close = append(env.close, func() { _ = store.Close() })
	log, err := openLog(ctx, cfg)
	if err != nil {
		return nil, err
	}
	env.close = append(env.close, func() { _ = log.Close() })
	index, err := openSearch(ctx, cfg)
	if err != nil {
		return nil, err
	}
	env.close = append(env.close, func() { _ = index.Close() })
	indexer, stopIndexer, err := startIndexer(ctx, index, store, cfg.SearchFlush, logger)
	if err != nil {
		return nil, err
	}
	env.close = append(env.close, stopIndexer)
	key := []byte(cfg.JWTSecret)
	if len(key) == 0 {
		if key, err = auth.LoadOrCreateKey(filepath.Join(cfg.DataDir, "jwt.key")); err != nil {
			return nil, err
		}
	}
	tokens, err := auth.NewTokens(auth.TokensConfig{Key: key, TTL: cfg.TokenTTL})
	if err != nil {
		return nil, err
	}
	svc, err := chat.New(chat.Config{Store: store, Log: log, Tokens: tokens, Logger: logger, Indexer: indexer, Search: index, FanOutSweep: -1})
	if err != nil {
		return nil, err
	}
	env.Chat = svc
	env.close = append(env.close, svc.Close)
	// Media too: erasing a message drops its files' bytes through it, and
	// archives carry the files.
	mctx, stopMedia := context.WithCancel(ctx) // its sweeper stops before the stores close
	uploads, closeUploads, err := openUploads(mctx, cfg, svc, store, key, observe.New())
	if err != nil {
		stopMedia()
		return nil, err
	}
	env.close = append(env.close, func() { _ = closeUploads() }, stopMedia)
	if env.Life, err = openLifecycle(ctx, cfg, svc, store, uploads.Media, nil, key, logger); err != nil {
		return nil, err
	}
	ok = true
	return env, nil
}

// admin runs one admin command with args, writing its output to w.
func admin(ctx context.Context, args []string, w io.Writer, logger *slog.Logger) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		_, _ = io.WriteString(w, adminUsage)
		return nil
	}
	cmd := args[0]
	flags, pos := splitArgs(args[1:])
	own := map[string]string{"o": "", "limit": "50", "after": ""}
	var rest []string
	for i := 0; i < len(flags); i++ {
		name, val, hasVal := strings.Cut(strings.TrimLeft(flags[i], "-"), "=")
		if _, mine := own[name]; !mine {
			rest = append(rest, flags[i])
			continue
		}
		if !hasVal && i+1 < len(flags) {
			i++
			val = flags[i]
		}
		own[name] = val
	}
	want := 1
	switch cmd {
	case "reports":
		want = 0
	case "find-user", "ban", "unban", "delete-account", "export":
	default:
		return fmt.Errorf("admin: unknown command %q\n%s", cmd, adminUsage)
	}
	if len(pos) != want {
		return fmt.Errorf("admin %s: want %d argument(s), got %q\n%s", cmd, want, pos, adminUsage)
	}
	cfg, err := loadConfig(rest)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	env, err := openAdmin(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer env.Close()
	if cmd == "reports" {
		limit, err := strconv.Atoi(own["limit"])
		if err != nil || limit < 1 {
			return fmt.Errorf("admin reports: -limit wants a positive number, got %q", own["limit"])
		}
		if adminReports == nil {
			return errors.New("admin reports: reports are not available in this build")
		}
		return adminReports(ctx, env, w, limit, own["after"])
	}
	u, err := env.Life.FindUser(ctx, pos[0])
	if err != nil {
		return fmt.Errorf("admin %s %s: %w", cmd, pos[0], err)
	}
	switch cmd {
	case "ban":
		if u, err = env.Life.Ban(ctx, u.ID); err != nil {
			return err
		}
	case "unban":
		if u, err = env.Life.Unban(ctx, u.ID); err != nil {
			return err
		}
	case "delete-account":
		return adminDelete(ctx, env, w, u)
	case "export":
		return adminExport(ctx, env, w, u, own["o"])
	}
	return printUser(w, u)
}

// printUser writes the account as one JSON object (no password hash).
func printUser(w io.Writer, u storage.User) error {
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		ID          string     `json:"id"`
		Username    string     `json:"username"`
		DisplayName string     `json:"displayName"`
		CreatedAt   time.Time  `json:"createdAt"`
		BannedAt    *time.Time `json:"bannedAt"`
		DeletedAt   *time.Time `json:"deletedAt"`
	}{u.ID, u.Username, u.DisplayName, u.CreatedAt, opt(u.BannedAt), opt(u.DeletedAt)})
}

// adminDelete deletes the account and runs the erasure now (a running API
// instance would resume it too, as it does any unfinished job).
func adminDelete(ctx context.Context, env *adminEnv, w io.Writer, u storage.User) error {
	d, err := env.Life.DeleteAccountByOperator(ctx, u.ID)
	if err != nil {
		return err
	}
	if _, err := env.Life.Jobs().RunPending(ctx); err != nil {
		return err
	}
	j, err := env.Store.Job(ctx, d.JobID)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "deleted %s (%s): messages erased; job %s is %s at %q; username released at %s\n",
		u.ID, u.UsernameKey, j.ID, j.State, j.Progress, d.UsernameReleasedAt.Format(time.RFC3339))
	return err
}

// adminExport writes the user's archive to a file (or w for "-").
func adminExport(ctx context.Context, env *adminEnv, w io.Writer, u storage.User, out string) error {
	if out == "-" {
		return env.Life.WriteArchive(ctx, u.ID, w)
	}
	if out == "" {
		out = u.UsernameKey + "-export.zip"
	}
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("admin export: %w", err)
	}
	if err := env.Life.WriteArchive(ctx, u.ID, f); err != nil {
		_ = f.Close()
		_ = os.Remove(out)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "wrote %s\n", out)
	return err
}

// splitArgs separates flags (each with its value: every flag here takes
// one) from positional arguments, so they may come in any order.
func splitArgs(args []string) (flags, positional []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return flags, append(positional, args[i+1:]...)
		case len(a) > 1 && a[0] == '-' && a != "-":
			flags = append(flags, a)
			if !strings.Contains(a, "=") && i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
		default:
			positional = append(positional, a)
		}
	}
	return flags, positional
}
