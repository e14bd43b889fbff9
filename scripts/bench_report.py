#!/usr/bin/env python3
"""Prints scripts/bench.sh's tables from its JSON-lines results (one line per model: fracview's `bench --json`
and scripts/bench_peers.py's output). Exits 1 if fracview or ONNX Runtime disagree with PyTorch by more than 1e-4."""
import json
import sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
bad = []
print(f"{len(rows)} model(s); batch 1 latency, ms: median (p90), {rows[0]['fracview']['threads']} threads each; same input X-ray")
print("| model | fracview | PyTorch eager | ONNX Runtime | fracview / ORT | fracview / PyTorch | max \|dp\| fracview, ORT vs PyTorch |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    f, p = r["fracview"], r["peers"]
    pt, ort = p["pytorch"], p["onnxruntime"]
    dp_f = max(abs(a - b) for a, b in zip(f["probabilities"], pt["probabilities"]))
    dp_o = p["ort_vs_pytorch_max_abs_dp"]
    if dp_f > 1e-4 or dp_o > 1e-4: bad.append(r["model"])
    name = f"{r['model']} ({f['architecture']} {f['input_size'][0]})"
    if p.get("members"):
        fm, tm, om = f["ensemble_case_ms_median"], pt["members_case"]["ms_median"], ort["members_case"]["ms_median"]
        print(f"| {name}, a case through all {p['members']} members | {fm:.1f} ({f['ensemble_case_ms_p90']:.1f}) | "
              f"{tm:.1f} ({pt['members_case']['ms_p90']:.1f}) | {om:.1f} ({ort['members_case']['ms_p90']:.1f}) | "
              f"{fm / om:.2f} | {fm / tm:.2f} | {dp_f:.1e}, {dp_o:.1e} (member 1) |")
    else:
        fm, tm, om = f["forward_ms_median"], pt["batch1"]["ms_median"], ort["batch1"]["ms_median"]
        print(f"| {name} | {fm:.1f} ({f['forward_ms_p90']:.1f}) | {tm:.1f} ({pt['batch1']['ms_p90']:.1f}) | "
              f"{om:.1f} ({ort['batch1']['ms_p90']:.1f}) | {fm / om:.2f} | {fm / tm:.2f} | {dp_f:.1e}, {dp_o:.1e} |")
print()
b = rows[0]["peers"]["batch"]
print(f"throughput, images/s (first member; the bundled sample X-rays): decode excluded / decode included")
print(f"| model | fracview, one image per core (evaluate) | fracview, each op over the cores | PyTorch batch 1 | PyTorch batch {b} | ORT batch 1 | ORT batch {b} |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    t, pt, ort = r["fracview"].get("throughput"), r["peers"]["pytorch"], r["peers"]["onnxruntime"]
    if r["peers"].get("members") or not t: continue
    print(f"| {r['model']} | {t['images_per_s_per_core']:.1f} / {t['images_per_s_per_core_decode_included']:.1f} | "
          f"{t['images_per_s_split']:.1f} / {t['images_per_s_split_decode_included']:.1f} | "
          f"{pt['images_per_s_batch1']:.1f} / {pt['images_per_s_decode_included']:.1f} | {pt[f'images_per_s_batch{b}']:.1f} | "
          f"{ort['images_per_s_batch1']:.1f} / {ort['images_per_s_decode_included']:.1f} | {ort[f'images_per_s_batch{b}']:.1f} |")
print()
for r in rows:
    print(f"{r['model']}: peak RSS {r['fracview']['peak_rss_mb']:.0f} MB ({r['fracview']['members']} member(s) loaded)")
if bad:
    print("probabilities disagree with PyTorch by more than 1e-4: " + ", ".join(bad), file=sys.stderr)
    sys.exit(1)
