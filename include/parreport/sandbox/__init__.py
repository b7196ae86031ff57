"""Sandbox: servers implementing portal-api.yaml and report-api.yaml over generated data.

- :func:`generate` / :class:`GeneratorConfig` / :class:`Dataset`: the deterministic data of one
  agency (generator.py says which module holds which job);
- :func:`generate_province` / :class:`Province`: several agencies behind one portal.
- :func:`create_portal_app` / :class:`PortalSettings`: the portal (source).
- :func:`create_intake_app` / :class:`IntakeSettings`: the Sở Nội vụ intake (sink).
- :func:`run_sandbox`: both servers in a subprocess, for tests and demos;
  ``python -m parreport.sandbox serve`` on the command line.

Imports are lazy so that ``import parreport.sandbox`` stays cheap.
"""
from __future__ import annotations

from importlib import import_module

_EXPORTS = {
    "GeneratorConfig": "model", "Dataset": "dataset", "Duplicate": "model", "BoundaryCase": "model",
    "generate": "generator", "RULES": "model",
    "PortalSettings": "portal_app", "create_portal_app": "portal_app",
    "IntakeSettings": "intake_app", "IntakeClient": "intake_app", "create_intake_app": "intake_app",
    "FaultSettings": "common", "Province": "province", "generate_province": "province",
    "run_sandbox": "runner", "SandboxHandle": "runner",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(name)
