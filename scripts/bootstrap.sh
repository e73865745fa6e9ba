#!/usr/bin/env bash
# Create .venv with a Python >= 3.12 and install alliance-sim with its dev extra.
# Idempotent: re-running only reinstalls when pyproject.toml changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}

python_ok() {  # does "$@" run a Python >= 3.12?
  "$@" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

find_python() {
  for cand in python3 python3.13 python3.12 python; do
    if command -v "$cand" >/dev/null 2>&1 && python_ok "$cand"; then echo "$cand"; return 0; fi
  done
  # pyenv installs that are not the global default (their shims refuse to run otherwise)
  if command -v pyenv >/dev/null 2>&1; then
    for ver in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9]|[2-9][0-9])' | sort -rV); do
      local exe
      exe="$(pyenv root)/versions/$ver/bin/python3"
      if [ -x "$exe" ] && python_ok "$exe"; then echo "$exe"; return 0; fi
    done
  fi
  return 1
}

if [ ! -x "$VENV/bin/python" ] || ! python_ok "$VENV/bin/python"; then
  PY=$(find_python) || { echo "alliance-sim needs Python >= 3.12; none was found on PATH or in pyenv." >&2; exit 2; }
  echo "Creating $VENV with $("$PY" --version 2>&1) ($PY)"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
fi

stamp="$VENV/.installed-pyproject"
installed_ok() {  # the packages import from outside the checkout (the editable install is live)
  local py; py="$(cd "$VENV" && pwd)/bin/python"
  (cd / && "$py" -c 'import sim, experiments.cli; sim.AllianceModel' >/dev/null 2>&1)
}
if [ ! -f "$stamp" ] || ! cmp -s pyproject.toml "$stamp" || ! installed_ok; then
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[dev]'
  cp pyproject.toml "$stamp"
fi

# The dashboard test drives Debian's chromium headless through chromedriver (tests/test_dashboard.py).
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "Installing Debian's chromium and chromium-driver for the dashboard test"
    apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium chromium-driver >/dev/null; }
  else
    echo "note: chromium and chromedriver are not installed; the dashboard test needs them" >&2
  fi
fi

# Solara's page assets (scripts, styles, fonts) from the npm registry into Solara's own cache, so the
# dashboard works without its CDN (tests/test_dashboard.py). Skips what is already there.
"$VENV/bin/alliance-sim" dashboard --fetch-assets >/dev/null \
  || echo "note: could not fetch the dashboard's page assets; 'alliance-sim dashboard --fetch-assets' retries" >&2
