#!/usr/bin/env python3
"""Writes Tests/Fixtures/review/v1-review.sqlite: a review database as fracview wrote it before schema v2 (the v1
schema, verbatim from Sources/Review/ReviewStore.swift at commit b0ffc26, and GRDB's migrations table), with two
decisions and one cached prediction. StoreMigrationTests opens it with today's ReviewStore.

    python3 Tests/Fixtures/review/make_v1_database.py
"""
import json
import os
import re
import sqlite3
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
OUT = os.path.join(HERE, "v1-review.sqlite")
CLASSES = ["Comminuted", "Greenstick", "Healthy", "Linear", "Oblique Displaced", "Oblique", "Segmental", "Spiral",
           "Transverse Displaced", "Transverse"]


def v1_schema():
    src = subprocess.run(["git", "show", "b0ffc26:Sources/Review/ReviewStore.swift"], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout
    block = src[src.index('registerMigration("v1")'):]
    return re.search(r'"""\n(.*?)"""', block, re.S).group(1)


def main():
    if os.path.exists(OUT):
        os.remove(OUT)
    db = sqlite3.connect(OUT)
    db.executescript(v1_schema())
    db.execute("CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
    db.execute("INSERT INTO grdb_migrations VALUES ('v1')")
    db.execute("INSERT INTO session VALUES (1, '/data/hbfmid-test', ?, '2026-11-30T10:00:00.000Z')", (json.dumps(CLASSES),))
    probs = [0.05, 0.05, 0.05, 0.05, 0.5, 0.05, 0.05, 0.05, 0.1, 0.05]
    db.execute("INSERT INTO decision VALUES ('alice', 'test', 'test/images/a.jpg', 'relabelled', 8, 4, ?, 9, 'old note',"
               " '2026-11-30T10:01:00.000Z', 'abc123')", (json.dumps(probs),))
    db.execute("INSERT INTO decision VALUES ('alice', 'test', 'test/images/b.jpg', 'accepted', 0, 0, ?, NULL, '',"
               " '2026-11-30T10:02:00.000Z', 'abc123')", (json.dumps(probs),))
    import struct
    blob = lambda v: struct.pack(f"<{len(v)}f", *v)  # noqa: E731
    db.execute("INSERT INTO prediction_cache VALUES ('ff00', 'abc123', ?, ?, 1, 1, NULL, NULL, NULL,"
               " '2026-11-30T10:00:00.000Z')", (blob(probs), blob([0.5])))
    db.commit()
    db.execute("VACUUM")
    db.close()
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
