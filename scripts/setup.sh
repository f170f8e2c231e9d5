#!/usr/bin/env bash
# Installs what building and testing need on a fresh machine. Idempotent: a
# second run does nothing that is already done.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
command -v go >/dev/null || { echo "setup: Go is required (expected at /usr/local/go)" >&2; exit 1; }
need=()
command -v gcc >/dev/null || need+=(gcc)
command -v make >/dev/null || need+=(make)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
go mod download
