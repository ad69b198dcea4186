"""Makes a PEP 503 "simple" package index of synthetic pure-Python wheels,
for the cache-mount benchmark (no PyPI here): N packages, each carrying
SIZE bytes of random data, under DIR/simple/<name>/.

usage: python3 mkindex.py DIR N SIZE
"""
import base64
import hashlib
import os
import sys
import zipfile


def record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def wheel(out_dir, name, size):
    module = name.replace("-", "_")
    files = {
        f"{module}/__init__.py": b"DATA = __file__\n",
        f"{module}/data.bin": os.urandom(size),
        f"{module}-1.0.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n".encode(),
        f"{module}-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: berth-bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record_path = f"{module}-1.0.dist-info/RECORD"
    record = "\n".join(record_line(p, d) for p, d in files.items()) + f"\n{record_path},,\n"
    files[record_path] = record.encode()
    pkg_dir = os.path.join(out_dir, "simple", name)
    os.makedirs(pkg_dir, exist_ok=True)
    filename = f"{module}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(pkg_dir, filename), "w", zipfile.ZIP_STORED) as z:
        for p, d in files.items():
            z.writestr(p, d)
    with open(os.path.join(pkg_dir, "index.html"), "w") as f:
        f.write(f'<html><body><a href="{filename}">{filename}</a></body></html>\n')


def main():
    out_dir, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    names = [f"bench-pkg-{i:02d}" for i in range(n)]
    for name in names:
        wheel(out_dir, name, size)
    with open(os.path.join(out_dir, "simple", "index.html"), "w") as f:
        f.write("<html><body>" + "".join(f'<a href="{n}/">{n}</a>' for n in names) + "</body></html>\n")


if __name__ == "__main__":
    main()
