#!/usr/bin/env bash
# `make run`: the whole system in one process with `markwatch dev` — an
# embedded Kafka-protocol broker (franz-go kfake) on 127.0.0.1:9092 with the
# topics created, the fixture marks published, fixture listings produced at
# a trickle, and the streaming detector with metrics and health on
# http://127.0.0.1:8080. Broker data is kept in var/dev between runs.
# Extra arguments go to `markwatch dev`: scripts/run.sh -rate 5, or
# make run ARGS="-rate 5".
set -euo pipefail
cd "$(dirname "$0")/.."
bin=bin/markwatch
echo "== markwatch dev: a banner with the addresses, then a status line every few seconds"
echo "   (listings produced and scored, flagged share, complaints). Ctrl-C stops it."
echo "   In another terminal: $bin tail complaints   (or put it on PATH: export PATH=\"$PWD/bin:\$PATH\")"
echo
exec "$bin" dev "$@"
