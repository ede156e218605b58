#!/usr/bin/env bash
# A short run of every Go fuzz target (func FuzzX in a *_test.go file), one
# after another, as part of `make test`: the seed corpus already runs in
# every `go test`; this explores a little beyond it on every run.
#
#   scripts/fuzz.sh            FUZZTIME=2s per target (default)
#   FUZZTIME=60s scripts/fuzz.sh sniff      only packages whose path contains "sniff"
#
# A failing input is saved by Go under the package's testdata/fuzz/: commit it,
# and it becomes a regular test case that every `go test` runs.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-2s}
filter=${1:-}
n=0
t0=$SECONDS
while IFS= read -r line; do
  file=${line%%:*}
  name=$(sed -E 's/^.*func (Fuzz[A-Za-z0-9_]*)\(.*/\1/' <<<"$line")
  pkg=./$(dirname "$file")
  [[ -z $filter || $pkg == *"$filter"* ]] || continue
  echo "fuzz: $pkg $name ($fuzztime)"
  # Go's fuzzing coordinator sometimes reports "context deadline exceeded" when
  # -fuzztime runs out while it is still minimizing a new interesting input (no
  # input failed, nothing is written under testdata/fuzz). That is the toolchain,
  # not the code under test: run the target again, at most twice. A real failure
  # always says "Failing input written to" and stops the run at once.
  for attempt in 1 2 3; do
    if go test -run '^$' -fuzz="^${name}\$" -fuzztime="$fuzztime" -parallel=2 "$pkg" >/tmp/fuzz.$$.log 2>&1; then
      break
    fi
    if ! grep -q 'Failing input written to' /tmp/fuzz.$$.log &&
      grep -q 'context deadline exceeded' /tmp/fuzz.$$.log && ((attempt < 3)); then
      echo "fuzz: $pkg $name: the fuzzing engine's deadline flake (no failing input), running it again"
      continue
    fi
    cat /tmp/fuzz.$$.log; rm -f /tmp/fuzz.$$.log
    echo "fuzz: $pkg $name found a failing input (saved under $pkg/testdata/fuzz/$name)" >&2
    exit 1
  done
  n=$((n + 1))
done < <(git ls-files '*_test.go' | grep -v '^graph/' | xargs grep -H -E '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' | sort)
rm -f /tmp/fuzz.$$.log
echo "fuzz: $n targets, ${fuzztime} each, $((SECONDS - t0)) s"
