package pebblekv

import (
	"fmt"
	"log/slog"
	"os"
)

// QuietLogger is the pebble.Options.Logger of both backends: it drops
// Pebble's informational messages (they would interleave with the API's
// structured logs), logs its errors with slog, and ends the process on a
// fatal one, as Pebble expects of a Fatalf.
type QuietLogger struct{}

// Infof drops the message.
func (QuietLogger) Infof(string, ...any) {}

// Errorf logs the error with slog.
func (QuietLogger) Errorf(format string, args ...any) {
	slog.Error(fmt.Sprintf("pebble: "+format, args...))
}

// Fatalf logs the error and exits: Pebble calls it when it cannot go on.
func (QuietLogger) Fatalf(format string, args ...any) {
	slog.Error(fmt.Sprintf("pebble: "+format, args...))
	os.Exit(1)
}
