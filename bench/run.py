"""Load tests of a real ``bandstand serve`` with wrk, in five sections, written to
``bench/RESULTS.md``.

- accounts (``accounts.py``): a constant route and an authenticated one, on SQLite and
  on PostgreSQL + Redis;
- songs (``songs.py``): the catalogue at scale (1 000 000 songs), search, and Range
  requests against nginx serving the same file;
- media (``media.py``): processing speed on one core, the job queue's cost per job;
- imports (``imports.py``): ``bandstand import`` of 1 000 tagged files, until playable and
  until fully processed;
- engagement (``engagement.py``): likes under load, the counter flush, a song's comments;
- web (``web.py``): the HTML home page beside the JSON feed, a first visit's download,
  a click on play.

Run from the repository root with the project's venv:
``.venv/bin/python bench/run.py [--only accounts|songs|media|imports|engagement|web] [--quick]
[--duration 15]``. ``--only`` runs one section and keeps the others' results in the
file; ``--quick`` writes ``bench/out/RESULTS-quick.md``. Logs, Lua scripts and nginx
configurations go to ``bench/out/`` (``harness.py`` holds what the sections share).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from harness import OUT_DIR, RESULTS_FILE, BenchError, Report, ensure_wrk, merge_results

import accounts
import engagement
import imports
import media
import songs
import subsonic
import web

# In the order they run and appear in the results file.
SECTIONS = {
    s.name: s
    for s in (
        accounts.SECTION,
        songs.SECTION,
        media.SECTION,
        imports.SECTION,
        engagement.SECTION,
        web.SECTION,
        subsonic.SECTION,
    )
}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--only", choices=tuple(SECTIONS), help="run one section and keep the other's results"
    )
    parser.add_argument("--duration", type=int, help="seconds per route (15; --quick: 5)")
    parser.add_argument("--connections", type=int, default=32, help="open connections (32)")
    parser.add_argument(
        "--backend",
        choices=[*accounts.BACKENDS, "all"],
        default="all",
        help="accounts and imports sections: sqlite, postgresql or all (all)",
    )
    parser.add_argument(
        "--users", type=int, help=f"songs section: users to seed ({songs.FULL_USERS:,})"
    )
    parser.add_argument(
        "--songs", type=int, help=f"songs section: songs to seed ({songs.FULL_SONGS:,})"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"development run: {songs.QUICK_SONGS:,} songs, {songs.QUICK_USERS:,} users, "
        "5 s per route, results in bench/out/RESULTS-quick.md",
    )
    parser.add_argument(
        "--api-workers", type=int, default=2, help="songs section: `bandstand serve --workers` (2)"
    )
    parser.add_argument("--output", type=Path, help="results file (bench/RESULTS.md)")
    args = parser.parse_args(argv)
    args.duration = args.duration or (5 if args.quick else 15)
    if args.users is None:
        args.users = songs.QUICK_USERS if args.quick else songs.FULL_USERS
    if args.songs is None:
        args.songs = songs.QUICK_SONGS if args.quick else songs.FULL_SONGS
    args.output = args.output or (OUT_DIR / "RESULTS-quick.md" if args.quick else RESULTS_FILE)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # Turn a plain `kill` into SystemExit, so servers and the database still go away.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    chosen = [SECTIONS[args.only]] if args.only else list(SECTIONS.values())
    reports: dict[str, Report] = {}
    try:
        ensure_wrk()
        OUT_DIR.mkdir(exist_ok=True)
        for section in chosen:
            # This machine may be shared: each section says how busy it was when it began.
            reports[section.name] = section.run(args, os.getloadavg()[0])
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    fresh = {name: report.markdown for name, report in reports.items()}
    titles = {name: section.title for name, section in SECTIONS.items()}
    args.output.write_text(merge_results(args.output, fresh, titles))
    for report in reports.values():
        for line in report.summary:
            print(line)
    print(f"wrote {args.output}")
    failed = [label for report in reports.values() for label in report.failed]
    if failed:
        print(f"error: non-2xx or socket errors on {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
