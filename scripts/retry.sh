#!/usr/bin/env bash
# retry.sh TRIES COMMAND...: run COMMAND up to TRIES times, RETRY_PAUSE seconds apart (10), until it succeeds.
# `make setup` installs through it: a package index that answers with a truncated page
# (pip: "json.decoder.JSONDecodeError") or drops a connection fails one pip call, not the set-up.
set -uo pipefail
tries=$1; shift
pause=${RETRY_PAUSE:-10}
for ((i = 1; ; i++)); do
    "$@" && exit 0
    rc=$?
    if ((i >= tries)); then
        echo "retry.sh: '$*' failed $i times (last exit $rc); giving up" >&2
        exit "$rc"
    fi
    echo "retry.sh: '$*' failed (exit $rc), try $((i + 1)) of $tries in $pause s" >&2
    sleep "$pause"
done
