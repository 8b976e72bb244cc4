"""The package, its docs, examples and benchmarks speak of the library only: no development
sessions, issue numbers or commit hashes (IEMOCAP's recording sessions are the one use of the word)."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
WHERE = ["dialoggraph", "docs", "examples", "benchmarks", "scripts", "README.md", "CHANGELOG.md", "setup.cfg"]
SUFFIXES = {".py", ".md", ".rst", ".sh", ".txt", ".cfg", ".yaml", ".yml", ".toml", ".ipynb"}
SESSION = re.compile(r"\bsessions?\b", re.IGNORECASE)
# IEMOCAP's five recording sessions: Session1..Session5, "sessions 1-4", "session 5", or a line or file on IEMOCAP
IEMOCAP_SESSION = re.compile(r"Session\d|\b[Ss]essions?\s+[1-5](?:\s*-\s*[1-5])?\b(?!\.\d)|recording sessions?|IEMOCAP")
ISSUE = re.compile(r"\bissues?\s*#\s*\d+|\bissue\s+\d+\b", re.IGNORECASE)
# a page that narrates its own making, or names the version that measured it (the changelog's job)
DIARY = re.compile(r"\bthe issue\b|\b(?:this|same|earlier) round\b|\bdialoggraph 0\.\d+", re.IGNORECASE)
# 7-40 hex digits with at least one letter and one digit, not a colour (#1f77b4) or part of a longer word
COMMIT = re.compile(r"(?<![#\w-])(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{7,40}(?![\w-])")


def files():
    for place in WHERE:
        path = ROOT / place
        candidates = [path] if path.is_file() else sorted(path.rglob("*"))
        for file in candidates:
            if file.is_file() and file.suffix in SUFFIXES and "__pycache__" not in file.parts:
                yield file


def findings(file):
    for number, line in enumerate(file.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if SESSION.search(line) and not IEMOCAP_SESSION.search(line) and "iemocap" not in file.name:
            yield number, "session", line
        if ISSUE.search(line):
            yield number, "issue number", line
        if DIARY.search(line) and file.name != "CHANGELOG.md":
            yield number, "development history", line
        for match in COMMIT.finditer(line):
            yield number, f"commit hash {match.group()}", line


@pytest.mark.parametrize("file", list(files()), ids=lambda f: str(f.relative_to(ROOT)))
def test_no_development_history(file):
    found = [f"{file.relative_to(ROOT)}:{n}: {what}: {line.strip()[:120]}" for n, what, line in findings(file)]
    assert not found, "\n".join(found)


def test_the_patterns_catch_what_they_must_and_spare_iemocap():
    assert COMMIT.search("trained as of commit 85d6e94") and COMMIT.search("see 1e5893c.")
    assert not COMMIT.search("colour #1f77b4, lr 3e-4, 2024-01-05, deadbeef, 1234567")
    assert ISSUE.search("before issue #15") and ISSUE.search("Issue 12 asked")
    assert SESSION.search("in session 21") and IEMOCAP_SESSION.search("IEMOCAP Session5 is test")
    assert not IEMOCAP_SESSION.search("since session 21") and not IEMOCAP_SESSION.search("in session 12")
    assert IEMOCAP_SESSION.search("sessions 1-4 are train and session 5 is test")
    assert DIARY.search("as the issue asks") and DIARY.search("The same round's run")
    assert DIARY.search("one run, dialoggraph 0.2)") and not DIARY.search("an issue tracker, dropout 0.2")
