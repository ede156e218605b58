package bleve_test

import (
	"testing"

	"messenger/search"
	"messenger/search/bleve"
	"messenger/search/searchtest"
)

func TestBleve(t *testing.T) {
	searchtest.Run(t, func(t *testing.T) search.Index {
		idx, err := bleve.Open(bleve.Config{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { idx.Close() })
		return idx
	})
}
