#!/usr/bin/env python3
"""Prints scripts/bench.sh's tables from its JSON-lines results (one line per model and round: fracview's
`bench --json` and scripts/bench_peers.py's output).

First the machine: the CPU model, fracview's dispatched ISA, the OpenBLAS core, and whether the peers were
ISA-limited (FRACVIEW_PEER_MAX_ISA) and what each of them actually ran.
Latency: for each model the round whose fracview/ORT ratio is the median, with the range of the fracview/ORT and
fracview/OpenVINO ratios over the rounds (each round runs the frameworks seconds apart; the machine's speed drifts
between rounds). The head-to-head rows ({"model", "versus"}: scripts/bench_peers.py --versus) get their own table.
Results from before OpenVINO joined print with its columns empty.
Exits 1 if fracview, ONNX Runtime or OpenVINO disagree with PyTorch by more than 1e-4 in any probability, in any
round.

    python3 scripts/bench_report.py /tmp/fracview-bench.jsonl
"""
import json
import statistics
import sys

DASH = "—"


def latency(r):
    """(fracview, PyTorch, ORT, OpenVINO or None) medians and p90s of the row's headline figure."""
    f, p = r["fracview"], r["peers"]
    pt, ort, ov = p["pytorch"], p["onnxruntime"], p.get("openvino")
    key = "members_case" if p.get("members") else "batch1"
    peer = lambda x: (x[key]["ms_median"], x[key]["ms_p90"]) if x and key in x else None  # noqa: E731
    # The members case like the peers' (forwards alone); results from before fracview timed it so carry maps.
    case = "ensemble_forwards" if "ensemble_forwards_ms_median" in f else "ensemble_case"
    ours = (f[f"{case}_ms_median"], f[f"{case}_ms_p90"]) if p.get("members") else \
        (f["forward_ms_median"], f["forward_ms_p90"])
    return ours, peer(pt), peer(ort), peer(ov)


def fracview_isa(f, cpu):
    """fracview's dispatched ISA: from its bench JSON where it reports one, else what its dispatcher picks for
    these CPU flags (AVX-512 with avx512f+avx512vl, AVX2 with avx2+fma)."""
    if isinstance(f.get("kernel_isa"), str):
        return f["kernel_isa"] + ("" if f.get("kernel_isa") == f.get("supported_isa") else
                                  f" (capped by FRACVIEW_MAX_ISA; the CPU has {f.get('supported_isa')})")
    flags = set((cpu or {}).get("isa_flags", []))
    if not flags:
        return "not reported"
    isa = "AVX-512" if {"avx512f", "avx512vl"} <= flags else "AVX2" if {"avx2", "fma"} <= flags else "baseline"
    return f"{isa} (not reported by this fracview build: what its dispatcher picks on these CPU flags)"


def machine_line(r):
    """The CPU, fracview's ISA and OpenBLAS core, and the peers' ISA, from a row (a bench row or a head-to-head)."""
    p = r.get("peers") or r.get("versus") or {}
    cpu, isa = p.get("cpu"), p.get("peer_isa")
    out, note = [], None
    if cpu:
        out.append(f"CPU {cpu['model']} ({cpu['logical_cpus']} logical CPUs; {' '.join(cpu['isa_flags']) or 'no AVX'})")
    else:
        out.append("CPU not recorded (results from before the report named it)")
    if "fracview" in r and "peers" in r:
        f = r["fracview"]
        ours = fracview_isa(f, cpu)
        out.append(f"fracview ISA {ours}, OpenBLAS core {f.get('openblas_core', DASH)}")
        if isa and isa.get("limited_to") and \
                not ours.replace("-", "").upper().startswith(isa["limited_to"].replace("-", "").upper()):
            note = f"NOTE: the peers were capped at {isa['limited_to'].upper()} but fracview was not"
    if isa:
        prims = isa.get("openvino_primitives") or {}
        ovs = ", ".join(f"{k} {v}" for k, v in sorted(prims.items(), key=lambda kv: -kv[1]))
        limit = f"ISA-limited to {isa['limited_to'].upper()} (FRACVIEW_PEER_MAX_ISA)" if isa.get("limited_to") \
            else "not ISA-limited"
        out.append(f"peers {limit}: OpenVINO's primitives {ovs or DASH} (the MLAS node's ISA is not visible), "
                   f"PyTorch {isa.get('pytorch_cpu_capability') or DASH}, ONNX Runtime "
                   f"{'NOT limited (no switch: MLAS dispatches on CPUID)' if isa.get('limited_to') else 'CPUID dispatch'}")
    return "; ".join(out + ([note] if note else []))


def fmt(x, digits=1):
    return f"{x[0]:.{digits}f} ({x[1]:.{digits}f})" if x else DASH


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    heads = [r for r in rows if "versus" in r]
    rows = [r for r in rows if "versus" not in r]
    models = list(dict.fromkeys(r["model"] for r in rows))
    bad = []
    for r in rows:
        dp_f = max(abs(a - b) for a, b in zip(r["fracview"]["probabilities"], r["peers"]["pytorch"]["probabilities"]))
        r["dp_fracview"], r["dp_ort"] = dp_f, r["peers"]["ort_vs_pytorch_max_abs_dp"]
        r["dp_ov"] = r["peers"].get("openvino_vs_pytorch_max_abs_dp")
        if dp_f > 1e-4 or r["dp_ort"] > 1e-4 or (r["dp_ov"] or 0) > 1e-4:
            bad.append(f"{r['model']} round {r.get('round', 1)}")
    for h in heads:
        v = h["versus"]
        if max(v.get("ort_vs_pytorch_max_abs_dp", 0), v.get("openvino_vs_pytorch_max_abs_dp", 0)) > 1e-4:
            bad.append(f"{h['model']} head-to-head")
    if rows or heads:
        print("machine: " + machine_line(rows[0] if rows else heads[0]))
        print()
    if rows:
        rounds = max(r.get("round", 1) for r in rows)
        first = rows[0]["fracview"]
        print(f"batch 1 latency, ms: median (p90) of {first['runs']} runs, {first['threads']} threads each, the same "
              f"X-ray input; the median of {rounds} round(s) by fracview / ORT, the range over all rounds in brackets")
        print("| model | fracview | PyTorch eager | ONNX Runtime | OpenVINO | fracview / ORT | fracview / OpenVINO | "
              "fracview / PyTorch | max \\|Δp\\| fracview, ORT, OpenVINO vs PyTorch |")
        print("|---|---|---|---|---|---|---|---|---|")
    for m in models:
        runs = [r for r in rows if r["model"] == m]
        ratios = sorted((latency(r)[0][0] / latency(r)[2][0], i) for i, r in enumerate(runs))
        r = runs[ratios[len(ratios) // 2][1]]
        ours, pt, ort, ov = latency(r)
        f = r["fracview"]
        name = f"`{m}` ({f['architecture']} {f['input_size'][0]})"
        if r["peers"].get("members"):
            name += f", a case through all {r['peers']['members']} members" + \
                ("" if "ensemble_forwards_ms_median" in f else " (fracview's with its maps)")
        spread = f" [{ratios[0][0]:.2f}–{ratios[-1][0]:.2f}]" if len(ratios) > 1 else ""
        ov_ratio = DASH
        if ov:
            ov_all = sorted(latency(x)[0][0] / latency(x)[3][0] for x in runs if latency(x)[3])
            ov_ratio = f"{ours[0] / ov[0]:.2f}" + (f" [{ov_all[0]:.2f}–{ov_all[-1]:.2f}]" if len(ov_all) > 1 else "")
        dp_ov = [x["dp_ov"] for x in runs if x["dp_ov"] is not None]
        dps = (f"{max(x['dp_fracview'] for x in runs):.1e}, {max(x['dp_ort'] for x in runs):.1e}, "
               f"{f'{max(dp_ov):.1e}' if dp_ov else DASH}")
        print(f"| {name} | {fmt(ours)} | {fmt(pt)} | {fmt(ort)} | {fmt(ov)} | {ours[0] / ort[0]:.2f}{spread} | {ov_ratio} | "
              f"{ours[0] / pt[0]:.2f} | {dps}{' (first member)' if r['peers'].get('members') else ''} |")
    if rows:
        print()
    if heads:
        v0 = heads[0]["versus"]
        sides = v0.get("sides", ["fracview", "onnxruntime"])
        print(f"head-to-head, interleaved ({', '.join(sides)} taking turns, who goes first rotating): {v0['bursts']} "
              f"bursts of {v0['burst_runs']} forwards each, a tenth of a second apart; ms over all timed forwards; "
              f"ratios: of the medians, and per burst median [quartiles], bursts fracview won")
        print("| model | fracview median (min, p90) | ORT median (min, p90) | OpenVINO median (min, p90) | "
              "fracview / ORT | fracview / OpenVINO | fracview / faster peer (which was faster) |")
        print("|---|---|---|---|---|---|---|")
        for h in heads:
            v, f = h["versus"], h["versus"]["fracview"]

            def side(name):
                s = v.get(name)
                return f"{s['ms_median']:.2f} ({s['ms_min']:.2f}, {s['ms_p90']:.2f})" if s else DASH

            def ratio(name, key):
                if f"pair_ratio{key}_median" not in v:
                    return DASH
                q = v[f"pair_ratio{key}_quartiles"]
                medians = f"{f['ms_median'] / v[name]['ms_median']:.2f}; " if name else ""
                return (f"{medians}{v[f'pair_ratio{key}_median']:.2f} [{q[0]:.2f}–{q[1]:.2f}]; "
                        f"{v[f'pairs_fracview_faster{key}']} of {v['bursts']}")
            best = ratio(None, "_best_peer")
            if best != DASH:
                best += " (" + ", ".join(f"{k} {n}" for k, n in v.get("best_peer_bursts", {}).items()) + ")"
            size = "×".join(str(n) for n in v.get("input_size", []))
            print(f"| `{h['model']}`{', ' + size if size else ''} | {side('fracview')} | {side('onnxruntime')} | {side('openvino')} | "
                  f"{ratio('onnxruntime', '')} | {ratio('openvino', '_openvino')} | {best} |")
        print()
    tp_rows = [r for r in rows if not r["peers"].get("members") and r["fracview"].get("throughput")
               and r["peers"].get("throughput", True)]
    if tp_rows:
        b = tp_rows[0]["peers"]["batch"]
        print("throughput, images/s over the bundled sample's X-rays (first round; one member): decode excluded / "
              "included; OpenVINO THROUGHPUT: its throughput hint (streams × threads, async requests), decode excluded")
        print(f"| model | fracview, one image per core (evaluate) | fracview, each op over the cores | PyTorch batch 1 | "
              f"PyTorch batch {b} | ORT batch 1 | ORT batch {b} | OpenVINO batch 1 | OpenVINO batch {b} | "
              f"OpenVINO THROUGHPUT |")
        print("|---|---|---|---|---|---|---|---|---|---|")
    for r in tp_rows:
        t, pt, ort, ov = r["fracview"]["throughput"], r["peers"]["pytorch"], r["peers"]["onnxruntime"], \
            r["peers"].get("openvino")
        b = r["peers"]["batch"]
        ov_cols = f"{DASH} | {DASH} | {DASH}"
        if ov and "images_per_s_batch1" in ov:
            c = ov.get("throughput_hint_config", {})
            streams = f" ({c['NUM_STREAMS']} streams)" if "NUM_STREAMS" in c else ""
            ov_cols = (f"{ov['images_per_s_batch1']:.1f} / {ov['images_per_s_decode_included']:.1f} | "
                       f"{ov[f'images_per_s_batch{b}']:.1f} | "
                       f"{ov['images_per_s_throughput_hint']:.1f}{streams}" if "images_per_s_throughput_hint" in ov
                       else f"{ov['images_per_s_batch1']:.1f} / {ov['images_per_s_decode_included']:.1f} | "
                            f"{ov[f'images_per_s_batch{b}']:.1f} | {DASH}")
        print(f"| `{r['model']}` | {t['images_per_s_per_core']:.1f} / {t['images_per_s_per_core_decode_included']:.1f} | "
              f"{t['images_per_s_split']:.1f} / {t['images_per_s_split_decode_included']:.1f} | "
              f"{pt['images_per_s_batch1']:.1f} / {pt['images_per_s_decode_included']:.1f} | {pt[f'images_per_s_batch{b}']:.1f} | "
              f"{ort['images_per_s_batch1']:.1f} / {ort['images_per_s_decode_included']:.1f} | {ort[f'images_per_s_batch{b}']:.1f} | "
              f"{ov_cols} |")
    if tp_rows:
        print()
    for m in models:
        rss = [r["fracview"]["peak_rss_mb"] for r in rows if r["model"] == m]
        n = next(r["fracview"]["members"] for r in rows if r["model"] == m)
        print(f"`{m}`: fracview peak RSS {statistics.median(rss):.0f} MB ({n} member{'s' if n > 1 else ''} loaded)")
    if rows:
        fw = rows[0]["peers"]
        print("peers: " + ", ".join(fw[k]["framework"] for k in ("pytorch", "onnxruntime", "openvino") if k in fw) +
              (f"; OpenVINO {', '.join(f'{k} {v}' for k, v in fw['openvino'].get('config', {}).items())}"
               if "openvino" in fw else ""))
    if bad:
        print("probabilities disagree with PyTorch by more than 1e-4: " + ", ".join(bad), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
