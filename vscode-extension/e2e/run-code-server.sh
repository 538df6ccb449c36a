#!/usr/bin/env bash
# End-to-end test of the packaged extension in a real VS Code: code-server
# 4.100.3 (VS Code 1.100.3, the last release that runs on Node 20) driven by
# headless Chromium through puppeteer-core. Opt-in (`make e2e` here, or
# `make e2e-vscode` at the top level): it installs ~300 MB into a temporary
# directory and takes 2-3 minutes.
#
#   e2e/run-code-server.sh [path/to/hplint-X.Y.Z.vsix]
#
# Environment:
#   HPLINT_PYTHON     Python with `hplint[server]` importable (default: python3);
#                     written to the `hplint.interpreter` user setting.
#   CHROMIUM          browser binary (default: /usr/bin/chromium).
#   HPLINT_E2E_CACHE  keep code-server/puppeteer installs here between runs
#                     (default: a fresh temporary directory, removed on exit).
#   HPLINT_E2E_KEEP=1 keep the temporary directory (logs, screenshots).
#   E2E_EXPECT_TEXT   text the applied quick fix must produce (default: bias=False).
#   E2E_NOTEBOOK      notebook to open after the .py check (default: example.ipynb,
#                     written below); its warning must be on the right cell. Empty: skip.
#   E2E_MISSING_SERVER  interpreter for the last check (one notification, no crash
#                     loop when hplint lacks pygls; default: a wrapper written below
#                     that hides pygls from HPLINT_PYTHON). Empty: skip.
#
# Needs (Debian): ripgrep, libkrb5-dev, chromium. Run as root, missing ones are
# installed with apt-get.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
EXT_DIR="$(dirname "$HERE")"
CODE_SERVER_VERSION=4.100.3
RIPGREP_CACHE_NAME=vscode-ripgrep-cache-1.15.11
RIPGREP_TARBALL=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz

PYTHON="${HPLINT_PYTHON:-python3}"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

log() { printf '[e2e] %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# --- the .vsix -------------------------------------------------------------
VSIX="${1:-}"
if [[ -z "$VSIX" ]]; then
    VERSION="$(node -p "require('$EXT_DIR/package.json').version")"
    VSIX="$EXT_DIR/hplint-$VERSION.vsix"
    [[ -f "$VSIX" ]] || (cd "$EXT_DIR" && npm run package)
fi
[[ -f "$VSIX" ]] || die "no .vsix at $VSIX"
VSIX="$(cd "$(dirname "$VSIX")" && pwd)/$(basename "$VSIX")"

# --- the Python side -------------------------------------------------------
PYTHON_PATH="$(command -v "$PYTHON" || true)"
[[ -n "$PYTHON_PATH" ]] || die "HPLINT_PYTHON=$PYTHON not found"
"$PYTHON_PATH" -c 'import hplint' || die "hplint is not importable by $PYTHON_PATH (pip install -e '.[server]')"
"$PYTHON_PATH" -m hplint server --check || die "'$PYTHON_PATH -m hplint server --check' failed"

# --- system packages -------------------------------------------------------
missing=()
command -v rg >/dev/null || missing+=(ripgrep)
[[ -x "$CHROMIUM" ]] || missing+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
if ((${#missing[@]})); then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
        log "apt-get install ${missing[*]}"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        die "missing: ${missing[*]} (install them, or run as root)"
    fi
fi

# --- scratch space -----------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/hplint-e2e.XXXXXX")"
cleanup() {
    if [[ -n "${SERVER_PID:-}" ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    if [[ "${HPLINT_E2E_KEEP:-0}" == 1 || "${E2E_FAILED:-0}" == 1 ]]; then
        log "kept $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
CACHE="${HPLINT_E2E_CACHE:-$WORK/cache}"
mkdir -p "$CACHE" "$WORK/tmp" "$WORK/xdg/config" "$WORK/xdg/data" "$WORK/xdg/cache" "$WORK/xdg/state" \
    "$WORK/user-data/User" "$WORK/extensions" "$WORK/workspace" "$WORK/artifacts"

# --- code-server + puppeteer-core (offline-friendly workarounds) -------------
if [[ ! -x "$CACHE/code-server/node_modules/.bin/code-server" ]]; then
    log "installing code-server@$CODE_SERVER_VERSION into $CACHE/code-server"
    # @vscode/ripgrep downloads a release from GitHub in postinstall; give it
    # Debian's rg in the archive it expects, in its cache under $TMPDIR.
    RG_CACHE="$WORK/tmp/$RIPGREP_CACHE_NAME"
    mkdir -p "$RG_CACHE" "$WORK/rg/bin"
    cp "$(command -v rg)" "$WORK/rg/rg"
    tar -czf "$RG_CACHE/$RIPGREP_TARBALL" -C "$WORK/rg" rg
    mkdir -p "$CACHE/code-server"
    unsafe=()
    [[ "$(id -u)" == 0 ]] && unsafe=(--unsafe-perm)
    (cd "$CACHE/code-server" &&
        echo '{"name":"hplint-e2e-code-server","private":true}' >package.json &&
        TMPDIR="$WORK/tmp" npm_config_yes=true npm install --no-audit --no-fund "${unsafe[@]}" \
            "code-server@$CODE_SERVER_VERSION" >"$WORK/artifacts/npm-code-server.log" 2>&1) ||
        { E2E_FAILED=1; tail -40 "$WORK/artifacts/npm-code-server.log" >&2; die "npm install code-server"; }
fi
if [[ ! -d "$CACHE/puppeteer/node_modules/puppeteer-core" ]]; then
    log "installing puppeteer-core into $CACHE/puppeteer"
    mkdir -p "$CACHE/puppeteer"
    (cd "$CACHE/puppeteer" &&
        echo '{"name":"hplint-e2e-puppeteer","private":true}' >package.json &&
        PUPPETEER_SKIP_DOWNLOAD=1 npm install --no-audit --no-fund puppeteer-core >"$WORK/artifacts/npm-puppeteer.log" 2>&1) ||
        { E2E_FAILED=1; tail -40 "$WORK/artifacts/npm-puppeteer.log" >&2; die "npm install puppeteer-core"; }
fi
CODE_SERVER="$CACHE/code-server/node_modules/.bin/code-server"

export XDG_CONFIG_HOME="$WORK/xdg/config" XDG_DATA_HOME="$WORK/xdg/data" \
    XDG_CACHE_HOME="$WORK/xdg/cache" XDG_STATE_HOME="$WORK/xdg/state" TMPDIR="$WORK/tmp"
CS_ARGS=(--user-data-dir "$WORK/user-data" --extensions-dir "$WORK/extensions")

log "installing $(basename "$VSIX")"
"$CODE_SERVER" "${CS_ARGS[@]}" --install-extension "$VSIX" >"$WORK/artifacts/install-extension.log" 2>&1 ||
    { E2E_FAILED=1; cat "$WORK/artifacts/install-extension.log" >&2; die "code-server --install-extension"; }

# --- workspace and user settings ---------------------------------------------
cat >"$WORK/workspace/example.py" <<'PY'
import torch.nn as nn

model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8))
PY
# A notebook: markdown first, the flagged code in the fourth cell (the third code cell).
cat >"$WORK/workspace/example.ipynb" <<'NB'
{
 "cells": [
  {"cell_type": "markdown", "metadata": {}, "source": ["# A model in a notebook"]},
  {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": ["import torch.nn as nn"]},
  {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": ["%matplotlib inline\n", "width = 8"]},
  {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [],
   "source": ["model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8))"]}
 ],
 "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
              "language_info": {"name": "python"}},
 "nbformat": 4,
 "nbformat_minor": 5
}
NB
PYTHON_PATH="$PYTHON_PATH" node -e '
const fs = require("fs");
fs.writeFileSync(process.argv[1], JSON.stringify({
  "hplint.interpreter": process.env.PYTHON_PATH,
  "hplint.trace.server": "messages",
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.enableExperiments": false,
  "security.workspace.trust.enabled": false,
  "extensions.ignoreRecommendations": true,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "editor.hover.enabled": false
}, null, 2));' "$WORK/user-data/User/settings.json"

# An interpreter whose hplint lacks the [server] extra: the same Python with a
# `pygls` first on its path that fails to import, as in an install without it.
# Each run is logged (first two arguments) to check the server never starts.
mkdir -p "$WORK/no-pygls/block/pygls"
echo 'raise ImportError("No module named pygls")' >"$WORK/no-pygls/block/pygls/__init__.py"
cat >"$WORK/no-pygls/python" <<SH
#!/bin/sh
printf '%s %s\n' "\$1" "\$(printf '%s' "\$2 \$3" | head -c 30 | tr '\n' ' ')" >>"$WORK/no-pygls/runs.log"
PYTHONPATH="$WORK/no-pygls/block\${PYTHONPATH:+:\$PYTHONPATH}" exec "$PYTHON_PATH" "\$@"
SH
chmod +x "$WORK/no-pygls/python"
"$WORK/no-pygls/python" -c 'import pygls' 2>/dev/null && die "the no-pygls interpreter imports pygls"
: >"$WORK/no-pygls/runs.log"

# --- start code-server ---------------------------------------------------------
PORT="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
log "starting code-server on 127.0.0.1:$PORT"
"$CODE_SERVER" "${CS_ARGS[@]}" --bind-addr "127.0.0.1:$PORT" --auth none \
    --disable-telemetry --disable-update-check --disable-workspace-trust --disable-getting-started-override \
    "$WORK/workspace" >"$WORK/artifacts/code-server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 120); do
    node -e 'require("http").get(process.argv[1], (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on("error", () => process.exit(1))' \
        "http://127.0.0.1:$PORT/healthz" && break
    kill -0 "$SERVER_PID" 2>/dev/null || { E2E_FAILED=1; cat "$WORK/artifacts/code-server.log" >&2; die "code-server exited"; }
    sleep 0.5
done

# --- drive it ------------------------------------------------------------------
log "driving VS Code with $CHROMIUM"
if NODE_PATH="$CACHE/puppeteer/node_modules" \
    CODE_SERVER_URL="http://127.0.0.1:$PORT/" WORKSPACE="$WORK/workspace" CHROMIUM="$CHROMIUM" \
    ARTIFACTS="$WORK/artifacts" E2E_EXPECT_TEXT="${E2E_EXPECT_TEXT:-bias=False}" \
    E2E_NOTEBOOK="${E2E_NOTEBOOK-example.ipynb}" \
    E2E_SETTINGS="$WORK/workspace/.vscode/settings.json" \
    E2E_MISSING_SERVER_PYTHON="${E2E_MISSING_SERVER-$WORK/no-pygls/python}" E2E_MISSING_SERVER_LOG="$WORK/no-pygls/runs.log" \
    node "$HERE/vscode-e2e.js"; then
    log "PASS"
else
    E2E_FAILED=1
    log "code-server log: $WORK/artifacts/code-server.log; screenshots in $WORK/artifacts"
    find "$WORK/user-data/logs" -path '*hplint*' -name '*.log' -exec sh -c 'echo "--- $1"; tail -40 "$1"' _ {} \; >&2 2>/dev/null || true
    die "see above"
fi
