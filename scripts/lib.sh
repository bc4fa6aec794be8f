# Shared by scripts/run and scripts/test: a pinned uv, then .venv synced from uv.lock.
# shellcheck shell=bash
UV_VERSION=0.13.9

ensure_venv() {
    local py
    py=$(command -v python3.11 || command -v python3)
    if [ ! -x .tools/bin/uv ]; then
        "$py" -m venv .tools
        .tools/bin/pip install --quiet --disable-pip-version-check "uv==${UV_VERSION}"
    fi
    UV_PYTHON="${TRON_PYTHON:-$py}" UV_PYTHON_DOWNLOADS=never .tools/bin/uv sync --frozen --quiet "$@"
}

# The newest CPython past 3.11 that runs here (3.13, else 3.12): on PATH, or in pyenv's
# versions (pyenv's shims answer for the global version only). Fails when there is none.
newer_python() {
    local version candidate
    for version in 3.13 3.12; do
        for candidate in "$(command -v "python$version" || true)" \
            "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version".*/bin/"python$version"; do
            if [ -x "$candidate" ] && "$candidate" -c 'import sys' 2>/dev/null; then
                echo "$candidate"
                return 0
            fi
        done
    done
    return 1
}

# apt-get install the named Debian packages that are missing (tests need real servers).
ensure_debian_packages() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "installing Debian packages: ${missing[*]}" >&2
    $sudo apt-get update -qq >&2 || true
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >&2
}
