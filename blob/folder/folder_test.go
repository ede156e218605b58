package folder_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"messenger/blob"
	"messenger/blob/blobtest"
	"messenger/blob/folder"
)

func TestFolderStoreContract(t *testing.T) {
	blobtest.Run(t, newTestStore)
}

func TestFolderStoreMultipartContract(t *testing.T) {
	blobtest.RunMultipart(t, newTestStore)
}

func newTestStore(t *testing.T) blob.Store {
	var s *folder.Store
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	s, err := folder.Open(folder.Config{Dir: t.TempDir(), Secret: []byte(strings.Repeat("k", 32)), BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = s.Handler()
	return s
}
