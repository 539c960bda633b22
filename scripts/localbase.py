#!/usr/bin/env python3
"""localbase.py — assembles a base image for the runner images from this machine's installed Debian packages and imports it (podman or docker), for building the images without a registry.

    scripts/localbase.py [--runner NAME]... [--engine podman|docker] TAG
    BASE=TAG BUILD_FLAGS=--pull=never scripts/images.sh        # then build the images on it

The rootfs holds the files (dpkg -L) of a package list and its installed Depends closure:
scripts/deps.sh's build group (so a Dockerfile's build stage compiles reloader without apt),
curl (the healthcheck), each runner's language packages and the agent image's (IMAGES: git, gzip)
(default: all of them, one base for every image, as the official -bookworm images all sit on Debian's
buildpack-deps), and a
dpkg status file naming exactly those packages (so images/apt-ensure.sh sees them installed).
Every package must be installed here: `scripts/deps.sh test` installs them all. The engine's
import turns the tarball into an image. No network is used.

test_images.py and bench/ use it through tests/integration/localbase.py.
"""
import argparse
import io
import os
import re
import subprocess
import sys
import tarfile
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def _deps_build_list():
    """scripts/deps.sh's build group: what the Dockerfile's build stage checks for."""
    with open(os.path.join(ROOT, "scripts", "deps.sh")) as f:
        m = re.search(r'^\s*apt build "[^"]*"((?:[^\n]*\\\n)*[^\n]*)', f.read(), re.M)
    if not m:
        raise RuntimeError("scripts/deps.sh has no `apt build` group line")
    return [w.split(":")[-1] for w in m.group(1).replace("\\\n", " ").split()]


COMMON = "base-files dash bash coreutils dpkg libc-bin sed grep findutils mawk tar curl ca-certificates".split()
# The language packages of each runner (images/NAME.Dockerfile); npm is provided by NodeSource's nodejs.
RUNNERS = {
    "go": ["golang-go", "golang-src"],
    "c": ["gcc", "make", "libc6-dev"],
    "rust": ["cargo", "rustc"],
    "node": ["nodejs", "npm"],
    "python": ["python3", "python3-pip"],
}


# Images that are not runners (images/NAME.Dockerfile without reloader): what their runtime stage needs beyond
# the build group. The agent image (appdeploy.Dockerfile) clones with git and unpacks bundles with tar + gzip.
IMAGES = {
    "appdeploy": ["git", "gzip"],
}


# Files that packages' maintainer scripts generate (so no package's file list names them), taken from this
# machine: ca-certificates' postinst writes the bundle that curl, git and OpenSSL read.
GENERATED = ["/etc/ssl/certs/ca-certificates.crt"]


# Trees taken whole as they are on disk, beyond the packages' file lists: npm upgrades itself in
# place (`npm install -g npm`), leaving dpkg's list of the nodejs package's npm files stale.
TREES = {"node": ["/usr/lib/node_modules/npm"]}


def packages(runners=tuple(RUNNERS)):
    """The package list of a base for these runners or images (IMAGES) (before the Depends closure)."""
    out = COMMON + _deps_build_list()
    for r in runners:
        if r not in RUNNERS and r not in IMAGES:
            raise RuntimeError(f"no runner {r!r} (runners: {' '.join(RUNNERS)}; images: {' '.join(IMAGES)})")
        out += RUNNERS.get(r) or IMAGES[r]
    return list(dict.fromkeys(out))


SKIP = ("/usr/share/doc/", "/usr/share/man/", "/usr/share/info/", "/usr/share/locale/", "/usr/share/lintian/")
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=20000:20000"]

[engine]
runtime = "runc"
"""


def engine_env(tmpdir):
    """Environment for podman: a private containers.conf (runc, ulimits podman's default trips on here)."""
    path = os.path.join(tmpdir, "containers.conf")
    with open(path, "w") as f:
        f.write(CONTAINERS_CONF)
    return dict(os.environ, CONTAINERS_CONF=path)


def podman_problem(env):
    """None when podman can run containers here, else why not (the tests fail with it)."""
    if subprocess.run(["sh", "-c", "command -v podman"], capture_output=True).returncode:
        return "podman is not installed (scripts/deps.sh test installs it)"
    if os.geteuid() != 0:
        return "not root: this test drives rootful podman"
    r = subprocess.run(["podman", "info", "--format", "{{.Host.OCIRuntime.Name}}"], env=env, capture_output=True,
                       text=True, timeout=60)
    if r.returncode:
        return f"podman info fails: {r.stderr.strip()[-500:]}"
    return None


def _status_paragraphs():
    with open("/var/lib/dpkg/status") as f:
        for para in f.read().split("\n\n"):
            fields, key = {}, None
            for line in para.splitlines():
                if line.startswith((" ", "\t")) and key:
                    fields[key] += "\n" + line
                elif ":" in line:
                    key, val = line.split(":", 1)
                    fields[key] = val.strip()
            if "Package" in fields and "install ok installed" in fields.get("Status", ""):
                yield fields["Package"], fields.get("Architecture", ""), fields, para


def closure(wanted):
    """The installed packages wanted needs (Depends + Pre-Depends, first installed alternative)."""
    pkgs, provides, paras = {}, {}, {}
    for name, arch, fields, para in _status_paragraphs():
        pkgs[name] = fields
        paras[name] = para
        for p in fields.get("Provides", "").split(","):
            p = p.strip().split(" ")[0]
            if p:
                provides.setdefault(p, name)

    def resolve(alternatives):
        for alt in alternatives.split("|"):
            n = alt.strip().split(" ")[0].split(":")[0]
            if n in pkgs:
                return n
            if n in provides:
                return provides[n]
        return None

    seen, stack = set(), list(wanted)
    while stack:
        n = resolve(stack.pop())
        if not n or n in seen:
            continue
        seen.add(n)
        for field in ("Pre-Depends", "Depends"):
            stack += [d for d in pkgs[n].get(field, "").split(",") if d.strip()]
    missing = [w for w in wanted if not resolve(w)]
    if missing:
        raise RuntimeError(f"host packages missing for the local base: {' '.join(missing)}")
    return sorted(seen), "\n\n".join(paras[n] for n in sorted(seen)) + "\n"


def _files(pkg):
    for arch_name in (pkg, pkg + ":amd64"):
        r = subprocess.run(["dpkg", "-L", arch_name], capture_output=True, text=True)
        if r.returncode == 0:
            return r.stdout.splitlines()
    return []


def write_rootfs_tar(out, runners=tuple(RUNNERS)):
    """Writes the base's rootfs as an uncompressed tarball to the file object out (a stream is
    fine); returns the package names."""
    names, status = closure(packages(runners))
    paths = set()
    for r in runners:
        for top in TREES.get(r, []):
            for d, dirs, files in os.walk(top):
                paths.update(os.path.join(d, e) for e in dirs + files)
    for n in names:
        for p in _files(n):
            if not p.startswith("/") or p == "/." or p.startswith(SKIP):
                continue
            # merged /usr: /bin/sh is really /usr/bin/sh; the top-level links are added below
            real = os.path.join(os.path.realpath(os.path.dirname(p)), os.path.basename(p))
            if os.path.lexists(real):
                paths.add(real)
    # update-alternatives links (cc -> gcc, awk -> mawk) belong to no package's file list
    alts = set()
    for a in os.listdir("/etc/alternatives"):
        full = os.path.join("/etc/alternatives", a)
        if os.path.islink(full) and os.path.realpath(full) in paths:
            alts.add(full)
    for d in ("/usr/bin", "/usr/sbin"):
        for e in os.listdir(d):
            full = os.path.join(d, e)
            if os.path.islink(full) and os.readlink(full).startswith("/etc/alternatives/") and \
                    os.readlink(full) in alts:
                paths.add(full)
    paths |= alts | {"/etc/alternatives"}
    paths |= {p for p in GENERATED if os.path.isfile(p)}
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.GNU_FORMAT) as tar:
        def add_dir(name, mode=0o755):
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, mode
            tar.addfile(info)

        def add_text(name, text, mode=0o644):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))

        own = ("usr", "etc", "var", "var/lib", "var/lib/dpkg", "var/lib/dpkg/info", "var/lib/dpkg/updates", "root",
               "dev", "proc", "sys", "run", "usr/local", "usr/local/bin", "usr/local/lib", "src", "tmp", "bin",
               "sbin", "lib", "lib64", "etc/passwd", "etc/group", "etc/hosts", "var/lib/dpkg/status",
               "var/lib/dpkg/available")
        for d in own[:16]:
            add_dir(d)
        add_dir("tmp", 0o1777)
        for link in ("bin", "sbin", "lib", "lib64"):
            if os.path.islink("/" + link):
                info = tarfile.TarInfo(link)
                info.type, info.linkname = tarfile.SYMTYPE, os.readlink("/" + link)
                tar.addfile(info)
        add_text("etc/passwd", "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
        add_text("etc/group", "root:x:0:\nnogroup:x:65534:\n")
        add_text("etc/hosts", "127.0.0.1 localhost\n")
        add_text("var/lib/dpkg/status", status)
        add_text("var/lib/dpkg/available", "")
        for p in sorted(paths):
            if p.lstrip("/") in own:
                continue
            tar.add(p, arcname=p.lstrip("/"), recursive=False)
    return names


def import_image(tag, env, tmpdir=None, runners=("go",), engine="podman"):
    """Imports the base for runners as image TAG, the tarball streamed into the engine. Returns the
    package count. (tmpdir: unused, kept for callers that pass one.)"""
    with tempfile.TemporaryFile() as err:
        p = subprocess.Popen([engine, "import", "--change", f"ENV PATH={PATH}", "--change", 'CMD ["/bin/bash"]',
                              "-", tag], env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err)
        try:
            names = write_rootfs_tar(p.stdin, runners)
            p.stdin.close()
            p.wait(timeout=600)
        except BaseException:
            p.kill()
            p.wait()
            raise
        if p.returncode:
            err.seek(0)
            raise RuntimeError(f"{engine} import {tag} failed: {err.read().decode(errors='replace')[-2000:]}")
    return len(names)


def main():
    ap = argparse.ArgumentParser(description="Assemble a runner-image base from this machine's Debian packages "
                                 "and import it as TAG (no registry needed).")
    ap.add_argument("tag", help="image name, e.g. localhost/sourcemode-base")
    ap.add_argument("--runner", action="append", choices=sorted(RUNNERS) + sorted(IMAGES),
                    help="the runners (or the agent image, appdeploy) the base serves (repeatable; default: all)")
    ap.add_argument("--engine", default=os.environ.get("ENGINE", "podman"), choices=("podman", "docker"))
    ap.add_argument("--list", action="store_true", help="print the package closure and exit")
    a = ap.parse_args()
    runners = tuple(a.runner or list(RUNNERS) + list(IMAGES))
    try:
        if a.list:
            print("\n".join(closure(packages(runners))[0]))
            return 0
        env = dict(os.environ)
        if a.engine == "podman" and "CONTAINERS_CONF" not in env:
            env = engine_env(tempfile.mkdtemp(prefix="sourcemode-conf-"))
        print(f"localbase: assembling {a.tag} for {' '.join(runners)} from this machine's Debian packages",
              file=sys.stderr)
        n = import_image(a.tag, env, runners=runners, engine=a.engine)
    except RuntimeError as e:
        print(f"localbase: {e}", file=sys.stderr)
        print("localbase: scripts/deps.sh test installs every package a base needs", file=sys.stderr)
        return 1
    print(f"{a.tag}: {n} Debian packages; build on it with: BASE={a.tag} BUILD_FLAGS=--pull=never scripts/images.sh")
    return 0


if __name__ == "__main__":
    sys.exit(main())
