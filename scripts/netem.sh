#!/usr/bin/env bash
# The impaired-network suite in its full form (see docs/faults.md):
# scripts/soak.sh netem.
exec "$(dirname "$0")/soak.sh" netem "$@"
