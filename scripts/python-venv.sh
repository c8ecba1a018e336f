#!/usr/bin/env bash
# A Python virtual environment with pinned packages, in the tool cache (never in the repo):
#
#   bash scripts/python-venv.sh gateway      → $BULWARK_TOOLS_DIR/venv-gateway from scripts/python/gateway-requirements.txt
#
# Idempotent and fast when cached: the venv is (re)built only when the requirements file or the
# Python version changed (a stamp file records both); otherwise it returns at once. Prints the
# venv's python path on its last line. Exits 0 without a venv — saying so — when python3 (with
# venv) is missing and CI is not set; under CI=true a missing python3 is an error.
set -euo pipefail

name="${1:?usage: scripts/python-venv.sh <name>   (reads scripts/python/<name>-requirements.txt)}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
requirements="$repo/scripts/python/$name-requirements.txt"
[ -f "$requirements" ] || { echo "python-venv: no $requirements" >&2; exit 2; }
tools="${BULWARK_TOOLS_DIR:-$HOME/.cache/bulwark-tools}"
venv="$tools/venv-$name"
python="${BULWARK_PYTHON:-python3}"

ci=false
case "${CI:-}" in ''|0|false|FALSE|False) ;; *) ci=true ;; esac
if ! command -v "$python" >/dev/null 2>&1 || ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  msg="python-venv: $python with the venv module is not available: the Python client tests of '$name' will skip"
  if $ci; then echo "$msg (and fail under CI=true)" >&2; exit 1; fi
  echo "$msg" >&2
  exit 0
fi

stamp="$venv/.bulwark-stamp"
want="$("$python" -c 'import sys; print(sys.version.split()[0])') $(sha256sum "$requirements" | cut -d' ' -f1)"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "python-venv: $venv is up to date ($(cat "$stamp" | cut -d' ' -f1), $(grep -v '^#' "$requirements" | tr '\n' ' '))"
  echo "$venv/bin/python"
  exit 0
fi

mkdir -p "$tools"
# Built beside, then moved into place: an interrupted build never leaves a half venv that looks ready.
tmp="$(mktemp -d "$tools/.venv-$name.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
"$python" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$requirements"
echo "$want" > "$tmp/venv/.bulwark-stamp"
rm -rf "$venv"
mv "$tmp/venv" "$venv"
# A venv's scripts name its own path; rebuild them for the final location (pip itself is all we use).
"$python" -m venv --upgrade "$venv" >/dev/null
echo "python-venv: built $venv ($("$venv/bin/python" -m pip freeze --disable-pip-version-check | grep -i '^openai==' || true))"
echo "$venv/bin/python"
