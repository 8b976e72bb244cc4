"""The documentation site as a reader's browser shows it: key pages rendered by headless Chromium,
every formula typeset by MathJax without an error, every image and internal link present.

Needs the ``docs`` extra and Debian's ``chromium`` (``.ci/run`` installs both); skipped without
them. ``.ci/run`` builds the site once and passes it in ``DIALOGGRAPH_SITE``; otherwise the test
builds it."""
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from urllib.parse import unquote, urlparse

import pytest

DOCS = os.path.join(os.path.dirname(__file__), "..", "..", "docs")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PAGES = ["index.html", "api/nn.html", "api/models.html", "api/cli.html", "diff_rgat_conv.html", "dag_conv.html",
         "analysis.html", "tutorials.html", "model_zoo.html", "speed.html"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian package chromium)")
    built = os.environ.get("DIALOGGRAPH_SITE")
    if built:
        return built
    build = pytest.importorskip("sphinx.cmd.build")
    out = str(tmp_path_factory.mktemp("site"))
    assert build.build_main(["-W", "--keep-going", "-q", "-b", "html", DOCS, out]) == 0
    return out


def rendered(path: str) -> str:
    """The page's DOM after its scripts ran (MathJax typesets on load)."""
    done = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=15000",
                           "--dump-dom", "file://" + os.path.abspath(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.targets: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img" and attrs.get("src"):
            self.targets.append(attrs["src"])
        if tag == "a" and attrs.get("href"):
            self.targets.append(attrs["href"])


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_its_math_images_and_links(site, page):
    path = os.path.join(site, page)
    dom = rendered(path)
    assert "<article" in dom and len(re.sub(r"<[^>]+>", "", dom)) > 500          # the page has content
    formulas = len(re.findall(r'class="math[ "]', dom))
    assert len(re.findall(r"<mjx-container", dom)) == formulas                     # every formula typeset
    assert "<mjx-merror" not in dom                                                # ... without a TeX error
    if page in ("api/nn.html", "api/models.html", "diff_rgat_conv.html", "dag_conv.html"):
        assert formulas > 0
    links = Links()
    links.feed(dom)
    for target in links.targets:
        url = urlparse(target)
        if url.scheme or url.netloc or not url.path:       # external, or an anchor on this page
            continue
        local = os.path.normpath(os.path.join(os.path.dirname(path), unquote(url.path)))
        assert os.path.exists(local), f"{page} links to {target}, which the site does not have"


def test_api_page_screenshot_is_not_blank(site, tmp_path):
    image = pytest.importorskip("matplotlib.image")
    shot = tmp_path / "nn.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=15000",
                    "--window-size=1280,2000", f"--screenshot={shot}", "file://" + os.path.join(site, "api/nn.html")],
                   capture_output=True, timeout=120, check=True)
    pixels = image.imread(str(shot))
    assert pixels.shape[:2] == (2000, 1280)
    assert pixels[..., :3].std() > 0.05          # text and formulas, not an empty or error page
