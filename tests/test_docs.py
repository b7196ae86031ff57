"""The specification travels with the code: docs/ holds what the code cites, the sandbox serves
the contracts of docs/contracts/, and nothing points outside the repository."""
from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CONTRACTS = ("portal-api.yaml", "report-api.yaml")


@pytest.mark.parametrize("name", CONTRACTS)
def test_the_sandbox_serves_the_contracts_of_docs(name):
    served = files("parreport.sandbox") / "contracts" / name
    assert Path(str(served)).resolve() == (DOCS / "contracts" / name).resolve()  # one copy, linked
    assert served.read_bytes() == (DOCS / "contracts" / name).read_bytes()


def test_the_intake_validates_against_that_contract():
    import yaml

    from parreport.sandbox.intake_app import load_report_schema

    doc = yaml.safe_load((DOCS / "contracts" / "report-api.yaml").read_text(encoding="utf-8"))
    assert load_report_schema() == {"$ref": "#/components/schemas/BaoCaoQuy", "components": doc["components"]}


def test_every_link_between_the_documents_resolves():
    for md in DOCS.glob("*.md"):
        for target in re.findall(r"\]\(([^)#\s]+)", md.read_text(encoding="utf-8")):
            if "://" not in target:
                assert (md.parent / target).exists(), f"{md.name} links to missing {target}"


def test_nothing_points_outside_the_repository():
    """A fresh clone has no ../shared: the README, the code, tests, scripts, image and docs cite docs/."""
    paths = [ROOT / "README.md", ROOT / "Dockerfile", ROOT / "docker-compose.yaml"]
    for folder in ("include", "tests", "scripts", "dags", "docs"):
        paths += [p for p in (ROOT / folder).rglob("*") if p.suffix in (".py", ".md", ".sh", ".yaml", ".json", ".j2")]
    offenders = []
    for path in paths:
        if path.is_file() and path != Path(__file__):
            text = path.read_text(encoding="utf-8", errors="replace")
            if "../shared" in text or "shared/docs" in text or "shared/contracts" in text:
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
