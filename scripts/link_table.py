#!/usr/bin/env python3
"""Prints the library -> what it links table of docs/architecture.md from CMake's own link graph.

  cmake --graphviz=/tmp/vqi-deps/deps.dot -S . -B build/release
  python3 scripts/link_table.py /tmp/vqi-deps/deps.dot

Direct dependencies only, as declared (public first, then private in brackets).
"""
import re
import sys
from collections import defaultdict

dot = open(sys.argv[1]).read()
nodes = {k: v.split("\\n")[0] for k, v in re.findall(r'"(node\d+)" \[ label = "([^"]+)"', dot)}
deps = defaultdict(lambda: ([], []))
for a, b, style in re.findall(r'"(node\d+)" -> "(node\d+)"(?: \[ style = (\w+) \])?', dot):
    name = nodes[b].replace("/usr/lib/x86_64-linux-gnu/", "").replace("vqi_", "")
    deps[nodes[a]][0 if not style else 1].append(name)
print("| Library | Links (public) | Links (private) |")
print("|---|---|---|")
for lib in sorted(n for n in set(nodes.values())
                  if n.startswith("vqi_") and not n.endswith(("_test", "_cli", "_testing")) and n != "vqi_dnnl"):
    pub, priv = deps[lib]
    print(f"| `{lib[4:]}` | {', '.join(sorted(pub)) or '—'} | {', '.join(sorted(priv)) or '—'} |")
