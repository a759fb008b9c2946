#!/usr/bin/env python3
"""Makes a perfmon export file of N synthetic runs for benchmarks of compare and history.

Each run is a copy of a real template run (`perfmon export` of one run) with its own id, start
time, name (`ci`), tags (branch=main, or a feature branch for 1 run in 10), commit, and totals
scaled by a random factor; every 5 consecutive runs form one --repeat group, and a 20%
slowdown begins at run N/2 so history has a change point to find.

Usage: scripts/gen-runs.py TEMPLATE.json N > runs.json
"""
import copy
import json
import random
import sys
import uuid

template = json.load(open(sys.argv[1]))["runs"][0]
n = int(sys.argv[2])
rng = random.Random(7)
runs = []
t0 = template["meta"]["started_at_ms"] - n * 60_000
for i in range(n):
    r = copy.deepcopy(template)
    m = r["meta"]
    f = rng.gauss(1.0, 0.02) * (1.2 if i >= n // 2 else 1.0)
    m["id"] = i + 1
    # Each copy is a run of its own: the same UUID would be imported once.
    m["uuid"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    m["name"] = "ci"
    m["started_at_ms"] = t0 + i * 60_000
    m["wall_s"] = (template["meta"]["wall_s"] or 1.0) * f
    m["tags"] = [["branch", "main" if i % 10 else f"feature-{i}"]]
    m["git"] = {"commit": f"{i:040x}", "branch": "main", "dirty": False}
    m["group_id"] = i // 5 + 1
    t = r["totals"]
    t["cpu_user_us"] = int(t["cpu_user_us"] * f)
    t["cpu_system_us"] = int(t["cpu_system_us"] * f)
    runs.append(r)
json.dump({"perfmon_export": 1, "perfmon_version": "gen-runs", "runs": runs}, sys.stdout)
