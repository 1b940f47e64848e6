#!/usr/bin/env bash
# The main job on the built-in simulator: plan the sample township, prepare the broadcast,
# start two simulated copters, run the onboard broadcast agent on each, fly two sorties at once
# and show the patrol record. Set-up is done by `make demo` before this runs.
#   DEMO_SPEEDUP (default 10): simulated seconds per wall second, for the copters and everything
#   that talks to them. DEMO_PORT (default 5760): SERIAL0 of copter 1 (copter 2 is +10).
set -euo pipefail
cd "$(dirname "$0")/.."
PATROL=.venv/bin/patrol
SPEEDUP=${DEMO_SPEEDUP:-10}
PORT=${DEMO_PORT:-5760}
SAMPLE=data/sample
DATA=$(.venv/bin/python -c 'from patrol.datadir import data_dir; print(data_dir())')
RUN="$DATA/demo/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$RUN"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }

step "1. Plan: coverage sweeps over the sample township, around the no-fly zones"
# 5-minute sorties: the simulated copter carries SITL's 3300 mAh battery (about 7 minutes of
# flight), so each sortie lands with about a third of it left, as an operator would plan.
# 13 m/s: the furthest grids cannot be flown to and back in 5 minutes at 10 or 12 m/s.
$PATROL plan $SAMPLE/township.geojson --no-fly $SAMPLE/no-fly.geojson \
    --home "$(cat $SAMPLE/home.txt),200" --pattern coverage --alt 40 --speed 13 --spacing 60 \
    --endurance 5 -o "$RUN/township.plan"

step "2. Broadcast: text-to-speech messages and the zone plan the onboard agents carry"
have() { $PATROL audio list --json | grep -qF "\"title\": \"$1\""; }
have "戴口罩 wear masks" || $PATROL audio say "各位村民请注意，出门请戴好口罩。" --lang cmn --chime \
    --title "戴口罩 wear masks" -o "$RUN/masks.wav"
have "勿聚集 no gathering" || $PATROL audio say "请不要聚集，早点回家。" --lang cmn \
    --title "勿聚集 no gathering" -o "$RUN/gathering.wav"
$PATROL audio plan $SAMPLE/broadcast.json --grids $SAMPLE/township.geojson --speaker-spl 115 \
    -o "$RUN/broadcast.zip"

step "3. Simulator: two ArduCopter-compatible copters at ${SPEEDUP}x (TCP $PORT and $((PORT + 10)))"
# the copters' GPS says 09:00 in the township, so the plan's quiet hours never silence the demo
$PATROL sim --count 2 --speedup "$SPEEDUP" --port "$PORT" --home "$(cat $SAMPLE/home.txt),200,0" \
    --start-time "$(date -u +%Y-%m-%d)T09:00+08:00" --state-dir "$RUN/sim" > "$RUN/sim.log" 2>&1 &
pids+=($!)

step "4. Onboard broadcast agents on each copter's companion port (SERIAL1)"
for i in 0 1; do
  $PATROL broadcast-agent --connect "tcp:127.0.0.1:$((PORT + 10 * i + 2))" --sysid $((i + 1)) \
      --plan "$RUN/broadcast.zip" --sink "dir:$RUN/heard-$((i + 1))" \
      > "$RUN/agent-$((i + 1)).log" 2>&1 &
  pids+=($!)
done

step "5. Fly: preflight, verified upload, launch and monitor sorties 1 and 2 together"
status=0
$PATROL fly "$RUN/township-1.plan" "$RUN/township-2.plan" --name "demo $(date +%H:%M)" \
    --connect "tcp:127.0.0.1:$PORT" --connect "tcp:127.0.0.1:$((PORT + 10))" \
    --wait 60 || status=$?  # the speed-up: each copter's SIM_SPEEDUP

step "6. The patrol record and what the loudspeakers played"
$PATROL status | tail -n 5
for i in 1 2; do
  log="$RUN/heard-$i/plays.jsonl"
  plays=$(wc -l < "$log" 2>/dev/null || echo 0)
  echo "copter $i: $plays plays logged in $log"
done
echo "demo files: $RUN"
exit $status
