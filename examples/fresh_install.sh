#!/usr/bin/env bash
# Proves the README's install-and-run command on a fresh virtual environment:
# installs the package (not editable) and runs the demo against throwaway data dirs.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
# shellcheck disable=SC1091
source "$work/venv/bin/activate"
export HOME="$work/home" XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config"
unset ALLIANCE_DB
mkdir -p "$HOME"
cd "$repo"
pip install --quiet --upgrade pip >/dev/null
pip install . && alliance demo
test -f "$XDG_DATA_HOME/alliance/demo.db"
test ! -e "$XDG_DATA_HOME/alliance/alliance.db"
alliance --db "$XDG_DATA_HOME/alliance/demo.db" patient show D02 >/dev/null
echo "fresh install: ok"
