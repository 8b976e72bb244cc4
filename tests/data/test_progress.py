"""Progress goes to stderr as a bar on a terminal and as two lines in a log."""
import io

from dialoggraph.progress import progress


def test_a_log_gets_a_line_at_the_start_and_one_at_the_end(monkeypatch):
    log = io.StringIO()
    monkeypatch.setattr("sys.stderr", log)
    assert list(progress(iter(range(4)), "audio (egemaps)", total=4)) == [0, 1, 2, 3]
    lines = log.getvalue().splitlines()
    assert lines[0] == "audio (egemaps): 4 to do" and lines[1].startswith("audio (egemaps): 4 done in ")
    assert "\r" not in log.getvalue() and len(lines) == 2


def test_quiet_says_nothing_and_a_terminal_gets_a_bar(monkeypatch):
    log = io.StringIO()
    monkeypatch.setattr("sys.stderr", log)
    assert list(progress(range(3), "x", enabled=False)) == [0, 1, 2] and log.getvalue() == ""
    monkeypatch.setattr(log, "isatty", lambda: True)
    assert list(progress(range(3), "text features")) == [0, 1, 2]
    assert "text features" in log.getvalue() and "\r" in log.getvalue()
