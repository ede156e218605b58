package main

import (
	"os"
	"runtime/debug"
	"testing"
)

func TestGarbageCollectorTargetIs400UnlessGOGCIsSet(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	t.Setenv("GOGC", "") // restored after the test
	os.Unsetenv("GOGC")
	if got := tuneGC(); got != 400 || debug.SetGCPercent(400) != 400 {
		t.Fatalf("without GOGC the target is %d, want 400", got)
	}
	t.Setenv("GOGC", "150")
	debug.SetGCPercent(150) // what the runtime read from GOGC at start
	if got := tuneGC(); got != 150 || debug.SetGCPercent(150) != 150 {
		t.Fatalf("with GOGC=150 the target is %d, want the operator's 150", got)
	}
}
