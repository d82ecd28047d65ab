#!/usr/bin/python3
"""Turn the raw figures of tools/perf/bench.sh into the table of
docs/performance.md: the machine, the commit and the command, dembench
against the roofline and against PyTorch, memory and --jobs scaling,
each target with its verdict.

Usage: table.py BENCH_DIR DOC COMMAND

Writes BENCH_DIR/table.md, prints it, and replaces the part of DOC
between the lines "<!-- bench:begin -->" and "<!-- bench:end -->".
"""
import os
import platform
import subprocess
import sys

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def records(path, kind):
    """Return the KEY=VALUE lines of path that start with kind, as dicts."""
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            words = line.split()
            if not words or words[0] != kind:
                continue
            out.append(dict(w.split("=", 1) for w in words[1:] if "=" in w))
    return out


def command(*argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def package_version(name):
    return command("dpkg-query", "-W", "-f=${Version}", name)


def cpu_model():
    for line in command("lscpu").splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def machine(cmd):
    commit = command("git", "rev-parse", "--short", "HEAD")
    if command("git", "status", "--porcelain", "--untracked-files=no"):
        commit += " with uncommitted changes"
    return [
        f"- Machine: {cpu_model()}, {os.cpu_count()} cores online, "
        f"{platform.system()} {platform.release()}",
        f"- Libraries: OpenBLAS {package_version('libopenblas0-pthread')}, "
        f"HDF5 {package_version('libhdf5-103-1')}, PyTorch "
        f"{package_version('python3-torch')}",
        f"- Commit: {commit}; date: {command('date', '-u', '+%Y-%m-%d %H:%M UTC')}",
        f"- Command: `{cmd}`",
    ]


def verdict(ok):
    return "met" if ok else "**not met**"


def roofline_rows(bench):
    rows, ratios = [], {}
    for shape in ("small", "large"):
        for r in records(f"{bench}/roofline-{shape}.txt", "run"):
            sps, roof = float(r["samples_per_s"]), float(r["roofline_samples_per_s"])
            ratios[(shape, r["method"], r["threads"])] = sps / roof
            rows.append(
                f"| {shape} | {r['method']} | {r['threads']} | {sps:,.0f} | "
                f"{float(r['gemm_flop_per_sample']) / 1e6:.2f} | "
                f"{float(r['gflops']):.1f} | {roof:,.0f} | {sps / roof:.0%} |")
    return rows, ratios


def dembench_best(bench, shape, method, cores):
    """Return dembench's best samples/s and BLAS threads within cores."""
    best = None
    for r in records(f"{bench}/roofline-{shape}.txt", "run"):
        if r["method"] != method or int(r["threads"]) > cores:
            continue
        s = float(r["samples_per_s"])
        if best is None or s > best[0]:
            best = (s, r["threads"])
    return best


def torch_best(bench, shape, method, cores):
    """PyTorch's best samples/s using at most cores threads in all."""
    best = None
    for r in records(f"{bench}/torch.txt", "torch"):
        if r["shape"] != shape or r["method"] != method:
            continue
        if max(int(r["torch_threads"]), int(r["blas_threads"])) > cores:
            continue
        try:
            s = float(r["samples_per_s"])
        except ValueError:
            continue
        if best is None or s > best[0]:
            best = (s, r["torch_threads"], r["blas_threads"])
    return best


def torch_rows(bench):
    rows, ratios = [], {}
    for shape in ("small", "large"):
        for method in ("em", "adadem"):
            for cores in (1, 2):
                ours = dembench_best(bench, shape, method, cores)
                best = torch_best(bench, shape, method, cores)
                if ours is None or best is None:
                    continue
                ratios[(shape, method, cores)] = ours[0] / best[0]
                rows.append(
                    f"| {shape} | {method} | {cores} | {ours[0]:,.0f} "
                    f"(OpenBLAS {ours[1]}) | {best[0]:,.0f} (torch "
                    f"{best[1]}, OpenBLAS {best[2]}) | "
                    f"{ours[0] / best[0]:.2f}x |")
    return rows, ratios


def memory_line(bench):
    mem = records(f"{bench}/memory.txt", "memory")
    files = records(f"{bench}/roofline-large.txt", "file")
    if not mem or not files:
        return None, None
    rss = float(mem[0]["max_rss_kb"]) * 1024
    budget = float(files[0]["task_bytes"]) + float(files[0]["model_bytes"])
    return rss, budget


def scaling(bench):
    t = {r["jobs"]: float(r["seconds"])
         for r in records(f"{bench}/scaling.txt", "scaling")}
    return t.get("1"), t.get("2")


def agreement(bench):
    return {r["method"]: r["result"]
            for r in records(f"{bench}/agreement.txt", "agreement")}


def targets(roof, vs_torch, rss, budget, jobs1, jobs2, agree):
    lines = ["| target | measured | verdict |", "| --- | --- | --- |"]
    for threads in ("1", "2"):
        worst = min((v for (s, m, t), v in roof.items()
                     if s == "large" and t == threads), default=None)
        if worst is not None:
            lines.append(f"| large, {threads} thread(s): >= 90% of the "
                         f"roofline | {worst:.0%} (worst method) | "
                         f"{verdict(worst >= 0.9)} |")
    for shape, goal in (("large", 1.25), ("small", 10.0)):
        worst = min((v for (s, m, c), v in vs_torch.items() if s == shape),
                    default=None)
        if worst is not None:
            lines.append(f"| {shape}: >= {goal:g}x PyTorch | {worst:.2f}x "
                         f"(worst method and core count) | "
                         f"{verdict(worst >= goal)} |")
    if rss is not None:
        lines.append(f"| large: peak memory <= 1.5 x (task + model) | "
                     f"{rss / 2**20:,.0f} MiB = {rss / budget:.2f} x "
                     f"{budget / 2**20:,.0f} MiB | {verdict(rss <= 1.5 * budget)} |")
    if jobs1 and jobs2:
        lines.append(f"| --jobs 2 <= 0.55 x --jobs 1 | {jobs2:.1f} s / "
                     f"{jobs1:.1f} s = {jobs2 / jobs1:.2f} | "
                     f"{verdict(jobs2 / jobs1 <= 0.55)} |")
    for method, result in sorted(agree.items()):
        lines.append(f"| {method} agrees with PyTorch after 50 steps "
                     f"(1e-4) | {result} | {verdict(result == 'pass')} |")
    return lines


def table(bench, cmd):
    roof_rows, roof = roofline_rows(bench)
    torch_r, vs_torch = torch_rows(bench)
    rss, budget = memory_line(bench)
    jobs1, jobs2 = scaling(bench)
    out = machine(cmd) + ["", "Targets:", ""]
    out += targets(roof, vs_torch, rss, budget, jobs1, jobs2,
                   agreement(bench))
    out += ["", "dembench against the roofline (OpenBLAS sgemm alone on "
            "the step's own products):", "",
            "| shape | method | threads | samples/s | GEMM MFLOP/sample "
            "| GFLOP/s | roofline samples/s | of roofline |",
            "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    out += roof_rows
    if torch_r:
        out += ["", "dembench against PyTorch at the same core count, "
                "each at its best thread setting:", "",
                "| shape | method | cores | dembench samples/s | "
                "PyTorch samples/s | ratio |",
                "| --- | --- | --- | ---: | ---: | ---: |"]
        out += torch_r
    return "\n".join(out) + "\n"


def splice(doc, text):
    with open(doc) as f:
        old = f.read()
    if BEGIN not in old or END not in old:
        sys.exit(f"table.py: {doc} has no {BEGIN} ... {END} lines; "
                 f"add them where the table goes")
    head, rest = old.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    new = f"{head}{BEGIN}\n{text}{END}{tail}"
    tmp = f"{doc}.tmp.{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(new)
    os.replace(tmp, doc)


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: table.py BENCH_DIR DOC COMMAND")
    bench, doc, cmd = sys.argv[1:]
    text = table(bench, cmd)
    with open(f"{bench}/table.md", "w") as f:
        f.write(text)
    sys.stdout.write(text)
    splice(doc, text)


if __name__ == "__main__":
    main()
