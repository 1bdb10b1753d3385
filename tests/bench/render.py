#!/usr/bin/env python3
"""Renders a tests/bench/scale.sh result (JSON) as the Markdown results table."""
import json
import sys


def ms(v):
    return "-" if v is None else f"{v:.1f}"


def matches(s):
    if s.get("matches") is None:
        return "?"
    return ("≈" if s.get("matches_estimated") else "") + f"{s['matches']:,}"


def ratio(b):
    if not b:
        return "n/a"
    if b.get("ratio") is None:
        return "failed" if b.get("error") else "-"
    return f"{b['ratio']:.1f}×"


def p90_and_fast(report):
    """The p90 of the queries' medians and how many are under 300 ms (the issue's p95 target)."""
    medians = sorted(q["median_ms"] for q in report["queries"] if q.get("median_ms") is not None)
    if not medians:
        return "-", 0
    p90 = medians[min(len(medians) - 1, int(0.9 * len(medians) + 0.5) - 1)]
    return ms(p90), sum(1 for m in medians if m < 300)


def summary(title, report):
    s = report["summary"]
    b = s.get("baseline") or {}
    p90, fast = p90_and_fast(report)
    lines = [f"**{title}**: {s['queries']} queries; Lexica median {ms(s['median_ms'])} ms, p90 {p90} ms,"
             f" p95 {ms(s['p95_ms'])} ms; {fast} under 300 ms"]
    if b:
        lines[0] += (
            f"; naive `ts_rank_cd` median {ms(b.get('median_ms'))} ms, p95 {ms(b.get('p95_ms'))} ms;"
            f" baseline/Lexica {ratio({'ratio': b.get('ratio_median')})} at the median,"
            f" {ratio({'ratio': b.get('ratio_p95')})} at p95"
        )
    if report.get("skipped"):
        lines.append(f"Skipped {len(report['skipped'])} line(s): " + "; ".join(
            f"line {k['line']}: {k['reason'].splitlines()[0][:80]}" for k in report["skipped"]))
    return lines


def table(report):
    out = [
        "| # | query | median ms | p95 ms | source ms | status | matches | baseline ms | baseline p95 | ratio |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for i, q in enumerate(report["queries"], 1):
        for s in q["sources"]:
            b = s.get("baseline") or {}
            text = q["query"].replace("|", "\\|")
            if len(text) > 60:
                text = text[:60] + "…"
            out.append(
                f"| {i} | `{text}` | {ms(q['median_ms'])} | {ms(q['p95_ms'])} | {ms(s['median_ms'])} | {s['status']} |"
                f" {matches(s)} | {ms(b.get('median_ms'))} | {ms(b.get('p95_ms'))} | {ratio(s.get('baseline'))} |"
            )
    return out


def main():
    r = json.load(open(sys.argv[1]))
    c, m, v, ing = r["corpus"], r["machine"], r["versions"], r["ingest"]
    lines = [
        f"# Scale benchmark: {c['opinions']:,} synthetic opinions, {c['backend']}",
        "",
        f"Command: `{r['command']}` — {r['date']}",
        "",
        f"- Machine: {m['nproc']} cores ({m['cpu']}), {m['memory']}",
        f"- Lexica commit {v['lexica_commit'][:12]}" + (" (working tree modified)" if v["working_tree_modified"] else "")
        + (f", PostgreSQL {v['postgresql']}" if v.get("postgresql") else "") + f", {v['rustc']}",
        f"- Corpus: `lexica-synth --opinions {c['opinions']} --seed {c['seed']}`, {c['jsonl_bytes'] / 1e6:,.0f} MB of JSON Lines",
        f"- Ingest (last run): {ing['records']:,} records ({ing['inserted']:,} inserted, {ing['unchanged']:,} unchanged,"
        f" {ing['rejected']} rejected) in {ing['elapsed_secs']:.0f} s, {ing['mb_per_sec']:.1f} MB/s",
        f"- Each query: one warm-up search, then {r['repeat']} timed searches in one `lexica bench` process (warm pools);"
        " median/p95 are the whole search's wall time; the baseline is"
        " `SELECT … ORDER BY ts_rank_cd(search_vector, q) DESC LIMIT 100` over every match, on its own pool.",
        "",
        "## Common terms",
        "",
        *summary("Common terms", r["common"]),
        "",
        *table(r["common"]),
        "",
        "## The 195 corpus queries (legal_boolean_queries.jsonl)",
        "",
        *summary("Corpus queries", r["corpus_queries"]),
        "",
        *table(r["corpus_queries"]),
        "",
    ]
    if r.get("corpus_sample"):
        lines += [
            "## Every 16th corpus query, with the naive `ts_rank_cd` baseline (one timed run each)",
            "",
            *summary("Corpus sample", r["corpus_sample"]),
            "",
            *table(r["corpus_sample"]),
            "",
        ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
