#!/usr/bin/env bash
# Fleet benchmark on the lab: the raw-SSH floor (`ssh HOST true` to every host in parallel) beside
# a no-change `plan` and a no-change `apply`, for the reference design and for larger labs.
# Usage: benches/fleet.sh [WEB_COUNTS...]   (default: 3 25; 3 is inventories/lab.yaml as is)
# Needs root, podman, hyperfine. Provisions the lab first (not timed); leaves it up.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "hyperfine is needed: apt-get install hyperfine" >&2; exit 1; }
cargo build --release --locked -q
bin=target/release/foobar-infra
state=${FOOBAR_INFRA_LAB_DIR:-$HOME/.local/state/foobar-infra/lab}
runs=${RUNS:-10}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf '%-6s %-6s %-22s %-22s %-22s %s\n' web hosts "ssh floor (ms)" "plan (ms)" "apply (ms)" "plan/floor"
for web in "${@:-3 25}"; do
  for n in $web; do
    if [ "$n" = 3 ]; then topo=inventories/lab.yaml; up=(); else topo=$state/topology-web$n.yaml; up=(--web "$n"); fi
    "$bin" lab down >/dev/null
    "$bin" lab up -i inventories/lab.yaml "${up[@]}" >/dev/null 2>&1
    "$bin" apply -i "$topo" --auto-approve >/dev/null 2>&1
    addresses=$("$bin" lab status --format json | python3 -c 'import json,sys; print(" ".join(h["address"] for h in json.load(sys.stdin)))')
    count=$(wc -w <<<"$addresses")
    cat > "$out/floor.sh" <<FLOOR
#!/bin/bash
for a in $addresses; do
  ssh -F /dev/null -i $state/id_ed25519 -o UserKnownHostsFile=$state/known_hosts -o BatchMode=yes deploy@\$a true &
done
wait
FLOOR
    chmod +x "$out/floor.sh"
    hyperfine -N --warmup 2 --runs "$runs" --export-json "$out/r.json" \
      "$out/floor.sh" "$bin plan -i $topo" "$bin apply -i $topo --auto-approve" >/dev/null 2>&1
    python3 - "$out/r.json" "$n" "$count" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
cell = lambda x: f"{x['mean']*1000:7.0f} ± {x['stddev']*1000:4.0f}"
print(f"{sys.argv[2]:<6} {sys.argv[3]:<6} {cell(r[0]):<22} {cell(r[1]):<22} {cell(r[2]):<22} {r[1]['mean']/r[0]['mean']:.2f}x")
PY
  done
done
