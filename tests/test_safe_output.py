"""Safe output: text from raw files is shown escaped, builds and notebook runs make no network
access, and output folders stay inside the project or a root the user named."""
from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pandas as pd
import pytest

import badinput as bi
from cchc_analysis import params, paths, report, reporting
from cchc_analysis.data import build_data
from cchc_analysis.params import ParameterError

SCRIPT = "<script>alert(1)</script>"
JS_LINK = "[click](javascript:alert(2))"
PAR = "par_sipas/par_sipas_facts.csv"


# ------------------------------------------------------------------------------ network guard

def _blocked_host(address) -> str | None:
    """The host of a non-loopback internet address (None for loopback or a unix socket)."""
    if not isinstance(address, tuple):
        return None
    host = address[0]
    if host == "localhost":
        return None
    try:
        return None if ipaddress.ip_address(host.split("%")[0]).is_loopback else host
    except ValueError:
        return host


@pytest.fixture
def no_network(monkeypatch):
    """Block (and record) every connection, datagram and name lookup except loopback."""
    attempts: list[str] = []

    def guard(name, original):
        def wrapper(self, address, *a):
            if _blocked_host(address):
                attempts.append(f"{name} {address}")
                raise OSError(f"network access blocked by the test: {name} {address}")
            return original(self, address, *a)
        return wrapper

    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *a, **k):
        if host not in (None, "localhost") and _blocked_host((host,)):
            attempts.append(f"getaddrinfo {host}")
            raise OSError(f"name lookup blocked by the test: {host}")
        return real_getaddrinfo(host, *a, **k)

    monkeypatch.setattr(socket.socket, "connect", guard("connect", socket.socket.connect))
    monkeypatch.setattr(socket.socket, "connect_ex", guard("connect_ex", socket.socket.connect_ex))
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return attempts


SITECUSTOMIZE = '''
"""Loaded by every Python started with this folder on PYTHONPATH (the notebook kernel):
blocks and logs any non-loopback connection or name lookup."""
import ipaddress, os, socket
_LOG = os.environ["CCHC_NET_LOG"]
with open(_LOG + ".loaded", "a") as f:
    f.write(f"{os.getpid()}\\n")

def _blocked(address):
    if not isinstance(address, tuple):
        return False                      # unix socket
    host = address[0]
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return True

def _wrap(name, original):
    def wrapper(self, address, *a):
        if _blocked(address):
            with open(_LOG, "a") as f:
                f.write(f"{os.getpid()} {name} {address!r}\\n")
            raise OSError("network access blocked by the test")
        return original(self, address, *a)
    return wrapper

socket.socket.connect = _wrap("connect", socket.socket.connect)
socket.socket.connect_ex = _wrap("connect_ex", socket.socket.connect_ex)
socket.socket.sendto = _wrap("sendto", socket.socket.sendto)
_gai = socket.getaddrinfo
def _getaddrinfo(host, *a, **k):
    if host not in (None, "localhost") and _blocked((host,)):
        with open(_LOG, "a") as f:
            f.write(f"{os.getpid()} getaddrinfo {host!r}\\n")
        raise OSError("name lookup blocked by the test")
    return _gai(host, *a, **k)
socket.getaddrinfo = _getaddrinfo
'''


@pytest.fixture
def guarded_env(tmp_path, monkeypatch) -> Path:
    """PYTHONPATH with the blocking sitecustomize for child Pythons; returns the log path."""
    folder = tmp_path / "netguard"
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(textwrap.dedent(SITECUSTOMIZE))
    log = tmp_path / "net.log"
    monkeypatch.setenv("CCHC_NET_LOG", str(log))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")])))
    return log


def test_the_kernel_guard_blocks_and_logs(guarded_env):
    """The guard works: a child Python cannot reach 192.0.2.1 but may use loopback."""
    code = textwrap.dedent("""
        import socket
        for attempt in (lambda: socket.socket().connect(("192.0.2.1", 80)),
                        lambda: socket.create_connection(("example.org", 80), timeout=2)):
            try:
                attempt()
            except OSError as e:
                print("blocked:", e)
        s = socket.socket()
        print("loopback:", s.connect_ex(("127.0.0.1", 9)))   # allowed (refused: nothing listens)
        s.close()
        """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=os.environ)
    assert out.stdout.count("blocked:") == 2 and "loopback:" in out.stdout, out.stdout + out.stderr
    log = guarded_env.read_text()
    assert "192.0.2.1" in log and "example.org" in log and "127.0.0.1" not in log


@pytest.mark.slow
def test_notebook_run_makes_no_network_access(guarded_env, tmp_path, monkeypatch, built):
    import papermill

    out = tmp_path / "report"
    monkeypatch.setenv("CCHC_OUTPUT_ROOT", str(out))
    papermill.execute_notebook(str(paths.NOTEBOOKS / "ranking_trends.ipynb"), str(tmp_path / "run.ipynb"),
                               parameters={"year": 2006, "province": "67", "output_dir": str(out)},
                               kernel_name=report.KERNEL, progress_bar=False, log_output=False,
                               cwd=str(paths.NOTEBOOKS), execution_timeout=300)
    assert Path(str(guarded_env) + ".loaded").read_text().strip(), "the kernel did not load the guard"
    assert not guarded_env.exists() or guarded_env.read_text() == "", guarded_env.read_text()
    assert (out / "league_pci.csv").exists()


# ------------------------------------------------------------------------------ escaping

@pytest.fixture
def shown(monkeypatch) -> list:
    """Objects passed to IPython's display (what a notebook would render)."""
    import IPython.display
    objs: list = []
    monkeypatch.setattr(IPython.display, "display", lambda *o, **k: objs.extend(o))
    return objs


def rendered_page(tmp_path: Path, objs: list) -> str:
    """The displayed objects as outputs of a notebook, exported the way reports are."""
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("")
    for o in objs:
        data = {"text/plain": "x"}
        if hasattr(o, "_repr_html_") and o._repr_html_() is not None:
            data["text/html"] = o._repr_html_()
        if hasattr(o, "_repr_markdown_") and o._repr_markdown_() is not None:
            data["text/markdown"] = o._repr_markdown_()
        cell.outputs.append(nbformat.v4.new_output("display_data", data=data))
    nb.cells.append(cell)
    path = tmp_path / "page.ipynb"
    nbformat.write(nb, path)
    return report._to_html(path)


def assert_escaped(page: str) -> None:
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    assert 'href="javascript' not in page


def test_script_in_a_raw_file_is_kept_as_data_and_shown_escaped(tmp_path, no_network, shown):
    """A facts CSV copy with a script in a quote and a note: the build (with the network blocked)
    keeps the text as published; tables, Markdown and the exported HTML show it escaped."""
    raw = bi.new_raw(tmp_path)
    lines = bi.lines(bi.text(PAR))
    assert lines[1].endswith('",')                            # row 2: the note column is empty
    lines[1] = bi.sub(lines[1], ',"Các tỉnh, thành phố:', f',"{SCRIPT} Các tỉnh, thành phố:') + SCRIPT + " " + JS_LINK
    bi.write(raw, PAR, "\n".join(lines))
    bi.seal(bi.prerequisites(raw, "all"))
    out = tmp_path / "processed"
    build_data(raw, out, force=True, log=lambda *_: None)
    assert no_network == []

    facts = pd.read_parquet(out / "facts.parquet")
    row = facts[facts.source_file.str.endswith(PAR) & (facts.source_locator == "row 2")]
    assert len(row) == 1
    assert row.iloc[0].quote.startswith(SCRIPT + " Các tỉnh")              # kept verbatim, as published
    assert row.iloc[0].note.endswith(f"{SCRIPT} {JS_LINK}")                  # the note column, appended

    reporting.show_table(row[["scope", "value", "quote", "note"]])
    reporting.show_md(f"**{reporting.esc(row.iloc[0].scope_as_written)}**: {reporting.esc(row.iloc[0].note)}")
    html_table = shown[0]._repr_html_()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_table and "<script>" not in html_table
    md = shown[1]._repr_markdown_()
    assert "&lt;script&gt;" in md and "<script>" not in md and "[click]" not in md
    page = rendered_page(tmp_path, shown)
    assert_escaped(page)


def test_esc_neutralises_html_and_markdown_links():
    assert reporting.esc(SCRIPT) == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert "[" not in reporting.esc(JS_LINK) and "]" not in reporting.esc(JS_LINK)
    assert reporting.esc('a "b" & c') == "a &quot;b&quot; &amp; c"
    assert reporting.esc("Đa\u0301k") == "Đák"                              # NFC


def test_index_page_escapes_error_text(tmp_path, built):
    jobs = [report.Job("ranking_trends", 2019, {}, tmp_path, 60, status="failed",
                       error=f"ValueError: {SCRIPT} {JS_LINK}"),
            report.Job("procedure_simplification", 2019, {}, tmp_path, 60, status="ok")]
    page = report.write_index(tmp_path, jobs).read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page
    assert 'href="javascript' not in page
    assert page.rstrip().endswith("</html>")


# ------------------------------------------------------------------------------ output folders

@pytest.mark.parametrize("value", ["../../etc", "/etc", "reports/../../..", Path("/tmp/../etc")])
def test_output_dir_outside_the_project_is_refused(value, monkeypatch):
    monkeypatch.delenv("CCHC_OUTPUT_ROOT", raising=False)
    with pytest.raises(ParameterError, match="outside the project"):
        params.safe_dir(value, paths.REPORTS)


def test_output_dir_inside_the_project_or_a_named_root(tmp_path, monkeypatch):
    monkeypatch.delenv("CCHC_OUTPUT_ROOT", raising=False)
    assert params.safe_dir("reports/2019/x", paths.REPORTS) == (paths.ROOT / "reports/2019/x").resolve()
    assert params.safe_dir(None, paths.REPORTS) == paths.REPORTS
    named = tmp_path / "site"
    # a folder the user names outside the project is accepted (system folders are not: see above)
    assert params.safe_dir(named / "2019", paths.REPORTS) == (named / "2019").resolve()
    assert params.safe_dir(named / "2019", paths.REPORTS, allowed_roots=[named]) == (named / "2019").resolve()
    monkeypatch.setenv("CCHC_OUTPUT_ROOT", str(named))
    assert params.safe_dir(str(named / "2019"), paths.REPORTS) == (named / "2019").resolve()
    with pytest.raises(ParameterError):
        params.safe_dir(str(named) + "/.." * 30 + "/etc", paths.REPORTS)   # '..' up to /etc


def test_symlink_out_of_an_allowed_root_is_refused(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    (root / "link").symlink_to("/etc")
    with pytest.raises(ParameterError, match="outside the project"):
        params.safe_dir(root / "link", paths.REPORTS, allowed_roots=[root])


def test_notebook_setup_refuses_an_outside_output_dir(monkeypatch, built, capsys):
    """The notebook's first call stops with a parameter message (no traceback) for /etc."""
    from cchc_analysis import ranking_report
    monkeypatch.delenv("CCHC_OUTPUT_ROOT", raising=False)
    with pytest.raises(SystemExit, match="parameter error: output_dir '/etc' is outside the project"):
        ranking_report.setup(2019, "67", None, 5, "/etc")
