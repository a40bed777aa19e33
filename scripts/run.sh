#!/usr/bin/env bash
# `make run`: shows the detection core working on the fixtures. Until the
# streaming detector lands this scores the fixture listings, evaluates them
# against their labels and writes the precision–recall curve.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p out
bin=bin/markwatch
data=fixtures/data
echo "== markwatch score: $data/listings.jsonl against $data/marks.jsonl"
"$bin" score -marks "$data/marks.jsonl" -listings "$data/listings.jsonl" -out out/scores.jsonl
echo
echo "== first flagged listing:"
grep -m1 '"flagged":true' out/scores.jsonl | head -c 1500; echo
echo
echo "== markwatch eval"
"$bin" eval -marks "$data/marks.jsonl" -listings "$data/listings.jsonl" -plot out/pr-curve.png -quiet
echo
echo "results: out/scores.jsonl   precision–recall curve: out/pr-curve.png"
