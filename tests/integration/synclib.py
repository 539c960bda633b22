"""synclib.py — the source-sync wire format for tests (common/syncproto.h): manifests and batch bodies."""
import hashlib
import json
import os
import stat


def tree_manifest(root):
    """Every regular file under root (no .git), as the client's manifest entries."""
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            if not stat.S_ISREG(st.st_mode):
                continue
            with open(full, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            files.append({"path": os.path.relpath(full, root), "size": st.st_size,
                          "mode": stat.S_IMODE(st.st_mode) & 0o777, "sha256": digest})
    return {"files": files}


def batch(files=(), deletes=(), end=True):
    """files: (path, mode, bytes) tuples; deletes: paths. Returns the body."""
    out = [b"RLSYNC 1\n"]
    for path, mode, data in files:
        p = path.encode() if isinstance(path, str) else path
        out.append(b"F %o %d " % (mode, len(data)) + p + b"\n" + data + b"\n")
    for path in deletes:
        out.append(b"D " + path.encode() + b"\n")
    if end:
        out.append(b"END\n")
    return b"".join(out)


def snapshot(root):
    """{relative path: (kind, mode, content or link target)} for everything under root, for 'unchanged' checks."""
    snap = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                snap[rel] = ("link", 0, os.readlink(full))
            elif stat.S_ISDIR(st.st_mode):
                snap[rel] = ("dir", stat.S_IMODE(st.st_mode), None)
            elif stat.S_ISREG(st.st_mode):
                with open(full, "rb") as f:
                    snap[rel] = ("file", stat.S_IMODE(st.st_mode), f.read())
            else:
                snap[rel] = ("special", stat.S_IMODE(st.st_mode), st.st_ino)
    return snap


def dumps(obj):
    return json.dumps(obj).encode()
