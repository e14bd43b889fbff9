#!/usr/bin/env python3
"""Prints scripts/bench.sh's tables from its JSON-lines results (one line per model and round: fracview's
`bench --json` and scripts/bench_peers.py's output).

Latency: for each model the round whose fracview/ORT ratio is the median, with the range of that ratio over the
rounds (each round runs the three frameworks seconds apart; the machine's speed drifts between rounds).
The head-to-head rows ({"model", "versus"}: scripts/bench_peers.py --versus) get their own table.
Exits 1 if fracview or ONNX Runtime disagree with PyTorch by more than 1e-4 in any probability, in any round.

    python3 scripts/bench_report.py /tmp/fracview-bench.jsonl
"""
import json
import statistics
import sys


def latency(r):
    """(fracview, PyTorch, ORT) medians and p90s of the row's headline figure."""
    f, p = r["fracview"], r["peers"]
    pt, ort = p["pytorch"], p["onnxruntime"]
    if p.get("members"):
        return ((f["ensemble_case_ms_median"], f["ensemble_case_ms_p90"]),
                (pt["members_case"]["ms_median"], pt["members_case"]["ms_p90"]),
                (ort["members_case"]["ms_median"], ort["members_case"]["ms_p90"]))
    return ((f["forward_ms_median"], f["forward_ms_p90"]), (pt["batch1"]["ms_median"], pt["batch1"]["ms_p90"]),
            (ort["batch1"]["ms_median"], ort["batch1"]["ms_p90"]))


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    heads = [r for r in rows if "versus" in r]
    rows = [r for r in rows if "versus" not in r]
    models = list(dict.fromkeys(r["model"] for r in rows))
    bad = []
    for r in rows:
        dp_f = max(abs(a - b) for a, b in zip(r["fracview"]["probabilities"], r["peers"]["pytorch"]["probabilities"]))
        r["dp_fracview"], r["dp_ort"] = dp_f, r["peers"]["ort_vs_pytorch_max_abs_dp"]
        if dp_f > 1e-4 or r["dp_ort"] > 1e-4:
            bad.append(f"{r['model']} round {r.get('round', 1)}")
    rounds = max(r.get("round", 1) for r in rows)
    first = rows[0]["fracview"]
    print(f"batch 1 latency, ms: median (p90) of {first['runs']} runs, {first['threads']} threads each, the same X-ray "
          f"input; the median of {rounds} round(s), fracview / ORT over all rounds in brackets")
    print("| model | fracview | PyTorch eager | ONNX Runtime | fracview / ORT | fracview / PyTorch | max \\|Δp\\| fracview, ORT vs PyTorch |")
    print("|---|---|---|---|---|---|---|")
    for m in models:
        runs = [r for r in rows if r["model"] == m]
        ratios = sorted((latency(r)[0][0] / latency(r)[2][0], i) for i, r in enumerate(runs))
        r = runs[ratios[len(ratios) // 2][1]]
        (fm, fp), (tm, tp), (om, op) = latency(r)
        f = r["fracview"]
        name = f"`{m}` ({f['architecture']} {f['input_size'][0]})"
        if r["peers"].get("members"):
            name += f", a case through all {r['peers']['members']} members"
        spread = f" [{ratios[0][0]:.2f}–{ratios[-1][0]:.2f}]" if len(ratios) > 1 else ""
        dps = f"{max(x['dp_fracview'] for x in runs):.1e}, {max(x['dp_ort'] for x in runs):.1e}"
        print(f"| {name} | {fm:.1f} ({fp:.1f}) | {tm:.1f} ({tp:.1f}) | {om:.1f} ({op:.1f}) | "
              f"{fm / om:.2f}{spread} | {fm / tm:.2f} | {dps}{' (first member)' if r['peers'].get('members') else ''} |")
    print()
    if heads:
        v0 = heads[0]["versus"]
        print(f"head-to-head with ONNX Runtime, interleaved: {v0['bursts']} bursts of {v0['burst_runs']} forwards each, "
              f"taking turns a tenth of a second apart; ms over all timed forwards")
        print("| model | fracview median (min, p90) | ORT median (min, p90) | fracview / ORT, medians | "
              "fracview / ORT per burst pair: median [quartiles] | pairs fracview faster |")
        print("|---|---|---|---|---|---|")
        for h in heads:
            v, f, o = h["versus"], h["versus"]["fracview"], h["versus"]["onnxruntime"]
            q = v["pair_ratio_quartiles"]
            print(f"| `{h['model']}` | {f['ms_median']:.2f} ({f['ms_min']:.2f}, {f['ms_p90']:.2f}) | "
                  f"{o['ms_median']:.2f} ({o['ms_min']:.2f}, {o['ms_p90']:.2f}) | {f['ms_median'] / o['ms_median']:.2f} | "
                  f"{v['pair_ratio_median']:.2f} [{q[0]:.2f}–{q[1]:.2f}] | {v['pairs_fracview_faster']} of {v['bursts']} |")
        print()
    b = rows[0]["peers"]["batch"]
    print("throughput, images/s over the bundled sample's X-rays (first round; one member): decode excluded / included")
    print(f"| model | fracview, one image per core (evaluate) | fracview, each op over the cores | PyTorch batch 1 | "
          f"PyTorch batch {b} | ORT batch 1 | ORT batch {b} |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        t, pt, ort = r["fracview"].get("throughput"), r["peers"]["pytorch"], r["peers"]["onnxruntime"]
        if r["peers"].get("members") or not t or not r["peers"].get("throughput", True):
            continue
        print(f"| `{r['model']}` | {t['images_per_s_per_core']:.1f} / {t['images_per_s_per_core_decode_included']:.1f} | "
              f"{t['images_per_s_split']:.1f} / {t['images_per_s_split_decode_included']:.1f} | "
              f"{pt['images_per_s_batch1']:.1f} / {pt['images_per_s_decode_included']:.1f} | {pt[f'images_per_s_batch{b}']:.1f} | "
              f"{ort['images_per_s_batch1']:.1f} / {ort['images_per_s_decode_included']:.1f} | {ort[f'images_per_s_batch{b}']:.1f} |")
    print()
    for m in models:
        rss = [r["fracview"]["peak_rss_mb"] for r in rows if r["model"] == m]
        n = next(r["fracview"]["members"] for r in rows if r["model"] == m)
        print(f"`{m}`: fracview peak RSS {statistics.median(rss):.0f} MB ({n} member{'s' if n > 1 else ''} loaded)")
    if bad:
        print("probabilities disagree with PyTorch by more than 1e-4: " + ", ".join(bad), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
