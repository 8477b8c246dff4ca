#!/usr/bin/env python3
"""Print the SHA-256 and size of every file data/sources.toml lists, read from a data dir.

Used when a dataset is updated: compare with the `sha256` fields in data/sources.toml.
Usage: python3 tools/registry_checksums.py ../shared/data
"""
import hashlib, pathlib, re, sys

data_dir = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
registry = pathlib.Path(__file__).resolve().parent.parent / "data" / "sources.toml"
for path in re.findall(r'path = "([^"]+)"', registry.read_text()):
    f = data_dir / path
    if not f.exists():
        print(f"{path}\tMISSING")
        continue
    h = hashlib.sha256(f.read_bytes()).hexdigest()
    print(f"{path}\t{h}\t{f.stat().st_size}")
