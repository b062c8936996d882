#!/usr/bin/env bash
# npm run setup — prepares a checkout to run, test and develop MCM. Safe to run again.
#
#  1. npm ci (npm install when there is no package-lock.json): the npm dependencies, including
#     Node 24 itself (the `node` devDependency, node_modules/.bin/node), whatever `node` the
#     machine has.
#  2. The web UI bundle (npm run build → ui/dist), served by `npm start`.
#  3. The system tools the tests and the server use: mosquitto (broker), mosquitto_pub/sub
#     (mosquitto-clients), chromium (browser tests) and promtool (the /metrics lint test; Debian
#     ships it in the prometheus package, installed without starting a Prometheus server). As
#     root with apt-get, missing ones are installed; otherwise the script says which are needed.
#
# Environment:
#   MCM_SETUP_SKIP_NPM=1   skip step 1 (npm ci deletes and rebuilds node_modules; skip it when
#                          node_modules is already right, or while tests are running from it)
#   CI=true                missing system tools are an error (exit 1) instead of a warning
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd -P)
say() { printf 'setup: %s\n' "$*"; }
did=()

# --- 1. npm dependencies -------------------------------------------------------------------
if [ "${MCM_SETUP_SKIP_NPM:-}" = "1" ]; then
  say "skipping npm (MCM_SETUP_SKIP_NPM=1)"
elif [ -f package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund
  did+=("installed npm dependencies (npm ci)")
else
  say "npm install (no package-lock.json)"
  npm install --no-audit --no-fund
  did+=("installed npm dependencies (npm install)")
fi

if [ -x node_modules/.bin/node ]; then
  say "project Node: $(node_modules/.bin/node --version) (node_modules/.bin/node)"
else
  say "WARNING: node_modules/.bin/node is missing; bin/mcm will need Node >= 22.18 on PATH"
fi

# --- 2. the web UI --------------------------------------------------------------------------
if [ -x node_modules/.bin/node ] && [ -d node_modules/esbuild ]; then
  node_modules/.bin/node scripts/build-ui.ts --quiet
  did+=("built the web UI (ui/dist)")
  node_modules/.bin/node scripts/build-server.ts --quiet
  did+=("bundled the mcm command (dist/server, the faster start; bin/mcm runs the sources when they are newer)")
else
  say "WARNING: cannot build the web UI yet (npm dependencies missing); run npm run build later"
fi

# --- 3. system tools ------------------------------------------------------------------------
# Debian puts mosquitto in /usr/sbin, which is not on a normal user's PATH.
have_mosquitto() { command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || [ -x /usr/local/sbin/mosquitto ]; }
have_clients() { command -v mosquitto_pub >/dev/null 2>&1 && command -v mosquitto_sub >/dev/null 2>&1; }
have_chromium() { command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; }
have_promtool() { command -v promtool >/dev/null 2>&1; }

missing_packages() {
  local pkgs=()
  have_mosquitto || pkgs+=(mosquitto)
  have_clients || pkgs+=(mosquitto-clients)
  have_chromium || pkgs+=(chromium)
  have_promtool || pkgs+=(prometheus)
  echo "${pkgs[@]:-}"
}

# Debian's prometheus package is wanted for promtool only. Its maintainer scripts start (and
# enable) a Prometheus server on :9090: a policy-rc.d refusing every start holds them back (a
# machine's own policy-rc.d, e.g. a container's, is left alone), and the unit is disabled after.
install_promtool() {
  local guard=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    guard=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\n# written by MCM scripts/setup.sh while installing promtool\nexit 101\n' > "$guard"
    chmod 755 "$guard"
  fi
  local rc=0
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus || rc=$?
  [ -n "$guard" ] && rm -f "$guard"
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --quiet prometheus.service 2>/dev/null || true; fi
  if pgrep -x prometheus >/dev/null 2>&1; then
    say "NOTE: a prometheus server is running; MCM only needs promtool (systemctl disable --now prometheus)"
  fi
  return "$rc"
}

missing=$(missing_packages)
if [ -z "$missing" ]; then
  say "system tools present: mosquitto, mosquitto_pub/mosquitto_sub, chromium, promtool"
elif [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  say "installing missing packages: $missing"
  apt-get update
  others=${missing//prometheus/}
  # shellcheck disable=SC2086 # word splitting of the package list is intended
  if [ -n "${others// /}" ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y $others; fi
  if [[ " $missing " == *" prometheus "* ]]; then install_promtool; fi
  did+=("installed system packages: $missing")
  missing=$(missing_packages)
  if [ -n "$missing" ]; then
    say "ERROR: still missing after apt-get install: $missing"
    exit 1
  fi
else
  why="not running as root"
  [ "$(id -u)" = "0" ] && why="apt-get is not available"
  say "missing system packages: $missing ($why, so not installing them)"
  say "install them with your package manager, e.g.: sudo apt-get install -y $missing"
  if [ "${CI:-}" = "true" ]; then
    say "ERROR: CI=true and required tools are missing"
    exit 1
  fi
  say "WARNING: tests that need them will be skipped or fail until they are installed"
fi

# Debian's mosquitto package starts its own broker on port 1883. MCM's supervised broker and the
# default config use that port; stopping a system service is the operator's call, so only say so.
if (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
  say "NOTE: port 1883 is in use (often Debian's own mosquitto service). MCM's supervised broker"
  say "      needs a free port: stop that service (systemctl disable --now mosquitto) or set"
  say "      MCM_MQTT_PORT / mqtt.port to another port. Tests are unaffected (they pick free ports)."
fi

if [ ${#did[@]} -eq 0 ]; then
  say "done: nothing needed changing in $root"
else
  for d in "${did[@]}"; do say "done: $d"; done
fi
