#!/usr/bin/env bash
# System services the tests start themselves, from Debian's packages (idempotent): PostgreSQL
# (the store on PostgreSQL, the production-stack metadata database), Redis (its Celery broker)
# and Chromium (screenshots of the operator's pages).
set -euo pipefail
missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "setup: installing ${missing[*]} (Debian packages)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "setup: the tests need the Debian packages: ${missing[*]} (apt-get install ${missing[*]})" >&2
fi
