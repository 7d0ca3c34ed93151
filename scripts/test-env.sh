#!/usr/bin/env bash
# Make the real services the tests use available where this machine allows it.
# Nothing here is fatal: tests that need a missing service skip with a clear message.
set -u
can_install() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }
apt_install() {
  can_install || return 1
  [ -n "${_APT_UPDATED:-}" ] || { apt-get update -qq >/dev/null 2>&1; _APT_UPDATED=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! port_open 5432; then
  command -v pg_ctlcluster >/dev/null 2>&1 || apt_install postgresql
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    version=$(ls /etc/postgresql 2>/dev/null | head -n1)
    if [ -n "$version" ]; then
      conf="/etc/postgresql/$version/main/pg_hba.conf"
      # Loopback trust authentication, as on the CI machine; only for local test servers.
      grep -q "beffroi-test" "$conf" 2>/dev/null || {
        sed -i '1i host all all 127.0.0.1/32 trust # beffroi-test' "$conf" 2>/dev/null
        sed -i '1i local all all trust # beffroi-test' "$conf" 2>/dev/null
      }
      pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1
    fi
  fi
  port_open 5432 && echo "test-env: started PostgreSQL." || echo "test-env: no PostgreSQL; its tests will skip."
fi

if ! port_open 6379; then
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  if command -v redis-server >/dev/null 2>&1; then
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null 2>&1
    sleep 0.5
  fi
  port_open 6379 && echo "test-env: started Redis." || echo "test-env: no Redis; its tests will skip."
fi

if [ ! -x /usr/bin/chromium ]; then
  apt_install chromium && echo "test-env: installed Debian's chromium." \
    || echo "test-env: no /usr/bin/chromium; the browser test will skip."
fi

# The heavier moderation backends (torch, transformers, detoxify: the beffroi[models] extra)
# are tested where a CPU build of torch lies on this machine's disk, in pip's find-links;
# never a multi-gigabyte download. Their tests skip otherwise.
if [ -x .venv/bin/python ] && ! .venv/bin/python -c 'import torch, transformers, detoxify' >/dev/null 2>&1; then
  tag=$(.venv/bin/python -c 'import sys; print("cp%d%d" % sys.version_info[:2])')
  wheel=""
  for dir in $(.venv/bin/python -m pip config get global.find-links 2>/dev/null) ${PIP_FIND_LINKS:-}; do
    found=$(ls "${dir#file://}"/torch-*+cpu-"$tag"-"$tag"-*_"$(uname -m)".whl 2>/dev/null | sort -V | tail -n1)
    [ -n "$found" ] && wheel=$found
  done
  if [ -n "$wheel" ] && timeout 300 .venv/bin/python -m pip install --quiet "$wheel" \
      'transformers>=4.48' 'detoxify>=0.5' 'sentencepiece>=0.1.99' >/dev/null 2>&1; then
    echo "test-env: installed $(basename "$wheel"), transformers and detoxify for the heavier backends tests."
  else
    echo "SKIPPED: heavier backends tests need torch (pip install 'beffroi[models]')."
  fi
fi
exit 0
