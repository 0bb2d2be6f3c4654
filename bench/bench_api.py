"""Load test of the HTTP API on 127.0.0.1: mixed routes from concurrent clients while a pipeline
step swaps in a new warehouse file in the middle.

A copy of the given warehouse (with its model folder) is served by `uvicorn api:app` on a free
127.0.0.1 port with fresh keys. Baselines first, in the same run: one recommendation call
in-process (`recsys.service`, the live ranking, no HTTP), the API's own path in-process
(`services.api_core`: the exported lists while they are fresh) and over HTTP from one client.
Then `--clients` threads call a weighted mix of routes for `--duration` seconds; at
`--refresh-at` seconds a real pipeline step (`python -m forecasting plan`, which rewrites the
reorder plan and swaps the file) runs.
Printed: requests/s, per-route p50/p95/p99 latency (ms) and errors (any non-200 or failed call),
the refresh time and the generations seen.

    .venv/bin/python bench/bench_api.py --db /tmp/api/demo/shelfwise.duckdb

The given warehouse is never written.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from recsys import service  # noqa: E402
from services import api_core, api_recs  # noqa: E402
from warehouse.db import reading, resolve_db_path  # noqa: E402

#: route name -> weight in the mix
MIX = {
    "recommendations": 40,
    "basket": 10,
    "similar": 15,
    "forecasts": 15,
    "reorder-plan": 10,
    "purchase-orders.csv": 5,
    "health": 5,
}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def copy_warehouse(source: Path, folder: Path) -> Path:
    """Copy the warehouse file and its model folder (`models/<stem>/`) into `folder`."""
    target = folder / source.name
    shutil.copyfile(source, target)
    models = source.parent / "models" / source.stem
    if models.exists():
        shutil.copytree(models, folder / "models" / source.stem)
    return target


def sample_ids(db: Path, n: int, seed: int) -> dict[str, list[str]]:
    """Customer ids (with purchases), product ids, categories and stores to ask for."""
    with reading(db) as con:
        customers = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT customer_id FROM fct_sales WHERE customer_id IS NOT NULL"
            ).fetchall()
        ]
        products = [r[0] for r in con.execute("SELECT product_id FROM dim_product").fetchall()]
        categories = [
            r[0] for r in con.execute("SELECT DISTINCT category FROM dim_product").fetchall()
        ]
        stores = [r[0] for r in con.execute("SELECT store_id FROM dim_store").fetchall()]
    rng = random.Random(seed)
    return {
        "customers": rng.sample(customers, min(n, len(customers))) + ["new-shopper-1"],
        "products": products,
        "categories": categories,
        "stores": stores,
    }


def request_for(
    route: str, ids: dict[str, list[str]], rng: random.Random
) -> tuple[str, str, dict[str, object] | None]:
    """(method, path, JSON body) of one call of `route`."""
    if route == "recommendations":
        return "GET", f"/v1/customers/{rng.choice(ids['customers'])}/recommendations?k=10", None
    if route == "basket":
        return (
            "POST",
            "/v1/recommendations/basket",
            {"product_ids": rng.sample(ids["products"], 3), "k": 10},
        )
    if route == "similar":
        return "GET", f"/v1/products/{rng.choice(ids['products'])}/similar?k=10", None
    if route == "forecasts":
        if rng.random() < 0.5:
            return "GET", f"/v1/forecasts?category={rng.choice(ids['categories'])}", None
        return "GET", f"/v1/forecasts?store_id={rng.choice(ids['stores'])}", None
    if route == "reorder-plan":
        return "GET", f"/v1/reorder-plan?limit=50&offset={rng.choice([0, 50, 100])}", None
    if route == "purchase-orders.csv":
        return "GET", f"/v1/purchase-orders.csv?store_id={rng.choice(ids['stores'])}", None
    return "GET", "/v1/health", None


def start_server(
    db: Path, env: dict[str, str], log: Path, workers: int = 1
) -> tuple[subprocess.Popen[bytes], str]:
    """`uvicorn api:app` on a free 127.0.0.1 port; waits (at most 180 s) for /v1/health."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "api:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--workers",
            str(workers),
        ],
        cwd=REPO,
        env=env,
        stdout=open(log, "wb"),  # noqa: SIM115 - the child keeps it
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/v1/health", timeout=30).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("server did not start within 180 s")


def add_key(env: dict[str, str], name: str, role: str) -> str:
    """A fresh key with a rate limit far above the load (the limit is not what is measured)."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "warehouse",
            "keys",
            "add",
            name,
            "--role",
            role,
            "--rate",
            "1000000",
            "--burst",
            "1000000",
        ],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    return out.strip().splitlines()[-1]


def warm_up(url: str, tokens: dict[str, str], ids: dict[str, list[str]]) -> None:
    """One call of every route (loads the model and fills caches; not measured)."""
    rng = random.Random(1)
    with httpx.Client(base_url=url, timeout=600) as http:
        for route in MIX:
            method, path, body = request_for(route, ids, rng)
            token = tokens["merchandiser" if route == "recommendations" else "viewer"]
            t0 = time.perf_counter()
            http.request(
                method, path, json=body, headers={"Authorization": f"Bearer {token}"}
            ).raise_for_status()
            print(f"warm-up {route}: {time.perf_counter() - t0:.2f} s", flush=True)
        # the exported lists load in the background after the first call: wait (bounded)
        t0, source = time.perf_counter(), "live"
        while source != "exported" and time.perf_counter() - t0 < 300:
            method, path, body = request_for("recommendations", ids, rng)
            source = http.get(
                path, headers={"Authorization": f"Bearer {tokens['merchandiser']}"}
            ).headers.get("x-shelfwise-source", "live")
            time.sleep(0.5 if source != "exported" else 0)
        print(f"recommendations served from: {source} ({time.perf_counter() - t0:.1f} s)")


def baselines(db: Path, url: str, token: str, customers: list[str], n: int) -> list[tuple]:
    """p50/p95 ms of one recommendation: in-process service call, and HTTP from one client."""
    rows = []
    times = []
    for cid in customers[:n]:
        start = time.perf_counter()
        service.recommend_for_customer(db, cid, k=10)
        times.append((time.perf_counter() - start) * 1000)
    rows.append(("recsys.service in-process (no HTTP), live ranking", times))
    try:
        api_recs.load_now(db)
        times = []
        for cid in customers[:n]:
            start = time.perf_counter()
            api_core.customer_recommendations(db, cid, k=10)
            times.append((time.perf_counter() - start) * 1000)
        rows.append(("services.api_core in-process (no HTTP), the API's path", times))
    except Exception as exc:  # noqa: BLE001 - a row less, said why
        print(f"no in-process API-path baseline: {exc}")
    times = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as client:
        for cid in customers[:n]:
            start = time.perf_counter()
            client.get(f"/v1/customers/{cid}/recommendations?k=10").raise_for_status()
            times.append((time.perf_counter() - start) * 1000)
    rows.append(("HTTP, 1 client, sequential", times))
    return rows


def main() -> None:
    """Run the baselines and the load test; print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db", help="warehouse with a model, forecasts and a plan (default $SHELFWISE_DB)"
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load")
    parser.add_argument("--refresh-at", type=float, default=5.0, help="seconds into the load")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    args = parser.parse_args()
    source = resolve_db_path(args.db).resolve()
    with tempfile.TemporaryDirectory(prefix="bench_api_") as tmp:
        folder = Path(tmp)
        db = copy_warehouse(source, folder)
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "SHELFWISE_DB": str(db),
            "SHELFWISE_KEYS": str(folder / "keys.json"),
        }
        tokens = {r: add_key(env, r, r) for r in ("merchandiser", "viewer")}
        ids = sample_ids(db, 2000, args.seed)
        proc, url = start_server(db, env, folder / "server.log", args.workers)
        try:
            warm_up(url, tokens, ids)
            base = baselines(db, url, tokens["merchandiser"], ids["customers"], 200)
            result = load(url, db, env, tokens, ids, args)
            show(source, args, base, result)
        finally:  # a server still busy (a live ranking after the swap) is killed, not waited on
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)


def show(
    source: Path, args: argparse.Namespace, base: list[tuple], result: dict[str, object]
) -> None:
    """Print the set-up line, the baselines and the load table."""
    print(
        f"warehouse {source} ({source.stat().st_size / 1e6:.0f} MB), {os.cpu_count()} CPUs, "
        f"{args.workers} server worker(s), load 1/5/15 min {os.getloadavg()}"
    )
    print("\n| baseline: one recommendation (k=10) | calls | p50 ms | p95 ms |")
    print("| --- | --- | --- | --- |")
    for name, times in base:
        print(f"| {name} | {len(times)} | {_pct(times, 0.5):.1f} | {_pct(times, 0.95):.1f} |")
    report(result, args)


def load(
    url: str,
    db: Path,
    env: dict[str, str],
    tokens: dict[str, str],
    ids: dict[str, list[str]],
    args: argparse.Namespace,
) -> dict[str, object]:
    """`args.clients` threads for `args.duration` s; the refresh starts at `args.refresh_at`."""
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, list[str]] = defaultdict(list)
    generations: set[str] = set()
    sources: dict[str, int] = defaultdict(int)
    lock = threading.Lock()
    start = time.monotonic()
    stop = threading.Event()
    routes, weights = list(MIX), list(MIX.values())

    def client(seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=url, timeout=60) as http:
            while not stop.is_set():
                route = rng.choices(routes, weights)[0]
                method, path, body = request_for(route, ids, rng)
                token = tokens["merchandiser" if route == "recommendations" else "viewer"]
                t0 = time.perf_counter()
                try:
                    r = http.request(
                        method, path, json=body, headers={"Authorization": f"Bearer {token}"}
                    )
                    ms = (time.perf_counter() - t0) * 1000
                    ok = r.status_code == 200
                    gen = r.headers.get("x-shelfwise-generation") or (
                        r.json().get("generation") if ok else None
                    )
                    err = None if ok else f"{r.status_code} {r.text[:160]}"
                    source = r.headers.get("x-shelfwise-source")
                except (httpx.HTTPError, ValueError) as exc:
                    ms, gen, err = (time.perf_counter() - t0) * 1000, None, repr(exc)[:160]
                    source = None
                with lock:
                    latencies[route].append(ms)
                    if source:
                        sources[source] += 1
                    if err:
                        errors[route].append(err)
                    if gen:
                        generations.add(gen)

    threads = [threading.Thread(target=client, args=(args.seed + i,)) for i in range(args.clients)]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, start + args.refresh_at - time.monotonic()))
    before = db.stat().st_ino
    t0 = time.monotonic()
    refresh = subprocess.run(
        [sys.executable, "-m", "forecasting", "--db", str(db), "plan"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    refresh_s = time.monotonic() - t0
    refresh_end = time.monotonic() - start
    # the load lasts `duration`, or until 3 s after the refresh swapped the file in
    time.sleep(max(0.0, start + max(args.duration, refresh_end + 3.0) - time.monotonic()))
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    return {
        "latencies": latencies,
        "errors": errors,
        "generations": generations,
        "elapsed": time.monotonic() - start,
        "refresh_s": refresh_s,
        "refresh_end": refresh_end,
        "refresh_rc": refresh.returncode,
        "swapped": db.stat().st_ino != before,
        "sources": dict(sources),
    }


def report(result: dict[str, object], args: argparse.Namespace) -> None:
    """Print the load table and the refresh line."""
    latencies: dict[str, list[float]] = result["latencies"]  # type: ignore[assignment]
    errors: dict[str, list[str]] = result["errors"]  # type: ignore[assignment]
    total = sum(len(v) for v in latencies.values())
    elapsed = float(result["elapsed"])  # type: ignore[arg-type]
    print(
        f"\n{args.clients} clients x {elapsed:.0f} s: {total:,} requests, "
        f"{total / elapsed:,.0f} requests/s, {sum(len(v) for v in errors.values())} errors"
    )
    print("\n| route | requests | errors | p50 ms | p95 ms | p99 ms |")
    print("| --- | --- | --- | --- | --- | --- |")
    everything: list[float] = []
    for route in MIX:
        values = latencies.get(route, [])
        everything += values
        print(
            f"| {route} | {len(values):,} | {len(errors.get(route, []))} | "
            f"{_pct(values, 0.5):.1f} | {_pct(values, 0.95):.1f} | {_pct(values, 0.99):.1f} |"
        )
    print(
        f"| all | {len(everything):,} | {sum(len(v) for v in errors.values())} | "
        f"{_pct(everything, 0.5):.1f} | {_pct(everything, 0.95):.1f} | "
        f"{_pct(everything, 0.99):.1f} |"
    )
    print(
        f"\nrefresh (`python -m forecasting plan`, exit {result['refresh_rc']}) from "
        f"{args.refresh_at:.0f} s to {result['refresh_end']:.1f} s ({result['refresh_s']:.1f} s);"
        f" file swapped: {result['swapped']}; generations seen in answers: "
        f"{len(result['generations'])}"  # type: ignore[arg-type]
    )
    sources = ", ".join(f"{n:,} {s}" for s, n in sorted(result["sources"].items()))  # type: ignore[attr-defined]
    print(f"recommendation answers by source (X-Shelfwise-Source): {sources or 'none'}")
    for route, errs in errors.items():
        print(f"first error on {route}: {errs[0]}")


if __name__ == "__main__":
    main()
