#!/usr/bin/env bash
# The whole patrol on the built-in simulator: `patrol demo` sets up the console over the sample
# township (an admin with a fresh password, messages, a plan split over two copters with
# broadcasts), starts two simulated copters with cameras and the console, and says where to
# click. `make demo` runs set-up first; ARGS go through, e.g.
#   make demo ARGS='--autostart --until-done --speedup 10'
# Ctrl-C stops everything; the data stays in the data directory ($PATROL_DATA_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/patrol demo "$@"
