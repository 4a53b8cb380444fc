#!/usr/bin/env python3
"""cloudai sample task 1: a small data-processing job.

Generates a set of simulated sensor readings, computes summary statistics and a histogram,
prints a readable report and, as the very last line of stdout, one JSON object with the same
figures (so a program reading the output needs only the last line).

Environment:
  POINTS  how many data points (a whole number from 2 to 1000000); default: a random
          count from 50 to 150
  SEED    seed for the random generator (any text); default: a fresh random seed, printed
          in the report so that the run can be repeated
  INPUT   a CSV of readings to summarize instead of simulated ones (the last column of
          each row that holds a number; a header row is skipped); default: /in/readings.csv
          when it exists (`cloudai task … --input readings.csv`)
  OUTPUT  a directory for the result files, summary.json and histogram.svg; default: /out
          when it exists or can be made (`cloudai task … --output /out` brings them back)

Exit codes: 0 on success, 2 when POINTS or INPUT is not valid (the message says why, on stderr).
Needs only the Python standard library (3.8 or newer) and no network.
"""

import csv
import json
import os
import random
import statistics
import sys

DEFAULT_MIN_POINTS = 50
DEFAULT_MAX_POINTS = 150
# Two points at least, so that the sample standard deviation exists.
MIN_POINTS = 2
# Bounded so that a typo cannot make the task run for hours or exhaust its memory limit.
MAX_POINTS = 1_000_000
HISTOGRAM_BINS = 10
BAR_WIDTH = 40


class UsageError(Exception):
    """A bad environment variable: reported on stderr with exit code 2."""


def points_from_env(rng):
    raw = os.environ.get("POINTS", "").strip()
    if raw == "":
        return rng.randint(DEFAULT_MIN_POINTS, DEFAULT_MAX_POINTS)
    try:
        points = int(raw, 10)
    except ValueError:
        points = None
    if points is None or not MIN_POINTS <= points <= MAX_POINTS:
        raise UsageError(
            f"POINTS must be a whole number from {MIN_POINTS} to {MAX_POINTS} (got {raw!r}); "
            f"leave it unset for a random count from {DEFAULT_MIN_POINTS} to {DEFAULT_MAX_POINTS}"
        )
    return points


def seed_from_env():
    seed = os.environ.get("SEED", "").strip()
    # A seed drawn here (not left to Python) can be printed, so any run can be repeated.
    return seed if seed != "" else str(random.SystemRandom().randrange(10**9))


def generate(rng, count):
    """Simulated temperature readings in °C: a daily-ish cycle plus noise, two decimals."""
    readings = []
    for i in range(count):
        cycle = 4.0 * ((i % 24) - 12) / 12.0
        readings.append(round(rng.gauss(21.0 + cycle, 2.5), 2))
    return readings


DEFAULT_INPUT = "/in/readings.csv"
DEFAULT_OUTPUT = "/out"


def input_path():
    path = os.environ.get("INPUT", "").strip()
    if path != "":
        return path
    return DEFAULT_INPUT if os.path.isfile(DEFAULT_INPUT) else None


def read_csv(path):
    """The readings in a CSV: per row, the last cell that is a number; rows without one are skipped."""
    values = []
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.reader(handle):
                for cell in reversed(row):
                    try:
                        values.append(float(cell))
                        break
                    except ValueError:
                        continue
    except OSError as err:
        raise UsageError(f"cannot read INPUT {path}: {err.strerror}")
    if len(values) < MIN_POINTS:
        raise UsageError(f"INPUT {path} holds {len(values)} readings; at least {MIN_POINTS} are needed")
    if len(values) > MAX_POINTS:
        raise UsageError(f"INPUT {path} holds more than {MAX_POINTS} readings")
    return values


def histogram_svg(summary):
    """The histogram as a small SVG bar chart (standard library only)."""
    counts, edges = summary["histogram"]["counts"], summary["histogram"]["edges"]
    width, height, pad = 480, 240, 30
    bar = (width - 2 * pad) / len(counts)
    most = max(counts) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f'<text x="{pad}" y="18" font-family="sans-serif" font-size="13">readings: {summary["count"]}, mean {summary["mean"]:.2f}</text>',
    ]
    for k, n in enumerate(counts):
        h = (height - 2 * pad) * n / most
        x = pad + k * bar
        parts.append(f'<rect x="{x:.1f}" y="{height - pad - h:.1f}" width="{bar - 2:.1f}" height="{h:.1f}" fill="#4a7ebb"><title>{edges[k]} .. {edges[k + 1]}: {n}</title></rect>')
    parts.append(f'<text x="{pad}" y="{height - 8}" font-family="sans-serif" font-size="11">{edges[0]}</text>')
    parts.append(f'<text x="{width - pad}" y="{height - 8}" font-family="sans-serif" font-size="11" text-anchor="end">{edges[-1]}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write_results(summary, seed, source):
    """summary.json and histogram.svg into OUTPUT; where it cannot be made (a read-only root), nothing."""
    out = os.environ.get("OUTPUT", "").strip() or DEFAULT_OUTPUT
    try:
        os.makedirs(out, exist_ok=True)
    except OSError:
        if os.environ.get("OUTPUT", "").strip() != "":
            raise UsageError(f"cannot create OUTPUT {out}")
        return None
    with open(os.path.join(out, "summary.json"), "w", encoding="utf-8") as handle:
        json.dump({"task": "cloudai-sample-task", "seed": seed, "source": source, **summary}, handle, indent=2)
        handle.write("\n")
    with open(os.path.join(out, "histogram.svg"), "w", encoding="utf-8") as handle:
        handle.write(histogram_svg(summary))
    return out


def histogram(values, bins):
    low, high = min(values), max(values)
    width = (high - low) / bins or 1.0
    counts = [0] * bins
    for v in values:
        counts[min(int((v - low) / width), bins - 1)] += 1
    edges = [round(low + width * k, 4) for k in range(bins + 1)]
    return edges, counts


def summarize(values):
    q1, _, q3 = statistics.quantiles(values, n=4)
    edges, counts = histogram(values, HISTOGRAM_BINS)
    return {
        "count": len(values),
        "mean": round(statistics.fmean(values), 4),
        "median": round(statistics.median(values), 4),
        "stdev": round(statistics.stdev(values), 4),
        "min": min(values),
        "max": max(values),
        "q1": round(q1, 4),
        "q3": round(q3, 4),
        "histogram": {"edges": edges, "counts": counts},
    }


def report(summary, seed):
    lines = [
        "cloudai sample task 1: sensor readings summary",
        "=" * 46,
        f"data points : {summary['count']}",
        f"seed        : {seed}  (SEED={seed} repeats this run)",
        f"mean        : {summary['mean']:.4f} °C",
        f"median      : {summary['median']:.4f} °C",
        f"stdev       : {summary['stdev']:.4f} °C",
        f"min .. max  : {summary['min']:.2f} .. {summary['max']:.2f} °C",
        f"q1 .. q3    : {summary['q1']:.4f} .. {summary['q3']:.4f} °C",
        "",
        "histogram:",
    ]
    edges, counts = summary["histogram"]["edges"], summary["histogram"]["counts"]
    most = max(counts)
    for k, n in enumerate(counts):
        bar = "#" * round(BAR_WIDTH * n / most)
        lines.append(f"  {edges[k]:7.2f} .. {edges[k + 1]:7.2f} | {bar:<{BAR_WIDTH}} {n}")
    lines.append("")
    return "\n".join(lines)


def main():
    seed = seed_from_env()
    rng = random.Random(seed)
    source = input_path()
    try:
        values = read_csv(source) if source is not None else generate(rng, points_from_env(rng))
        summary = summarize(values)
        out = write_results(summary, seed, source or "simulated")
    except UsageError as err:
        print(f"task.py: {err}", file=sys.stderr)
        return 2
    print(report(summary, seed))
    if source is not None:
        print(f"read {summary['count']} readings from {source}")
    if out is not None:
        print(f"wrote {out}/summary.json and {out}/histogram.svg")
    print(json.dumps({"task": "cloudai-sample-task", "seed": seed, **summary}, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
