"""Quarterly administrative-procedure (TTHC) service report pipeline.

One module per stage of the flow (see ../../README.md): periods, config, portal, extract,
store, quality, figures, report, intake, sandbox.
"""
