#!/usr/bin/env bash
# Install the given Debian packages when (and only when) they are missing.
#
#   scripts/sysdeps.sh fonts-noto-cjk libpango-1.0-0 ...
#
# `apt-get update` runs only if something is missing, at most once per call. Without root (or sudo
# that needs no password) or without apt-get, it warns and leaves the machine alone.
# SKIP_SYSDEPS=1 skips the check entirely (e.g. on a machine provisioned by other means).
set -euo pipefail

if [ "${SKIP_SYSDEPS:-0}" = "1" ]; then
  echo "sysdeps: SKIP_SYSDEPS=1, not checking Debian packages: $*"
  exit 0
fi

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for pkg in "$@"; do
    installed "$pkg" || missing+=("$pkg")
  done
else
  missing=("$@")
fi

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "sysdeps: WARNING 缺少系统软件包且本机没有 apt-get，请手动安装 / missing packages and no apt-get, install them by hand: ${missing[*]}" >&2
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "sysdeps: WARNING 非 root 用户，跳过安装 / not root, skipping: ${missing[*]}" >&2
  echo "sysdeps:         请以 root 运行 / run as root: apt-get install ${missing[*]}" >&2
  exit 0
fi

echo "sysdeps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
