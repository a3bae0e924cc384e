"""Kill one replica of a deployment with `ray.kill`, as a crash would: run as a script in a
process of its own, so that this driver's `ray.init` never touches the test process's Ray.

    python -m tests.integration.kill_replica 127.0.0.1:GCS_PORT Router
"""

from __future__ import annotations

import sys

import ray


def kill_one(address: str, deployment: str, app: str = "tutor") -> str:
    # This driver's own address must be loopback too, as the head's is (launcher.RAY_ENV).
    ray.init(
        address=address,
        logging_level="ERROR",
        log_to_driver=False,
        _node_ip_address="127.0.0.1",
    )
    prefix = f"SERVE_REPLICA::{app}#{deployment}#"
    named = [
        a for a in ray.util.list_named_actors(all_namespaces=True) if a["name"].startswith(prefix)
    ]
    if not named:
        raise SystemExit(f"no replica of {deployment} found")
    victim = named[0]
    ray.kill(ray.get_actor(victim["name"], namespace=victim["namespace"]), no_restart=True)
    return str(victim["name"])


if __name__ == "__main__":
    print(kill_one(sys.argv[1], sys.argv[2]))
