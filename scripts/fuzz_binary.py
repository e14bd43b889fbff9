#!/usr/bin/env python3
"""A fuzz round against the real binary (issue #26's method): mutated inputs of every surface a user hands fracview
(DICOM and image files, weights, datasets' data.yaml, keys.yaml, review databases, PostgreSQL URLs), each run as its
own process under `timeout 20` and a 2 GB address-space limit. Counts, per surface: runs, crashes (a signal),
hangs (the timeout), error messages longer than one line, and raw control or bidi characters in the output or the
URL's userinfo password (S3CRET) echoed.

    python3 scripts/fuzz_binary.py [--runs N] [--binary .build/release/fracview] [--seed S]

The mutations are libFuzzer's kinds (bit flips, interesting bytes, inserts, deletes, duplicated chunks, splices),
seeded from Tests/Fuzz/corpus. Prints one line per surface and a total; the failing inputs are kept under
.build-fuzz/binary-round/. Exit status 1 when anything failed.
"""
import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(REPO, "Tests", "Fuzz", "corpus")
INTERESTING = [0, 1, 0x7F, 0x80, 0xFF, 0x1B, 0x22, 0x26, 0x2A, 0x3A, 0x5B, 0x7B, 0x39, 0x2D, 0x65]
BAD_CHARS = {chr(c) for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)} | {"\x7f", "\u202e", "\u2028", "\u2029"}


def mutate(seed: bytes, other: bytes, rng: random.Random) -> bytes:
    b = bytearray(seed)
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(b)) if b else 0
        kind = rng.randrange(6)
        if kind == 0 and b:
            b[at] ^= 1 << rng.randrange(8)
        elif kind == 1 and b:
            b[at] = rng.choice(INTERESTING)
        elif kind == 2:
            b[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif kind == 3 and b:
            del b[at:at + rng.randint(1, 16)]
        elif kind == 4 and b:
            b[at:at] = b[at:at + rng.randint(1, 32)]
        else:
            cut = rng.randrange(len(other)) if other else 0
            b = b[:at] + other[cut:]
    return bytes(b)


def limits():
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def seeds(kind):
    d = os.path.join(CORPUS, kind)
    return [open(os.path.join(d, f), "rb").read() for f in sorted(os.listdir(d))] if os.path.isdir(d) else []


def surfaces(work):
    """name → (seed kind, how to run one input: returns the argument list and environment)."""
    sample = os.path.join(REPO, "samples", "hbfmid-test")

    def file(name):
        def prepare(data):
            path = os.path.join(work, name)
            with open(path, "wb") as f:
                f.write(data)
            return path
        return prepare

    def dataset(data):
        root = os.path.join(work, "ds")
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(os.path.join(root, "test", "images"))
        os.makedirs(os.path.join(root, "test", "labels"))
        cut = data.find(b"\0")
        yaml, label = (data, b"") if cut < 0 else (data[:cut], data[cut + 1:])
        with open(os.path.join(root, "data.yaml"), "wb") as f:
            f.write(yaml)
        shutil.copy(os.path.join(sample, "test", "images", sorted(os.listdir(os.path.join(sample, "test", "images")))[0]),
                    os.path.join(root, "test", "images", "x.jpg"))
        with open(os.path.join(root, "test", "labels", "x.txt"), "wb") as f:
            f.write(label)
        return root

    out = os.path.join(work, "out")
    return {
        "dicom": ("dicom", lambda d: (["decode", file("x.dcm")(d), "-o", out + ".png"], {})),
        "image": ("image", lambda d: (["decode", file("x.jpg")(d), "-o", out + ".png"], {})),
        "weights": ("weights", lambda d: (["info", "--weights", file("w.safetensors")(d)], {})),
        "dataset": ("dataset", lambda d: (["audit", dataset(d)], {})),
        "keys": ("yaml", lambda d: (["keys"], {"FRACVIEW_KEYS": file("keys.yaml")(d)})),
        "database": ("database", lambda d: (["export", "--db", file("r.sqlite")(d), "-o", out + ".csv", "--all-reviewers"], {})),
        "agreement": ("database", lambda d: (["agreement", "--db", file("a.sqlite")(d)], {})),
        "postgres-url": (None, lambda d: (["export", "--db", "postgres://alice:S3CRET@127.0.0.1:1/" +
                                           d.decode("latin-1").replace("\0", "%00")[:200], "-o", out + ".csv"], {})),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=300, help="runs per surface")
    ap.add_argument("--binary", default=os.path.join(REPO, ".build", "release", "fracview"))
    ap.add_argument("--seed", type=int, default=26)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    keep = os.path.join(REPO, ".build-fuzz", "binary-round")
    os.makedirs(keep, exist_ok=True)
    failed = 0
    totals = [0, 0, 0, 0, 0]
    with tempfile.TemporaryDirectory(prefix="fracview-round-") as work:
        for name, (kind, prepare) in surfaces(work).items():
            pool = seeds(kind) if kind else [b"x?sslmode=disable", b"db%00x", b"db?password=QUERYPW%00", b"[::1/x"]
            counts = {"runs": 0, "crash": 0, "hang": 0, "lines": 0, "raw": 0}
            for i in range(a.runs):
                data = mutate(rng.choice(pool), rng.choice(pool), rng)
                args, env = prepare(data)
                environment = dict(os.environ, FRACVIEW_WEIGHTS="", **env)
                try:
                    p = subprocess.run(["timeout", "20", a.binary] + args, capture_output=True, preexec_fn=limits,
                                       env=environment, cwd=work)
                    status, text = p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")
                except OSError:
                    continue
                counts["runs"] += 1
                problem = None
                if status == 124:
                    problem = "hang"
                elif status < 0 or status >= 128:
                    problem = "crash"
                elif status != 0 and len([l for l in p.stderr.decode("utf-8", "replace").splitlines() if l.strip()]) > 1 \
                        and name not in ("dataset", "database", "agreement"):  # these name each bad row or line
                    problem = "lines"
                elif any(c in BAD_CHARS for c in text) or "S3CRET" in text:
                    problem = "raw"
                if problem:
                    counts[problem] += 1
                    with open(os.path.join(keep, f"{name}-{problem}-{i}"), "wb") as f:
                        f.write(data)
            bad = counts["crash"] + counts["hang"] + counts["lines"] + counts["raw"]
            failed += bad
            for k, key in enumerate(["runs", "crash", "hang", "lines", "raw"]):
                totals[k] += counts[key]
            print(f"{name:13s} {counts['runs']:5d} runs  crashes {counts['crash']}  hangs {counts['hang']}  "
                  f"multi-line errors {counts['lines']}  raw control characters or secrets {counts['raw']}", flush=True)
    print(f"{'total':13s} {totals[0]:5d} runs  crashes {totals[1]}  hangs {totals[2]}  multi-line errors {totals[3]}  "
          f"raw control characters or secrets {totals[4]}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
