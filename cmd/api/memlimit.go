package main

import (
	"fmt"
	"math"
	"runtime/debug"
	"strconv"
	"strings"
)

// defaultMemoryLimit is the soft memory limit (debug.SetMemoryLimit) the API
// sets unless MESSENGER_MEMORY_LIMIT or GOMEMLIMIT says otherwise.
//
// At the GC target of 400 % (gc.go) the heap may grow to five times the live
// data between collections: after 1,000 sign-ups that was hundreds of MiB of
// argon2id garbage (64 MiB per hash) kept resident. The limit makes the
// collector run as the Go runtime's memory nears it, so short bursts still
// enjoy the 400 % target while the process stays under the limit; it is soft
// (a live heap above it is not an error, the collector only works harder,
// at most about half the CPU). Memory outside the Go runtime (Pebble's block
// cache and memtables when built with cgo) is not counted.
const defaultMemoryLimit = 384 << 20

// memoryLimitEnv names the setting; memoryLimitOff turns the limit off.
const (
	memoryLimitEnv = "MESSENGER_MEMORY_LIMIT"
	memoryLimitOff = "off"
)

// tuneMemoryLimit applies MESSENGER_MEMORY_LIMIT (a size such as 512MiB,
// 1GiB, 400MB or bytes; "off" or 0 for none), else leaves a GOMEMLIMIT the
// operator set, else sets defaultMemoryLimit. It returns the limit in effect
// (math.MaxInt64: none).
func tuneMemoryLimit(getenv func(string) (string, bool)) (int64, error) {
	if v, ok := getenv(memoryLimitEnv); ok && strings.TrimSpace(v) != "" {
		n, err := parseMemoryLimit(v)
		if err != nil {
			return debug.SetMemoryLimit(-1), fmt.Errorf("%s: %w", memoryLimitEnv, err)
		}
		debug.SetMemoryLimit(n)
		return n, nil
	}
	if _, ok := getenv("GOMEMLIMIT"); ok {
		return debug.SetMemoryLimit(-1), nil // the runtime already read it
	}
	debug.SetMemoryLimit(defaultMemoryLimit)
	return defaultMemoryLimit, nil
}

// parseMemoryLimit reads a size: a number with an optional unit B, KiB,
// MiB, GiB, TiB (powers of 1024) or KB, MB, GB, TB (powers of 1000), case
// not significant; "off" and 0 mean no limit (math.MaxInt64).
func parseMemoryLimit(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, memoryLimitOff) {
		return math.MaxInt64, nil
	}
	units := []struct {
		suffix string
		mult   float64
	}{
		{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
		{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12}, {"b", 1},
	}
	num, mult := s, 1.0
	lower := strings.ToLower(s)
	for _, u := range units {
		if strings.HasSuffix(lower, u.suffix) {
			num, mult = strings.TrimSpace(s[:len(s)-len(u.suffix)]), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("%q is not a size (e.g. 512MiB, 1GiB, off)", s)
	}
	b := f * mult
	if b == 0 {
		return math.MaxInt64, nil
	}
	if b >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	if b < 16<<20 {
		return 0, fmt.Errorf("%q is below 16MiB, which the API cannot run in", s)
	}
	return int64(b), nil
}
