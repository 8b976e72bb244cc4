import pytest


@pytest.fixture(autouse=True)
def in_a_temporary_folder(tmp_path, monkeypatch):
    """Runs without --out go to runs/ under the current folder: keep them out of the checkout."""
    monkeypatch.chdir(tmp_path)
