#!/usr/bin/env python3
"""Fails when a Markdown file of the repository links to a file or folder of the repository that
does not exist, or to a heading of one that it does not have: documents move with the code, and a
moved file must not leave a dead link behind.

Usage: scripts/check_links.py  (checks every Markdown file git tracks)
"""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~)")


def anchors(markdown: str) -> set[str]:
    """The fragment ids GitHub gives the headings of `markdown`."""
    ids, seen = set(), {}
    for line in prose_lines(markdown):
        match = re.match(r"#{1,6}\s+(.*)", line)
        if not match:
            continue
        slug = re.sub(r"[^\w\- ]", "", match.group(1).strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        ids.add(slug if count == 0 else f"{slug}-{count}")
    return ids


def prose_lines(markdown: str):
    """The lines of `markdown` outside fenced code blocks."""
    fenced = False
    for line in markdown.splitlines():
        if FENCE.match(line.strip()):
            fenced = not fenced
        elif not fenced:
            yield line


def problems_of(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    problems = []
    for line in prose_lines(text):
        for target in LINK.findall(line):
            if re.match(r"[a-z][a-z0-9+.-]*:", target):
                continue  # https:, mailto: and the like: not ours to check
            file_part, _, fragment = target.partition("#")
            linked = (path.parent / file_part).resolve() if file_part else path
            where = f"{path.relative_to(ROOT)}: {target}"
            if not linked.exists():
                problems.append(f"{where}: no such file")
            elif fragment and linked.suffix == ".md" and fragment not in anchors(linked.read_text(encoding="utf-8")):
                problems.append(f"{where}: no such heading")
    return problems


def main() -> int:
    tracked = subprocess.run(["git", "ls-files", "*.md"], cwd=ROOT, check=True, capture_output=True, text=True)
    files = [ROOT / name for name in tracked.stdout.split()]
    problems = [p for f in files if f.exists() for p in problems_of(f)]
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"check_links: {len(files)} Markdown files, {len(problems)} dead links")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
