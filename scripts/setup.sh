#!/usr/bin/env bash
# Set up everything codex-bot's demo and tests need on a fresh Debian machine, idempotently:
# Debian packages (Prometheus, VictoriaMetrics, PostgreSQL for the state tests, fonts for charts, Node.js), a
# virtual environment in .venv with the
# project and its test dependencies, and the bundled chart renderer's npm packages.
# Re-running it is quick: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
PYTHON=${PYTHON:-$(command -v python3 || command -v python || true)}

missing=()
command -v prometheus >/dev/null && command -v promtool >/dev/null || missing+=(prometheus)
command -v victoria-metrics >/dev/null && command -v vmagent >/dev/null || missing+=(victoria-metrics)
command -v npm >/dev/null || missing+=(nodejs npm)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || missing+=(fonts-dejavu-core)
[ -n "$PYTHON" ] || missing+=(python3)
if [ -n "$PYTHON" ] && ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then missing+=(python3-venv); fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
    PYTHON=${PYTHON:-$(command -v python3)}
fi
# Debian's prometheus, victoria-metrics and postgresql packages enable services on :9090, :8428 and :5432;
# codex-bot's tests start their own instances on free loopback ports instead, so none may start or keep running.
for service in prometheus victoria-metrics postgresql; do
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
        $SUDO systemctl disable --now "$service" >/dev/null 2>&1 || true
    elif command -v update-rc.d >/dev/null && [ -e "/etc/init.d/$service" ]; then
        $SUDO /etc/init.d/"$service" stop >/dev/null 2>&1 || true
        $SUDO update-rc.d "$service" disable >/dev/null 2>&1 || true
    fi
done

stamp=.venv/.installed-$(cat pyproject.toml | sha1sum | cut -c1-12)
if [ ! -e "$stamp" ]; then
    echo "setup: installing codex-bot and its test dependencies into .venv"
    [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e '.[test]'
    rm -f .venv/.installed-* && touch "$stamp"
fi

renderer=deploy/chart-renderer
if [ ! -d "$renderer/node_modules" ] || [ "$renderer/package-lock.json" -nt "$renderer/node_modules" ]; then
    echo "setup: installing the chart renderer's npm packages"
    npm ci --prefix "$renderer" --no-audit --no-fund --loglevel=error
    touch "$renderer/node_modules"
fi
