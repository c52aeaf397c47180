# pm's probe of a Ray installation and of a Ray cluster (src/provider/ray.rs).
#
# pm runs it with the provider venv's Python, the script itself in the
# environment (PM_RAY_PROBE) so that the command line stays short:
#   python -I -c 'import os; exec(os.environ["PM_RAY_PROBE"])' installed
#   python -I -c '...' cluster HOST:PORT TIMEOUT_SECS
# and reads one JSON document from the last line of stdout. Auth comes from
# RAY_AUTH_MODE and RAY_AUTH_TOKEN, set by pm; the token never reaches argv.
# It uses the GCS client directly: `ray status` keeps listing dead nodes,
# `ray list nodes` needs the dashboard, and `ray.init` would start a driver.
import json
import platform
import sys


def versions():
    import ray

    return {"ray": ray.__version__, "python": platform.python_version()}


def installed():
    """The venv's Python and Ray versions; Ray null when it is missing."""
    try:
        return versions()
    except ImportError:
        return {"ray": None, "python": platform.python_version()}


def node(info):
    return {
        "node_id": info.node_id.hex(),
        "node_ip": info.node_manager_address,
        "alive": info.state == type(info).ALIVE,
        "is_head": info.is_head_node,
        "temp_dir": info.temp_dir,
    }


def cluster(address, timeout):
    local = versions()
    from ray._common.usage import usage_constants
    from ray._private import ray_constants
    from ray._raylet import GcsClient

    client = GcsClient(address=address)
    # What the head published at start: the Ray and Python versions that
    # `ray start` compares (and silently skips comparing when missing).
    raw = client.internal_kv_get(
        usage_constants.CLUSTER_METADATA_KEY,
        namespace=ray_constants.KV_NAMESPACE_CLUSTER,
        timeout=timeout,
    )
    meta = json.loads(raw) if raw else {}
    head = None
    if meta.get("ray_version") and meta.get("python_version"):
        head = {"ray": meta["ray_version"], "python": meta["python_version"]}
    nodes = client.get_all_node_info(timeout=timeout).values()
    return {"local": local, "head": head, "nodes": [node(n) for n in nodes]}


def main(argv):
    try:
        if argv[1:2] == ["installed"]:
            out = installed()
        else:
            out = cluster(argv[2], float(argv[3]))
    except BaseException as e:  # noqa: BLE001 - every failure is reported as JSON
        error = {"type": type(e).__name__, "message": str(e)[:4000]}
        print(json.dumps({"error": error}), flush=True)
        sys.exit(3)
    print(json.dumps(out), flush=True)


main(sys.argv)
