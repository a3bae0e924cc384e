# Sourced by the release scripts: the checkout's `tutor` (make setup's venv) if there is one,
# else the one on PATH (an image), run from the checkout so that its .env and configs apply.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ -x "$ROOT/.venv/bin/tutor" ]]; then
    TUTOR="$ROOT/.venv/bin/tutor"
else
    TUTOR="$(command -v tutor)" || { echo "error: no tutor command (run make setup)" >&2; exit 2; }
fi
cd "$ROOT"
