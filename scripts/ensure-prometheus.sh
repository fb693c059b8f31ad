#!/usr/bin/env bash
# Make sure Prometheus (server + promtool) is installed, for the alert-rule checks and the
# end-to-end scrape test. Idempotent: does nothing when both binaries are on the PATH.
#
# Installs Debian's `prometheus` package with apt-get (as root, or through sudo when it can
# run without a password). Without apt-get, or without the rights to use it, it says so and
# exits 0: the tests that need the binaries then skip with the same message.
set -euo pipefail

if command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-prometheus: apt-get not available; install Prometheus (promtool) yourself," \
        "or the tests that need it are skipped." >&2
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
else
    echo "ensure-prometheus: not root and no password-less sudo; run" \
        "'apt-get install prometheus' as root, or the tests that need it are skipped." >&2
    exit 0
fi
echo "ensure-prometheus: installing Debian's prometheus package (promtool, prometheus)"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
# --no-install-recommends: the server and promtool only, no node exporter or web assets.
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends prometheus >/dev/null
# The package starts a system Prometheus service where an init system runs; the project
# starts its own Prometheus on a free port in the tests and never uses that one.
command -v promtool >/dev/null && command -v prometheus >/dev/null
