"""`bench/run diagnose`: where a dompet request's time goes (bench/DIAGNOSIS.md).

Every dompet variant is measured as a pair with its raw reference (pgbench on
the same data in the same minute), so the ratio is what to compare when the
machine's load changes between variants. Variants that need code changes run
a build of this tree with bench/experiments/switches.patch applied (built into
target/experiment/, switched on by X_* environment variables); nothing under
src/ is changed.
"""

import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import bench_run as R

EXP_BIN = R.ROOT / "target" / "experiment" / "release" / "dompet"
SKIP = object()  # stands for the experiment binary when it could not be built


def experiment_binary(s):
    """Builds this tree plus the experiment switches into target/experiment."""
    if os.environ.get("BENCH_EXP_BUILD", "1") == "0" and EXP_BIN.exists():
        return EXP_BIN
    tree = s.dir / "experiment-tree"
    if tree.exists():
        shutil.rmtree(tree)
    tree.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(R.ROOT), "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], capture_output=True, check=True).stdout.split(b"\0")
    for rel in archive:
        if not rel:
            continue
        src = R.ROOT / rel.decode()
        if src.is_file():
            dst = tree / rel.decode()
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    R.log("applying bench/experiments/switches.patch to a copy of the tree")
    applied = subprocess.run(["patch", "-s", "-p1", "-d", str(tree), "-i",
                              str(R.BENCH / "experiments" / "switches.patch")], capture_output=True, text=True)
    if applied.returncode != 0:
        R.log("the experiment patch no longer applies to this tree (src/ moved on); experiment variants skipped:\n"
              + applied.stdout + applied.stderr)
        return None
    target = R.ROOT / "target" / "experiment"
    if not (target / "release").exists() and (R.ROOT / "target" / "release").exists():
        # reuse the compiled dependencies: only dompet itself is rebuilt
        target.mkdir(parents=True, exist_ok=True)
        subprocess.run(["cp", "-a", str(R.ROOT / "target" / "release"), str(target)], check=True)
    R.log("cargo build --release (experiment build, target/experiment)")
    built = subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=tree,
                           env={**os.environ, "CARGO_TARGET_DIR": str(target)})
    if built.returncode != 0:
        R.log("the experiment build failed; experiment variants skipped")
        return None
    return EXP_BIN


def pair(s, pg, label, dompet_args, conns, raw, env=None, binary=None, duration=None):
    """One dompet run (a fresh server with `env`) and its raw reference."""
    if binary is SKIP:
        return None, None, f"| {label} | skipped: no experiment build |"
    duration = duration or s.duration
    server = R.Server(s, pg.url("dompet_bench"), s.http_port, env, binary)
    try:
        if s.warmup and dompet_args.get("mode") != "withdraw":
            R.run_wrk(s, server.port, conns, s.warmup, dompet_args)
        d = R.measure_dompet(s, pg, server, dompet_args, conns, duration)
    finally:
        server.stop()
    r = None
    if raw:
        script, variables, rconns = raw[:3]
        r = R.measure_raw(s, pg, None, script, variables, rconns, duration, raw[3] if len(raw) > 3 else None)
    ratio = f"{d['rate'] / r['rate']:.2f}" if r else "–"
    raw_rate = f"{r['rate']:,.0f}" if r else "–"
    line = (f"| {label} | {d['rate']:,.0f} | {raw_rate} | {ratio} | {d['p50_ms']:.2f} / {d['p99_ms']:.2f} "
            f"| {d['app_us']:.0f} | {d['pg_us']:.0f} | {r['pg_us'] if r else 0:.0f} | {d['peak_kb'] / 1024:.1f} "
            f"| {(d['others_pct'] + (r['others_pct'] if r else 0)) / (200 if r else 100):.1f} |")
    print(line, flush=True)
    return d, r, line


HEADER = ("| variant | dompet /s | raw /s | ratio | dompet p50 / p99 ms | dompet CPU µs/req | PG CPU µs/req "
          "(dompet) | PG CPU µs/req (raw) | peak RSS MB | others' cores |\n"
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")


def section(title, out):
    print(f"\n### {title}\n\n{HEADER}", flush=True)
    out.append(f"\n### {title}\n\n{HEADER}")


def perf_profile(s, pg, args, conns, env=None, binary=None, label="default"):
    """perf record (cpu-clock, the VM has no hardware counters) of the server
    under load; self time grouped by component."""
    if not shutil.which("perf"):
        return "perf not installed (apt-get install linux-perf)"
    server = R.Server(s, pg.url("dompet_bench"), s.http_port, env, binary)
    data = s.dir / f"perf-{label}.data"
    try:
        R.run_wrk(s, server.port, conns, 2, args)
        rec = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-F", "1999", "-g", "-p",
                                str(server.pid), "-o", str(data), "--", "sleep", str(s.duration)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)
        w = R.run_wrk(s, server.port, conns, s.duration, args)
        rec.wait()
    finally:
        server.stop()
    rep = subprocess.run(["perf", "report", "-i", str(data), "--no-children", "--sort", "dso,symbol", "--stdio",
                          "-g", "none", "--percent-limit", "0.3"], capture_output=True, text=True).stdout
    rows = []
    for line in rep.splitlines():
        m = re.match(r"\s+([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(.*)$", line)
        if m:
            rows.append((float(m.group(1)), m.group(2), m.group(4).strip()))
    full = subprocess.run(["perf", "report", "-i", str(data), "--no-children", "--sort", "dso,symbol", "--stdio",
                           "-g", "none"], capture_output=True, text=True).stdout
    groups = {}
    for line in full.splitlines():
        m = re.match(r"\s+([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(.*)$", line)
        if m:
            g = component(m.group(2), m.group(4))
            groups[g] = groups.get(g, 0.0) + float(m.group(1))
    text = [f"perf, {label}: {w['rate']:,.0f} req/s while sampled; self time by component:\n",
            "| component | share of dompet's CPU |", "|---|---:|"]
    for g, v in sorted(groups.items(), key=lambda x: -x[1]):
        if v >= 0.5:
            text.append(f"| {g} | {v:.1f}% |")
    text.append("\ntop symbols (self):\n\n```")
    for pct, dso, sym in rows[:30]:
        text.append(f"{pct:5.1f}%  {dso:<18} {sym[:110]}")
    text.append("```")
    return "\n".join(text)


COMPONENTS = [
    ("kernel: network, scheduling, syscalls", lambda d, s: d.startswith("[kernel")),
    ("libc: malloc/free", lambda d, s: "libc" in d and re.search(r"malloc|free|_int_|arena|tcache|cfree", s)),
    ("libc: memcpy/memmove/other", lambda d, s: "libc" in d),
    ("tracing / tracing-subscriber (logging)", lambda d, s: re.search(r"tracing|sharded_slab|env_filter|nu_ansi_term|fmt::format|Writer|Visit|field::", s)),
    ("sqlx (pool, protocol, rows)", lambda d, s: "sqlx" in s),
    ("tokio (scheduler, timers, I/O driver)", lambda d, s: "tokio" in s or "mio::" in s),
    ("hyper / http (HTTP/1 parse & encode)", lambda d, s: re.search(r"hyper|httparse|http::|h1::", s)),
    ("axum / tower / tower-http (routing, middleware)", lambda d, s: re.search(r"axum|tower|matchit", s)),
    ("serde_json (JSON encoding)", lambda d, s: "serde_json" in s or "serde::" in s),
    ("chrono / chrono-tz (timestamps)", lambda d, s: "chrono" in s),
    ("uuid (request id)", lambda d, s: "uuid" in s or "rand" in s or "getrandom" in s),
    ("sha2 / base64 (auth)", lambda d, s: re.search(r"sha2|base64|subtle", s)),
    ("core::fmt (formatting)", lambda d, s: "core::fmt" in s or "alloc::fmt" in s),
    ("alloc (Rust side of allocations)", lambda d, s: re.search(r"alloc::|__rust_alloc|__rdl_|RawVec", s)),
]


def component(dso, sym):
    for name, test in COMPONENTS:
        if test(dso, sym):
            return name
    return "other dompet code" if dso.startswith("dompet") else f"other ({dso})"


def strace_counts(s, pg, args, conns):
    """Syscalls per request (strace -c -f): strace slows the server a lot,
    so only the counts, not the rates, mean something."""
    if not shutil.which("strace"):
        return "strace not installed"
    server = R.Server(s, pg.url("dompet_bench"), s.http_port)
    try:
        R.run_wrk(s, server.port, conns, 2, args)
        out = tempfile.NamedTemporaryFile(delete=False, suffix=".strace")
        tr = subprocess.Popen(["strace", "-c", "-f", "-o", out.name, "-p", str(server.pid)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        w = R.run_wrk(s, server.port, conns, 5, args)
        tr.send_signal(2)
        tr.wait()
    finally:
        server.stop()
    text = Path(out.name).read_text()
    os.unlink(out.name)
    lines = [f"strace -c -f over {w['count']:,} requests (history page 1, {conns} connections):\n",
             "| syscall | calls per request |", "|---|---:|"]
    for line in text.splitlines():
        # % time, seconds, usecs/call, calls, [errors], syscall
        parts = line.split()
        if len(parts) < 5 or not parts[0][0].isdigit() or not parts[3].isdigit():
            continue
        per = int(parts[3]) / max(1, w["count"])
        if parts[-1] == "total":
            lines.append(f"| **total** | {per:.2f} |")
        elif per >= 0.05:
            lines.append(f"| {parts[-1]} | {per:.2f} |")
    return "\n".join(lines)


def explain_plans(s, pg):
    """The plans PostgreSQL picks for the prepared statement dompet sends
    (custom: the first five executions on a connection, and after that while
    its estimate stays below the generic plan's; generic), and a keyset query."""
    cols = ("id, user_id, type as kind, action, amount, initial_balance, final_balance, transaction_id, "
            "created_at, updated_at")
    page = (f"prepare p(bigint, bigint, bigint) as select {cols} from mutations where user_id = $1 "
            "order by id desc limit $2 offset $3")
    keyset = (f"prepare p(bigint, bigint, bigint) as select {cols} from mutations where user_id = $1 "
              "and id < $3 order by id desc limit $2")
    active = s.whales
    cursor = pg.psql(f"select id from mutations where user_id = {active} order by id desc limit 1 offset 99989")
    cases = [
        ("dormant whale, page 1, custom plan", "force_custom_plan", page, "execute p(1, 10, 0)"),
        ("dormant whale, page 1, generic plan", "force_generic_plan", page, "execute p(1, 10, 0)"),
        ("active whale, page 10,000 (offset 99,990), custom plan", "force_custom_plan", page,
         f"execute p({active}, 10, 99990)"),
        ("active whale, page 10,000, generic plan", "force_generic_plan", page, f"execute p({active}, 10, 99990)"),
        ("active whale, keyset `id < cursor` (the same 10 rows)", "auto", keyset,
         f"execute p({active}, 10, {cursor or 0})"),
    ]
    out = []
    for label, mode, prepare, execute in cases:
        times, plan = [], ""
        for _ in range(3):
            plan = pg.psql(f"set plan_cache_mode = {mode}; {prepare}; "
                           f"explain (analyze, buffers, timing off, summary on) {execute}")
            m = re.search(r"Execution Time: ([\d.]+) ms", plan)
            times.append(float(m.group(1)))
        lines = [l.strip() for l in plan.splitlines()]
        nodes = [re.sub(r"\s*\(cost=.*", "", l).lstrip("-> ") for l in lines if "(cost=" in l]
        removed = re.search(r"Rows Removed by Filter: (\d+)", plan)
        buffers = re.search(r"Buffers: shared hit=(\d+)", plan)
        out.append(f"| {label} | {' → '.join(nodes[:4])}{f' (filter skipped {int(removed.group(1)):,} rows)' if removed else ''} "
                   f"| {sorted(times)[1]:.2f} ms | {buffers.group(1) if buffers else '?'} | "
                   f"{'yes' if 'JIT' in plan else 'no'} |")
    return ("| query | plan | execution (median of 3) | buffers | JIT |\n"
            "|---|---|---:|---:|---|\n" + "\n".join(out))


def diagnose(s, pg):
    s.duration = int(os.environ.get("BENCH_DURATION", "10"))
    out = [f"# bench/run diagnose, {time.strftime('%Y-%m-%d %H:%M')}\n\nmachine: {R.machine(pg)}\n"
           f"data set: {s.params()}; {s.duration} s per run, load average at start {R.loadavg()}"]
    print(out[0], flush=True)
    exp = experiment_binary(s) or SKIP
    ctx_phc = R.phc_hash(pg)

    hist = {"mode": "get", "path": "/v1/dompet/history/mutations.json", "lo": s.lo, "hi": s.hi,
            "page": 1, "per_page": 10}
    wd = dict(hist, path="/v2/dompet/history/withdrawals.json")
    health = {"mode": "get", "path": "/healthz", "lo": s.lo, "hi": s.hi}
    raw2 = ("history_mutations.sql", {"lo": s.lo, "hi": s.hi, "newest": R.NO_CURSOR, "limit": 10, "offset": 0}, 32)
    raw1 = ("history_mutations_one.sql", {"lo": s.lo, "hi": s.hi, "limit": 10, "offset": 0}, 32)
    raw_wd = ("history_withdrawals.sql", {"lo": s.lo, "hi": s.hi, "newest": R.NO_CURSOR, "limit": 10, "offset": 0}, 32)
    credit = {"mode": "credit", "lo": s.lo, "hi": s.hi, "amount": 1000, "admin": R.ADMIN_TOKEN}
    raw_credit = ("credit.sql", {"lo": s.lo, "hi": s.hi, "amount": 1000, "type": "Deposit::Credit",
                                 "action": "remit"}, 32)
    raw_credit1 = ("credit_one.sql", dict(raw_credit[1]), 32)
    quiet = {"RUST_LOG": "warn"}
    best = {"X_RAW_POOL": "1", "X_ONE_CHECKOUT": "1"}

    # -- round trips per variant
    rt = ["\n### Round trips per request, by variant (counting relay)\n",
          "| variant | request | statements | round trips | pings |", "|---|---|---:|---:|---:|"]
    for label, env, binary in (("default", None, None), ("X_NO_PING", {"X_NO_PING": "1"}, exp),
                               ("X_NO_PING + X_ONE_CHECKOUT", {"X_NO_PING": "1", "X_ONE_CHECKOUT": "1"}, exp),
                               ("X_RAW_POOL + X_ONE_CHECKOUT", best, exp),
                               ("X_RAW_POOL + X_ONE_STATEMENT", {"X_RAW_POOL": "1", "X_ONE_STATEMENT": "1"}, exp)):
        if binary is SKIP:
            continue
        results, _ = R.capture(s, pg, quiet=True, env=env, binary=binary,
                               only=("mutation history page 1", "withdrawal history page 1", "credit posting"))
        for name, r in results.items():
            c = r["counts"]
            rt.append(f"| {label} | {name} | {len(r['statements'])} | {c.get('sZ', 0):g} | {c.get('pings', 0):g} |")
    print("\n".join(rt), flush=True)
    out.append("\n".join(rt))

    section("No database: GET /healthz, 32 connections (the middleware stack and the logging alone)", out)
    for label, env in (("default (RUST_LOG unset: dompet=info,tower_http=info)", None), ("RUST_LOG=warn", quiet)):
        out.append(pair(s, pg, label, health, 32, None, env)[2])

    section("Mutation history page 1, random users, 32 connections", out)
    variants = [
        ("default", None, None, raw2),
        ("RUST_LOG=warn (no per-request log line or span)", quiet, None, raw2),
        ("DOMPET_DB_MAX_CONNECTIONS=4", {"DOMPET_DB_MAX_CONNECTIONS": "4"}, None, raw2),
        ("DOMPET_DB_MAX_CONNECTIONS=8", {"DOMPET_DB_MAX_CONNECTIONS": "8"}, None, raw2),
        ("X_NO_PING (test_before_acquire(false))", {"X_NO_PING": "1"}, exp, raw2),
        ("X_NO_PING + X_ONE_CHECKOUT", {"X_NO_PING": "1", "X_ONE_CHECKOUT": "1"}, exp, raw2),
        ("X_RAW_POOL + X_ONE_CHECKOUT (no pings at all)", best, exp, raw2),
        ("X_RAW_POOL + X_ONE_CHECKOUT + RUST_LOG=warn", dict(best, **quiet), exp, raw2),
        ("X_RAW_POOL + X_ONE_STATEMENT, vs raw one statement", {"X_RAW_POOL": "1", "X_ONE_STATEMENT": "1"}, exp, raw1),
        ("X_RAW_POOL + X_ONE_STATEMENT + RUST_LOG=warn, vs raw one statement",
         {"X_RAW_POOL": "1", "X_ONE_STATEMENT": "1", "RUST_LOG": "warn"}, exp, raw1),
    ]
    for label, env, binary, raw in variants:
        out.append(pair(s, pg, label, hist, 32, raw, env, binary)[2])

    section("Mutation history page 1, dormant whales, 32 connections: custom plans vs generic plans", out)
    dormant = dict(hist, lo=1, hi=s.dormant)
    raw_dormant = ("history_mutations.sql", {"lo": 1, "hi": s.dormant, "newest": R.NO_CURSOR, "limit": 10, "offset": 0}, 32)
    generic = "-c plan_cache_mode=force_generic_plan"
    out.append(pair(s, pg, "default", dormant, 32, raw_dormant)[2])
    out.append(pair(s, pg, "plan_cache_mode=force_generic_plan (connection option, both sides)", dormant, 32,
                    raw_dormant + ({"PGOPTIONS": generic},),
                    {"DATABASE_URL": pg.url("dompet_bench") + "?options=" + generic.replace(" ", "%20").replace("=", "%3D")})[2])

    section("Withdrawal history page 1, random users, 32 connections", out)
    for label, env, binary in (("default", None, None), ("X_RAW_POOL + X_ONE_CHECKOUT + RUST_LOG=warn",
                                                          dict(best, **quiet), exp)):
        out.append(pair(s, pg, label, wd, 32, raw_wd, env, binary)[2])

    section("Credit posting, random wallets, 32 connections (raw: the same six statements)", out)
    for label, env, binary in (("default", None, None), ("RUST_LOG=warn", quiet, None),
                               ("X_NO_PING", {"X_NO_PING": "1"}, exp)):
        out.append(pair(s, pg, label, credit, 32, raw_credit, env, binary)[2])
    out.append("\nraw only: the same credit as one data-modifying statement (bench/sql/credit_one.sql):\n")
    for label, raw in (("six statements (credit.sql)", raw_credit), ("one statement (credit_one.sql)", raw_credit1),
                       ("hot wallet, six statements", ("credit.sql", dict(raw_credit[1], lo=s.hot, hi=s.hot), 32)),
                       ("hot wallet, one statement", ("credit_one.sql", dict(raw_credit[1], lo=s.hot, hi=s.hot), 32))):
        r = R.measure_raw(s, pg, None, raw[0], raw[1], raw[2], s.duration)
        line = f"- {label}: {r['rate']:,.0f} tx/s, p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, PG CPU {r['pg_us']:.0f} µs/tx"
        print(line, flush=True)
        out.append(line)

    section("Withdraw flood, 32 connections: glibc arenas and the argon2 buffers", out)
    flood = {"mode": "withdraw", "lo": s.lo, "hi": s.hi, "amount": 1000}
    argon2 = R.argon2_tool(s)
    a = R.run_argon2(s, argon2, ctx_phc, s.duration)
    b = R.run_argon2(s, argon2, ctx_phc, s.duration, "alloc")
    for label, env, binary in (
            ("default", None, None), ("MALLOC_ARENA_MAX=2", {"MALLOC_ARENA_MAX": "2"}, None),
            ("MALLOC_MMAP_THRESHOLD_=1048576 (19 MiB blocks always mmapped, returned on free)",
             {"MALLOC_MMAP_THRESHOLD_": "1048576"}, None),
            ("X_ARGON2_REUSE (memory blocks reused, one buffer per concurrent hash)", {"X_ARGON2_REUSE": "1"}, exp)):
        out.append(pair(s, pg, label, dict(flood, tag=f"{time.time()}"), 32, None, env, binary)[2])
    line = (f"\nargon2 alone (bench/argon2-rate, {os.cpu_count()} threads): memory reused per thread "
            f"{a['rate']:.1f} verifications/s, p50 {a['p50_ms']:.1f} ms, peak RSS {a['hwm_kb'] / 1024:.1f} MB; "
            f"19 MiB allocated per verification (as dompet does today) {b['rate']:.1f}/s, p50 {b['p50_ms']:.1f} ms, "
            f"peak RSS {b['hwm_kb'] / 1024:.1f} MB")
    print(line, flush=True)
    out.append(line)

    out.append("\n### Plans of the history query for whales\n\n" + explain_plans(s, pg))
    print(out[-1], flush=True)
    out.append("\n### Profile\n\n" + perf_profile(s, pg, hist, 32))
    print(out[-1], flush=True)
    if exp is not SKIP:
        out.append("\n" + perf_profile(s, pg, hist, 32, dict(best, **quiet), exp,
                                       "X_RAW_POOL + X_ONE_CHECKOUT + RUST_LOG=warn"))
        print(out[-1], flush=True)
    out.append("\n### System calls\n\n" + strace_counts(s, pg, hist, 32))
    print(out[-1], flush=True)

    dest = s.dir / "results"
    dest.mkdir(exist_ok=True)
    path = dest / f"diagnose-{time.strftime('%Y%m%d-%H%M%S')}.md"
    path.write_text("\n".join(out) + "\n")
    R.log(f"diagnosis in {path}")
