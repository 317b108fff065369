#!/usr/bin/env bash
# The main job: install zenml-widgets with everything, build a demo repository with real history
# on the embedded SQLite store (./demo), and open JupyterLab on a copy of
# notebooks/history_explorer.ipynb kept in ./demo/notebooks (untracked: JupyterLab autosaves
# the demo's outputs there, never into the repository's own notebooks).
#   bash scripts/demo.sh               # opens a browser
#   bash scripts/demo.sh --no-browser  # headless: prints the URL to open
# Other arguments go to `jupyter lab` (e.g. --port 8899). As root, --allow-root is added.
# DEMO=/some/folder puts the demo repository and its notebooks elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${VENV:-.venv}"
if [[ ! -x "$VENV/bin/python" ]]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
# Editable, and kernels of the environment load the extension by themselves: the kernel config
# is installed with the package (README: "In a notebook").
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[all]"

export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
DEMO="${DEMO:-$(pwd)/demo}"
if [[ ! -f "$DEMO/.zen/config.json" ]]; then
    "$VENV/bin/python" -m zenml_widgets.examples.demo "$DEMO"
else
    echo "Using the existing demo repository $DEMO (delete it to rebuild)."
fi

# The notebooks are copied once; a copy you changed is kept (delete it to get a fresh one).
mkdir -p "$DEMO/notebooks"
for notebook in notebooks/*.ipynb; do
    if [[ ! -f "$DEMO/notebooks/$(basename "$notebook")" ]]; then
        cp "$notebook" "$DEMO/notebooks/"
    fi
done

export ZENML_WIDGETS_REPOSITORY="$DEMO"
args=("$@")
if [[ "$(id -u)" -eq 0 ]]; then
    args+=(--allow-root)
fi
VENV_BIN="$(cd "$VENV/bin" && pwd)"
cd "$DEMO/notebooks"
exec "$VENV_BIN/jupyter" lab history_explorer.ipynb "${args[@]}"
