#!/usr/bin/env python3
"""Keeps the documents true to the tree: fails when a Markdown file of the repository links to a
file or folder of the repository that does not exist, or to a heading that its target does not
have (a moved file must not leave a dead link behind), and when CONTRIBUTING.md's layout does not
name a source file of the folders it lays out (a new file must be placed for the next reader).

Usage: scripts/check_docs.py  (checks every Markdown file git tracks)
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


#: The files CONTRIBUTING.md's layout must name, as git pathspecs.
LAID_OUT = ["pg_extension/src/*.rs", "pg_extension/src/*.c", "wasm/src/*.rs", "wasm/js/*", "scripts/*"]


def unplaced() -> list[str]:
    """The tracked files of LAID_OUT (top level of each folder) that CONTRIBUTING.md never names."""
    layout = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    tracked = subprocess.run(["git", "ls-files", "--", *LAID_OUT], cwd=ROOT, check=True, capture_output=True, text=True)
    laid_out = {Path(spec).parent.as_posix() for spec in LAID_OUT}
    return [name for name in tracked.stdout.split()
            if Path(name).parent.as_posix() in laid_out and f"({name})" not in layout]


def main() -> int:
    tracked = subprocess.run(["git", "ls-files", "*.md"], cwd=ROOT, check=True, capture_output=True, text=True)
    files = [ROOT / name for name in tracked.stdout.split()]
    problems = [p for f in files if f.exists() for p in problems_of(f)]
    problems += [f"CONTRIBUTING.md: the layout does not name {name}" for name in unplaced()]
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"check_docs: {len(files)} Markdown files, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
