#!/usr/bin/env python3
"""Reports every `unsafe {` block without a `// SAFETY:` comment just above it, every `unsafe fn`
without a `# Safety` doc section, and every `unsafe impl` without a `// SAFETY:` comment, in the
Rust files given (scripts/test.sh runs it over pg_extension/src). Exits 1 if it reported any."""
import re
import sys
from pathlib import Path


def code_part(line):
    """The line without a trailing `//` comment (strings holding `//` are not a concern here)."""
    return line.split("//", 1)[0]


def comment_block_above(lines, i):
    """The contiguous `//` comment lines directly above line i, skipping attributes."""
    block, j = [], i - 1
    while j >= 0 and (lines[j].strip().startswith("//") or lines[j].strip().startswith("#[")):
        block.append(lines[j].strip())
        j -= 1
    return block, j


def has_safety_comment(lines, i):
    # Skip up to 3 code lines that start the same statement (`let x =`, `3 =>`, `|| (a &&`).
    j = i
    for _ in range(4):
        block, _ = comment_block_above(lines, j)
        if any(l.startswith("// SAFETY:") for l in block):
            return True
        if block:
            return False
        prev = j - 1
        while prev >= 0 and not lines[prev].strip():
            prev -= 1
        if prev < 0 or i - prev > 3 or code_part(lines[prev]).rstrip().endswith((";", "{", "}")):
            return False
        j = prev
    return False


def main(paths):
    problems = 0
    for path in paths:
        lines = Path(path).read_text().splitlines()
        for i, line in enumerate(lines):
            code = code_part(line)
            where = f"{path}:{i + 1}: {line.strip()}"
            if re.search(r"\bunsafe\s*\{", code) and not has_safety_comment(lines, i):
                print(f"unsafe block without SAFETY: {where}")
                problems += 1
            if re.search(r"\bunsafe\s+(extern\s+\"[^\"]*\"\s+)?fn\s+\w", code):
                block, _ = comment_block_above(lines, i)
                if not any(l == "/// # Safety" for l in block):
                    print(f"unsafe fn without # Safety: {where}")
                    problems += 1
            if re.search(r"\bunsafe\s+impl\b", code):
                block, _ = comment_block_above(lines, i)
                if not any(l.startswith("// SAFETY:") for l in block):
                    print(f"unsafe impl without SAFETY: {where}")
                    problems += 1
    if problems:
        print(f"check_safety: {problems} unsafe site(s) without a SAFETY note")
        return 1
    print(f"check_safety: every unsafe block, fn and impl in {len(paths)} files has its SAFETY note")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
