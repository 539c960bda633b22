"""localbase.py — the tests' and benchmarks' handle on scripts/localbase.py (a runner-image base assembled from this host's Debian packages, plus podman set-up: no registry here)."""
import importlib.util
import os

_spec = importlib.util.spec_from_file_location(
    "sourcemode_localbase", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts",
                                         "localbase.py"))
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)

RUNNERS = _mod.RUNNERS
CONTAINERS_CONF = _mod.CONTAINERS_CONF
IMAGES = _mod.IMAGES
closure = _mod.closure
engine_env = _mod.engine_env
import_image = _mod.import_image
packages = _mod.packages
podman_problem = _mod.podman_problem
write_rootfs_tar = _mod.write_rootfs_tar
