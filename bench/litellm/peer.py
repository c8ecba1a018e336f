"""The LiteLLM side of `npm run bench -- --peers litellm`.

Run by bench/litellmPeer.ts in a venv with the pinned litellm and openai (bench/litellm/requirements.txt):
`python peer.py '<json>'` with {"scenario": ..., ...}; prints one JSON line with the result. The Node
benchmark owns the fault server, scripts its routes and counts upstream calls; this script only drives
LiteLLM's Router (and the official `openai` Python client as its baseline) against the URLs it is given,
with the same method as bench/measure.ts: variants interleaved call by call, p50 / p99 per trial,
medians across trials. Nothing here judges a timing.
"""

import asyncio
import importlib.metadata
import json
import os
import statistics
import sys
import time

# Before importing litellm: its price map from the package, not from the network.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm  # noqa: E402
from litellm import Router  # noqa: E402
from litellm.types.router import RetryPolicy  # noqa: E402
from openai import AsyncOpenAI  # noqa: E402

litellm.telemetry = False
litellm.suppress_debug_info = True

MESSAGES = [{"role": "user", "content": "Say hello in five words."}]
MAX_TOKENS = 64
KEY = "bench-key"


def quantile(values, q):
    if not values:
        return float("nan")
    s = sorted(values)
    pos = (len(s) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def deployment(name, api_base, model="gpt-4o", **extra):
    params = {"model": f"openai/{model}", "api_base": api_base, "api_key": KEY, **extra}
    return {"model_name": name, "litellm_params": params}


def production_settings():
    """LiteLLM's documented reliability settings (docs.litellm.ai/docs/router/learn/reliability and
    .../api_reference/configuration): retries per error kind, a cooldown after 3 failures in a minute
    held 30 s."""
    return {
        "num_retries": 2,
        "allowed_fails": 3,
        "cooldown_time": 30,
        "retry_policy": RetryPolicy(
            InternalServerErrorRetries=2,
            ServiceUnavailableErrorRetries=2,
            RateLimitErrorRetries=3,
            TimeoutErrorRetries=2,
            BadRequestErrorRetries=0,
            AuthenticationErrorRetries=0,
        ),
    }


async def interleaved(variants, iterations, warmup):
    for _ in range(warmup):
        for _, call in variants:
            await call()
    samples = {name: [] for name, _ in variants}
    n = len(variants)
    for i in range(iterations):
        for k in range(n):
            name, call = variants[(i + k) % n]
            t0 = time.perf_counter()
            await call()
            samples[name].append((time.perf_counter() - t0) * 1000)
    return {name: {"p50": quantile(xs, 0.5), "p99": quantile(xs, 0.99)} for name, xs in samples.items()}


async def compare(variants, trials, iterations, warmup):
    out = []
    for t in range(trials):
        out.append(await interleaved(variants, iterations, warmup if t == 0 else -(-warmup // 4)))
    return out


def across(trials, f):
    return statistics.median([f(t) for t in trials])


async def overhead(cfg):
    direct = AsyncOpenAI(api_key=KEY, base_url=cfg["up"], max_retries=0)
    router = Router(model_list=[deployment("primary", cfg["up"])])

    async def via_direct():
        await direct.chat.completions.create(model="gpt-4o", messages=MESSAGES, max_tokens=MAX_TOKENS)

    async def via_router():
        await router.acompletion(model="primary", messages=MESSAGES, max_tokens=MAX_TOKENS)

    trials = await compare([("direct", via_direct), ("router", via_router)], cfg["trials"], cfg["iterations"], cfg["warmup"])
    res = {}
    for which in ("p50", "p99"):
        res[f"direct_{which}"] = across(trials, lambda t: t["direct"][which])
        res[f"router_{which}"] = across(trials, lambda t: t["router"][which])
        res[f"added_{which}"] = across(trials, lambda t: t["router"][which] - t["direct"][which])
        res[f"ratio_{which}"] = across(trials, lambda t: t["router"][which] / t["direct"][which])
    return res


async def failover(cfg):
    """N deployments that fail at once, then the healthy one, as fallbacks; no retries, cooldowns off
    (so every request pays every failed call, as Bulwark's breakers pinned closed do)."""
    up, down = cfg["up"], cfg["down"]
    direct = AsyncOpenAI(api_key=KEY, base_url=up, max_retries=0)
    failing = AsyncOpenAI(api_key=KEY, base_url=down, max_retries=0)

    def chain(hops):
        groups = [f"down-{i}" for i in range(hops)] + ["up"]
        model_list = [deployment(g, down) for g in groups[:-1]] + [deployment("up", up, model="gpt-4o-mini")]
        fallbacks = [{groups[0]: groups[1:]}] if hops else []
        router = Router(model_list=model_list, fallbacks=fallbacks, num_retries=0, disable_cooldowns=True)

        async def call():
            await router.acompletion(model=groups[0], messages=MESSAGES, max_tokens=MAX_TOKENS)

        return call

    def by_hand(hops):
        async def call():
            for _ in range(hops):
                try:
                    await failing.chat.completions.create(model="gpt-4o", messages=MESSAGES, max_tokens=MAX_TOKENS)
                except Exception:
                    pass
            await direct.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, max_tokens=MAX_TOKENS)

        return call

    variants = [(f"hand{h}", by_hand(h)) for h in (0, 1, 2)] + [(f"hop{h}", chain(h)) for h in (0, 1, 2)]
    trials = await compare(variants, cfg["trials"], cfg["iterations"], cfg["warmup"])
    per_hop = lambda two, zero: across(trials, lambda t: (t[two]["p50"] - t[zero]["p50"]) / 2)  # noqa: E731
    router_hop = per_hop("hop2", "hop0")
    hand_hop = per_hop("hand2", "hand0")
    return {
        "router_hop": router_hop,
        "hand_hop": hand_hop,
        "own_hop": router_hop - hand_hop,
        "hop1_p50": across(trials, lambda t: t["hop1"]["p50"]),
        "hop1_p99": across(trials, lambda t: t["hop1"]["p99"]),
        "hop2_p50": across(trials, lambda t: t["hop2"]["p50"]),
        "direct_p50": across(trials, lambda t: t["hand0"]["p50"]),
    }


async def open_loop(router, model, rate, total):
    """`total` requests to `model` arriving on a fixed schedule at `rate` per second, each awaited on its own task:
    how many were answered, p50 / p99 latency (ms, failures included) and the elapsed time."""
    latencies, answered = [], 0

    async def one():
        nonlocal answered
        t0 = time.perf_counter()
        try:
            r = await router.acompletion(model=model, messages=MESSAGES, max_tokens=MAX_TOKENS)
            if r.choices[0].message.content is not None:
                answered += 1
        except Exception:
            pass
        latencies.append((time.perf_counter() - t0) * 1000)

    tasks = []
    start = time.perf_counter()
    for i in range(total):
        wait = start + i / rate - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        tasks.append(asyncio.create_task(one()))
    await asyncio.gather(*tasks)
    return {
        "total": total,
        "answered": answered,
        "p50": quantile(latencies, 0.5),
        "p99": quantile(latencies, 0.99),
        "elapsedMs": (time.perf_counter() - start) * 1000,
    }


async def outage(cfg):
    """Open-loop arrivals during a total primary outage (the Node side scripts it and counts calls)."""
    settings = production_settings() if cfg["settings"] == "production" else {}
    router = Router(
        model_list=[deployment("primary", cfg["primary"]), deployment("fallback", cfg["fallback"], model="gpt-4o-mini")],
        fallbacks=[{"primary": ["fallback"]}],
        **settings,
    )
    return await open_loop(router, "primary", cfg["rate"], max(1, round(cfg["rate"] * cfg["durationMs"] / 1000)))


async def ratelimit(cfg):
    """Open-loop arrivals on a two-deployment model group with `rpm` per deployment and an rpm-aware routing
    strategy (the Node side installs the provider's limits, scripts the latencies and counts the 429s).
    LiteLLM counts rpm per calendar minute: the run starts just after a minute turns, so it stays in one."""
    rate, duration_s = cfg["rate"], cfg["durationMs"] / 1000
    waited = 0.0
    left = 60 - time.time() % 60
    if left < duration_s + 3:
        waited = left + 0.2
        await asyncio.sleep(waited)
    model_list = [
        deployment("pool", cfg["near"], rpm=cfg["rpm"]),
        deployment("pool", cfg["far"], rpm=cfg["rpm"]),
    ]
    router = Router(model_list=model_list, routing_strategy=cfg["strategy"])
    return {**await open_loop(router, "pool", rate, max(1, round(rate * duration_s))), "waitedMs": waited * 1000}


async def throughput(cfg):
    """The Router with its mock response (no network): requests per second from 64 concurrent callers
    on one event loop, the per-call cost one call at a time, and the process's RSS."""
    rss_start = rss_mb()
    router = Router(model_list=[deployment("primary", "http://127.0.0.1:9/v1", mock_response="Hello there, how can I help today?")])

    async def call(i):
        await router.acompletion(model="primary", messages=[{"role": "user", "content": f"question {i % 5000}"}], max_tokens=MAX_TOKENS)

    async def drive(total, concurrency=64):
        nxt = 0

        async def worker():
            nonlocal nxt
            while nxt < total:
                i = nxt
                nxt += 1
                await call(i)

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return total / (time.perf_counter() - t0)

    await drive(max(1, cfg["requests"] // 10))
    rps = await drive(cfg["requests"])
    samples = []
    for i in range(cfg["sequential"]):
        t0 = time.perf_counter()
        await call(i)
        samples.append((time.perf_counter() - t0) * 1e6)
    return {
        "rps": rps,
        "per_call_p50_us": quantile(samples, 0.5),
        "per_call_p99_us": quantile(samples, 0.99),
        "rss_start_mb": rss_start,
        "rss_end_mb": rss_mb(),
        "requests": cfg["requests"] + max(1, cfg["requests"] // 10) + cfg["sequential"],
    }


async def versions(_cfg):
    return {}


SCENARIOS = {"versions": versions, "overhead": overhead, "failover": failover, "outage": outage, "ratelimit": ratelimit, "throughput": throughput}


def main():
    cfg = json.loads(sys.argv[1])
    result = asyncio.run(SCENARIOS[cfg["scenario"]](cfg))
    result["versions"] = {"litellm": importlib.metadata.version("litellm"), "openai": importlib.metadata.version("openai"), "python": sys.version.split()[0]}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
