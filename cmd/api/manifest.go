package main

import (
	"encoding/json"
	"errors"
	"log/slog"
	"os"

	"messenger/persisted"
)

// runManifest prints a trusted documents manifest (Apollo's persisted query
// manifest format) made from .graphql files:
//
//	go run ./cmd/api manifest ops/*.graphql > manifest.json
func runManifest(args []string, _ *slog.Logger) error {
	if len(args) == 0 {
		return errors.New("usage: api manifest FILE.graphql... > manifest.json")
	}
	sources := map[string]string{}
	for _, path := range args {
		b, err := os.ReadFile(path) //nolint:gosec // G703: the operator names the .graphql files on the command line
		if err != nil {
			return err
		}
		sources[path] = string(b)
	}
	m, err := persisted.BuildManifest(sources)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(m)
}
