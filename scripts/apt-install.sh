#!/usr/bin/env bash
# Install Debian packages for the tests, robustly:
#
#   scripts/apt-install.sh [--no-install-recommends] PACKAGE...
#
# - waits (bounded, APT_LOCK_TIMEOUT seconds, default 600) for the dpkg lock
#   instead of failing when another install holds it;
# - repairs a dpkg run that was interrupted (`dpkg --configure -a`), which
#   otherwise makes every later apt-get fail;
# - runs `apt-get update` and retries when the package lists are missing or
#   stale (a fresh machine has none).
# Needs root, or sudo without a password.
set -euo pipefail
(($#)) || { echo "usage: $0 PACKAGE..." >&2; exit 2; }
sudo=()
if ((EUID != 0)); then sudo=(sudo -n); fi
timeout=${APT_LOCK_TIMEOUT:-600}
apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o "DPkg::Lock::Timeout=$timeout" -y -q)

# An interrupted dpkg leaves packages half-configured; apt-get refuses to run
# until they are finished. The lock wait above also covers this step.
if [[ -n $("${sudo[@]}" dpkg --audit 2>/dev/null) ]]; then
  echo "apt-install: finishing an interrupted dpkg run (dpkg --configure -a)" >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive dpkg --force-confold --configure -a || true
fi

if ! "${apt[@]}" install "$@"; then
  echo "apt-install: install failed; running apt-get update and trying again" >&2
  "${apt[@]}" update
  "${apt[@]}" install "$@"
fi
