"""`make bench`: Almanac against a bare taskiq worker, on this machine, in one run.

Prints absolute figures as context and ratios as the result. Phases can be chosen:
`python ops/bench/run.py executions schedule api readmodels bus emits flood` (default: all).
"""

from __future__ import annotations

import argparse
import json
import sys

from harness import fresh_database, servers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "phases",
        nargs="*",
        default=["executions", "schedule", "api", "readmodels", "bus", "emits", "flood"],
    )
    parser.add_argument("--executions", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2, help="worker processes, both sides")
    parser.add_argument("--concurrency", type=int, default=16, help="handler slots per worker")
    parser.add_argument("--jobs", type=int, default=1000, help="per-second jobs for fire lag")
    args = parser.parse_args()
    results: dict[str, object] = {}
    with servers() as (server_url, redis_url):
        for phase in args.phases:
            with fresh_database(server_url) as database_url:
                results[phase] = PHASES[phase](database_url, redis_url, args)
                print(f"== {phase}: {json.dumps(results[phase], indent=2)}", flush=True)
    print(json.dumps(results, indent=2))


def executions(database_url: str, redis_url: str, args: argparse.Namespace) -> dict[str, object]:
    from executions import almanac_throughput, taskiq_throughput

    baseline = taskiq_throughput(redis_url, args.executions, args.workers)
    almanac = almanac_throughput(
        database_url, redis_url, args.executions, args.workers, args.concurrency
    )
    ratio = almanac["per_second"] / baseline["per_second"]
    return {"almanac": almanac, "bare_taskiq": baseline, "ratio": round(ratio, 2)}


def schedule(database_url: str, redis_url: str, args: argparse.Namespace) -> dict[str, object]:
    from schedule_lag import fire_lag

    return fire_lag(database_url, redis_url, args.jobs)


def api(database_url: str, redis_url: str, args: argparse.Namespace) -> dict[str, object]:
    from dataclasses import asdict

    from api import bench_api

    server_url = database_url.rsplit("/", 1)[0] + "/postgres"  # it makes its own scratch db
    return asdict(bench_api(server_url, redis_url))


def readmodels(database_url: str, redis_url: str, args: argparse.Namespace) -> dict[str, object]:
    from readmodels import benchmark_read_models

    return benchmark_read_models(database_url, redis_url)


def bus(database_url: str, redis_url: str, args: argparse.Namespace) -> dict[str, object]:
    from bus import benchmark_bus

    return benchmark_bus(database_url, redis_url)


def emits(database_url: str, redis_url: str, args: argparse.Namespace) -> dict[str, object]:
    from api_emits import benchmark_api_emits

    return benchmark_api_emits(database_url, redis_url)


def flood(database_url: str, redis_url: str, args: argparse.Namespace) -> dict[str, object]:
    from flood import benchmark_flood

    return benchmark_flood(database_url, redis_url)


PHASES = {
    "executions": executions,
    "schedule": schedule,
    "api": api,
    "readmodels": readmodels,
    "bus": bus,
    "emits": emits,
    "flood": flood,
}

if __name__ == "__main__":
    sys.exit(main())
