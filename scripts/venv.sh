#!/usr/bin/env bash
# Create the virtualenv with a Python 3.11+ interpreter.
#
#   scripts/venv.sh [python] [venv-dir]
#
# Tries the given interpreter first, then python3.13/3.12/3.11. Debian's own python3 ships without
# ensurepip unless python3-venv is installed, so that package is added when needed.
set -euo pipefail
cd "$(dirname "$0")/.."

want="${1:-python3}"
venv="${2:-.venv}"

ok_version() {
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1
}

python=""
for candidate in "$want" python3.13 python3.12 python3.11; do
  if command -v "$candidate" >/dev/null 2>&1 && ok_version "$candidate"; then
    python="$candidate"
    break
  fi
done
if [ -z "$python" ]; then
  echo "venv: 需要 Python 3.11 或更高版本 / Python 3.11+ is required (tried: $want python3.13 python3.12 python3.11)" >&2
  exit 1
fi

if ! "$python" -c 'import ensurepip' >/dev/null 2>&1; then
  minor=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
  scripts/sysdeps.sh "python${minor}-venv"
fi

echo "venv: creating $venv with $("$python" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
rm -rf "$venv"
if ! "$python" -m venv "$venv"; then
  rm -rf "$venv"
  echo "venv: 创建虚拟环境失败 / could not create $venv" >&2
  exit 1
fi
