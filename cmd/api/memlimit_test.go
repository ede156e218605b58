package main

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestParseMemoryLimitReadsSizesAndRefusesNonsense(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"512MiB", 512 << 20}, {"1GiB", 1 << 30}, {" 1.5 gib ", 3 << 29}, {"400MB", 400e6},
		{"2GB", 2e9}, {"33554432", 32 << 20}, {"65536KiB", 64 << 20}, {"off", math.MaxInt64},
		{"OFF", math.MaxInt64}, {"0", math.MaxInt64}, {"0MiB", math.MaxInt64},
	} {
		got, err := parseMemoryLimit(c.in)
		if err != nil || got != c.want {
			t.Errorf("parseMemoryLimit(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "lots", "-1GiB", "12XB", "1MiB", "NaN", "1e30GiB", "MiB"} {
		if got, err := parseMemoryLimit(bad); err == nil {
			t.Errorf("parseMemoryLimit(%q) = %d, want an error", bad, got)
		}
	}
}

func TestMemoryLimitAppliesTheSettingElseGOMEMLIMITElseTheDefault(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	env := func(kv map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
	}

	got, err := tuneMemoryLimit(env(map[string]string{"MESSENGER_MEMORY_LIMIT": "256MiB", "GOMEMLIMIT": "1GiB"}))
	if err != nil || got != 256<<20 || debug.SetMemoryLimit(-1) != 256<<20 {
		t.Fatalf("MESSENGER_MEMORY_LIMIT=256MiB: limit %d, %v; runtime %d", got, err, debug.SetMemoryLimit(-1))
	}

	debug.SetMemoryLimit(700 << 20) // what the runtime read from GOMEMLIMIT at start
	if got, err := tuneMemoryLimit(env(map[string]string{"GOMEMLIMIT": "700MiB"})); err != nil || got != 700<<20 || debug.SetMemoryLimit(-1) != 700<<20 {
		t.Fatalf("GOMEMLIMIT alone: limit %d, %v; want the operator's 700 MiB kept", got, err)
	}

	if got, err := tuneMemoryLimit(env(nil)); err != nil || got != defaultMemoryLimit || debug.SetMemoryLimit(-1) != defaultMemoryLimit {
		t.Fatalf("nothing set: limit %d, %v; want the default %d", got, err, defaultMemoryLimit)
	}

	if got, err := tuneMemoryLimit(env(map[string]string{"MESSENGER_MEMORY_LIMIT": "off"})); err != nil || got != math.MaxInt64 || debug.SetMemoryLimit(-1) != math.MaxInt64 {
		t.Fatalf("off: limit %d, %v; want none", got, err)
	}

	debug.SetMemoryLimit(300 << 20)
	if _, err := tuneMemoryLimit(env(map[string]string{"MESSENGER_MEMORY_LIMIT": "lots"})); err == nil || debug.SetMemoryLimit(-1) != 300<<20 {
		t.Fatalf("a bad value: err %v, runtime limit %d; want an error and the limit unchanged", err, debug.SetMemoryLimit(-1))
	}
}
