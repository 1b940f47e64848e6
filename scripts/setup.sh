#!/usr/bin/env bash
# One-shot set-up for a fresh Debian machine: system packages, then the project's virtual environment.
# Idempotent: re-running only installs what is missing or what pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

# espeak-ng: text-to-speech; alsa-utils: aplay for the loudspeaker; sox: audio checks by hand;
# postgresql: the store's tests run against a real server as well as SQLite;
# opencv-doc: vtest.avi, the real footage the vision evaluation set and the simulated camera's
# people come from; chromium: the console's browser tests (Playwright drives it, never its own);
# fonts-wqy-microhei: Chinese text in the browser; npm (with nodejs) when no npm is there yet:
# the console's front-end libraries.
APT_PACKAGES=(espeak-ng libespeak-ng1 alsa-utils sox python3-venv postgresql opencv-doc chromium
              fonts-wqy-microhei)
command -v npm >/dev/null 2>&1 || APT_PACKAGES+=(nodejs npm)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

VENV=.venv
EXTRAS=dev,postgres
stamp="$VENV/.installed"
want="$(sha256sum pyproject.toml | cut -c1-16) $EXTRAS"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing Python packages into $VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e ".[$EXTRAS]"
  echo "$want" > "$stamp"
fi

# MAVProxy, the third-party ground station the interoperability test drives, lives in its own
# environment: it pulls in opencv-python and more, which must not land in the project's .venv.
MAVPROXY_VENV=.venv-mavproxy
MAVPROXY_VERSION=1.8.75
mavproxy_stamp="$MAVPROXY_VENV/.installed-$MAVPROXY_VERSION"
if [ "${SKIP_MAVPROXY:-0}" != 1 ] && [ ! -f "$mavproxy_stamp" ]; then
  echo "setup: installing MAVProxy $MAVPROXY_VERSION into $MAVPROXY_VENV"
  [ -x "$MAVPROXY_VENV/bin/python" ] || python3 -m venv "$MAVPROXY_VENV"
  "$MAVPROXY_VENV/bin/python" -m pip install -q --upgrade pip
  "$MAVPROXY_VENV/bin/python" -m pip install -q "MAVProxy==$MAVPROXY_VERSION" "pymavlink==2.4.50"
  touch "$mavproxy_stamp"
fi

# dronekit2, the maintained DroneKit-Python: the client whose own SITL test suite runs against the
# simulator (tests/sim/test_dronekit_suite.py) and the way a township's scripts drive an aircraft
# alongside Gridpatrol (README). Its own environment, like MAVProxy's; SKIP_DRONEKIT=1 skips it.
DRONEKIT_VENV=.venv-dronekit
DRONEKIT_VERSION=3.0.0
dronekit_stamp="$DRONEKIT_VENV/.installed-$DRONEKIT_VERSION"
if [ "${SKIP_DRONEKIT:-0}" != 1 ] && [ ! -f "$dronekit_stamp" ]; then
  echo "setup: installing dronekit2 $DRONEKIT_VERSION into $DRONEKIT_VENV"
  [ -x "$DRONEKIT_VENV/bin/python" ] || python3 -m venv "$DRONEKIT_VENV"
  "$DRONEKIT_VENV/bin/python" -m pip install -q --upgrade pip
  "$DRONEKIT_VENV/bin/python" -m pip install -q "dronekit2==$DRONEKIT_VERSION" "pymavlink==2.4.50" \
    "pytest==9.2.0" "pytest-timeout==2.4.0"
  touch "$dronekit_stamp"
fi

# The console's front-end libraries (Leaflet, Leaflet-Geoman) from the npm registry, exactly as
# package-lock.json pins them; the console serves them from node_modules/ (never committed).
npm_stamp=node_modules/.installed
npm_want="$(sha256sum package-lock.json | cut -c1-16)"
if [ "$(cat "$npm_stamp" 2>/dev/null)" != "$npm_want" ]; then
  echo "setup: installing the console's front-end libraries (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$npm_want" > "$npm_stamp"
fi
