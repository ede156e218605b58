package server_test

import (
	"context"
	"strings"
	"testing"

	"messenger/apitest"
	"messenger/blob/folder"
	"messenger/lifecycle"
	"messenger/server"
)

// lifecycleAPI is the API with account deletion and data export, whose
// jobs the test runs by hand.
func lifecycleAPI(t *testing.T) (string, *lifecycle.Service) {
	t.Helper()
	e := newEmbedded(t, apiOptions{})
	blobs, err := folder.Open(folder.Config{Dir: t.TempDir(), Secret: []byte(strings.Repeat("s", 32)), BaseURL: "http://api.test"})
	if err != nil {
		t.Fatal(err)
	}
	l, err := lifecycle.New(lifecycle.Config{Store: e.Store, Domain: e.Chat, Blobs: blobs, TempDir: t.TempDir(), Runner: lifecycle.RunnerConfig{Poll: -1}})
	if err != nil {
		t.Fatal(err)
	}
	_, url := e.serve(t, server.Config{Lifecycle: l})
	return url, l
}

const exportFields = `id status requestedAt finishedAt expiresAt url urlExpiresAt`

type exportOut struct {
	ID, Status string
	URL        *string
}

func TestDataExportThroughTheAPI(t *testing.T) {
	url, l := lifecycleAPI(t)
	alice := apitest.SignUp(t, url, "alice")
	var none struct{ DataExport *exportOut }
	alice.Must(t, `{ dataExport { `+exportFields+` } }`, nil, &none)
	if none.DataExport != nil {
		t.Fatalf("an export before any was asked for: %+v", none.DataExport)
	}
	var req struct{ RequestDataExport exportOut }
	alice.Must(t, `mutation { requestDataExport { `+exportFields+` } }`, nil, &req)
	if req.RequestDataExport.Status != "PENDING" || req.RequestDataExport.URL != nil {
		t.Fatalf("requestDataExport: %+v", req.RequestDataExport)
	}
	if _, err := l.Jobs().RunPending(context.Background()); err != nil {
		t.Fatal(err)
	}
	var got struct{ DataExport exportOut }
	alice.Must(t, `{ dataExport { `+exportFields+` } }`, nil, &got)
	if got.DataExport.ID != req.RequestDataExport.ID || got.DataExport.Status != "READY" || got.DataExport.URL == nil {
		t.Fatalf("dataExport after the job: %+v", got.DataExport)
	}
	e := alice.Refused(t, "RATE_LIMITED", `mutation { requestDataExport { id } }`, nil)
	if e.Extensions["retryAt"] == nil {
		t.Fatalf("RATE_LIMITED without retryAt: %+v", e)
	}
	(&apitest.Client{URL: url}).Refused(t, "UNAUTHENTICATED", `mutation { requestDataExport { id } }`, nil)
}

func TestDeleteAccountThroughTheAPI(t *testing.T) {
	url, _ := lifecycleAPI(t)
	alice, bob := apitest.SignUp(t, url, "alice"), apitest.SignUp(t, url, "bob")
	e := alice.Refused(t, "BAD_USER_INPUT", `mutation($p: String!) { deleteAccount(password: $p) { deletedAt } }`, map[string]any{"p": "not my password"})
	if e.Extensions["field"] != "password" {
		t.Fatalf("wrong password: %+v, want field password", e)
	}
	var me struct{ Me struct{ Deleted bool } }
	alice.Must(t, `{ me { deleted } }`, nil, &me) // nothing changed
	var out struct {
		DeleteAccount struct{ DeletedAt, UsernameReleasedAt string }
	}
	alice.Must(t, `mutation($p: String!) { deleteAccount(password: $p) { deletedAt usernameReleasedAt } }`,
		map[string]any{"p": "password-" + alice.Username}, &out)
	if out.DeleteAccount.DeletedAt == "" || out.DeleteAccount.UsernameReleasedAt <= out.DeleteAccount.DeletedAt {
		t.Fatalf("deleteAccount: %+v", out.DeleteAccount)
	}
	alice.Refused(t, "UNAUTHENTICATED", `{ me { id } }`, nil)
	var seen struct {
		User struct {
			Username, DisplayName string
			Deleted               bool
		}
	}
	bob.Must(t, `query($id: ID!) { user(id: $id) { username displayName deleted } }`, map[string]any{"id": alice.UserID}, &seen)
	if !seen.User.Deleted || seen.User.DisplayName != "Deleted account" || seen.User.Username != "deleted" {
		t.Fatalf("bob sees alice as %+v, want the tombstone", seen.User)
	}
}

func TestLifecycleWithoutTheServiceIsUnavailable(t *testing.T) {
	url := newAPI(t, apiOptions{})
	alice := apitest.SignUp(t, url, "alice")
	alice.Refused(t, "UNAVAILABLE", `mutation { requestDataExport { id } }`, nil)
	alice.Refused(t, "UNAVAILABLE", `mutation { deleteAccount(password: "x") { deletedAt } }`, nil)
}
