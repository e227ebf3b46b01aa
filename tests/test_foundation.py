"""Project skeleton: raw manifest, pinned environment, kernel."""
import re
import tomllib

import yaml

from cchc_analysis import manifest, paths


def test_every_raw_file_is_in_the_manifest_with_its_checksum():
    assert manifest.verify_manifest() == []
    entries = manifest.load_manifest()["files"]
    assert len(entries) == len(manifest.raw_files())
    for e in entries:
        assert e["publisher"] and e["source"] and e["licence"] and e["covers"]
        assert re.fullmatch(r"[0-9a-f]{64}", e["sha256"]) and e["bytes"] > 0


def test_manifest_detects_a_changed_file(tmp_path):
    import shutil
    raw = tmp_path / "raw"
    shutil.copytree(paths.RAW / "admin_units", raw / "admin_units")
    shutil.copy(paths.RAW / "manifest.yaml", raw / "manifest.yaml")
    m = yaml.safe_load((raw / "manifest.yaml").read_text())
    m["files"] = [e for e in m["files"] if e["path"].startswith("admin_units/")]
    (raw / "manifest.yaml").write_text(yaml.safe_dump(m, allow_unicode=True))
    assert manifest.verify_manifest(raw) == []
    with open(raw / "admin_units" / "regions.csv", "a") as f:
        f.write("x\n")
    (raw / "admin_units" / "extra.csv").write_text("a\n")
    problems = manifest.verify_manifest(raw)
    assert any("regions.csv: checksum differs" in p for p in problems)
    assert any("extra.csv: not in the manifest" in p for p in problems)


def _pins_pyproject():
    data = tomllib.loads((paths.ROOT / "pyproject.toml").read_text())
    deps = data["project"]["dependencies"] + data["project"]["optional-dependencies"]["test"]
    return {re.split(r"[~=<>]", d)[0].strip().lower(): d.split("~=")[1].strip() for d in deps}


def _pins_conda():
    env = yaml.safe_load((paths.ROOT / "environment.yml").read_text())
    pins = {}
    for d in env["dependencies"]:
        if isinstance(d, dict):
            for p in d["pip"]:
                if "==" in p:
                    n, v = p.split("==")
                    pins[n.lower()] = v
        elif "=" in d and not d.startswith("python="):
            n, v = d.split("=")
            pins[n.lower()] = v
    return pins


def test_environment_yml_agrees_with_pyproject():
    assert _pins_pyproject() == _pins_conda()


def test_installed_versions_match_the_pins():
    from importlib.metadata import version
    for name, pin in _pins_pyproject().items():
        assert version(name) == pin, f"{name}: installed {version(name)}, pinned {pin}"


def test_notebooks_name_the_project_kernel_and_have_no_outputs():
    import json
    for nb in sorted((paths.NOTEBOOKS).glob("*.ipynb")):
        data = json.loads(nb.read_text())
        assert data["metadata"]["kernelspec"]["name"] == "cchc-analysis", nb
        assert not any(c.get("outputs") for c in data["cells"] if c["cell_type"] == "code"), nb
        tagged = [c for c in data["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, nb


def test_readme_coverage_table_is_current(built):
    from cchc_analysis.data import coverage_markdown
    readme = (paths.ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- coverage:start", 1)[1].split("-->", 1)[1].split("<!-- coverage:end -->")[0].strip()
    assert block == coverage_markdown().split("\n", 2)[2].strip(), "run `cchc coverage --markdown` and update README.md"
