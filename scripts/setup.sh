#!/usr/bin/env bash
# Prepares a fresh Debian 12 machine (run as root, as CI does) for the whole
# project: the real programs the tests start on loopback, then the npm
# dependencies exactly as locked. Safe to run again: it installs only what is
# missing. On a machine without root it skips the system part and says so.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests use, by the test area that needs them:
#   podman runc busybox-static   containers for the probe and container controls
#                                (Podman serves the Docker Engine API; no Docker daemon here)
#   zookeeper                    real ensembles for the sync engine (Java 17 is on the machine)
#   prometheus                   promtool and a real Prometheus for rules, dashboards, analysis queries
#   chromium                     headless browser for the UI tests (driven by playwright-core)
system_packages=(podman runc busybox-static zookeeper prometheus chromium)

missing=()
for pkg in "${system_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: not root, so not installing ${missing[*]}; the tests that need them will say so and skip" >&2
  fi
fi

# Podman on this kind of machine: crun fails on cgroups in hybrid mode (use runc),
# the sandbox refuses default ulimits, and overlay is unavailable (use vfs).
if [ "$(id -u)" -eq 0 ] && command -v podman >/dev/null; then
  mkdir -p /etc/containers
  [ -f /etc/containers/containers.conf ] || printf '[containers]\ndefault_ulimits = []\n[engine]\nruntime = "runc"\n' > /etc/containers/containers.conf
  [ -f /etc/containers/storage.conf ] || printf '[storage]\ndriver = "vfs"\nrunroot = "/run/containers/storage"\ngraphroot = "/var/lib/containers/storage"\n' > /etc/containers/storage.conf
fi

# npm ci replaces node_modules wholesale, so run it only when the installed tree
# is older than the lock file (npm writes node_modules/.package-lock.json).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
echo "setup: done"
