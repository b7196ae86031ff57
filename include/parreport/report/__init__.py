"""The report: what it says, how it is signed, and the documents people read.

* ``payload.py`` — the body of BaoCaoQuy and ``figures_sha`` (what the report says);
  ``changes.py`` — the ``LyDoDieuChinh`` of a later version; ``signing.py`` — RFC 8785 +
  detached JWS;
* ``documents.py`` — the attachments (TepDinhKem) and the documents' public API, built by
  ``view.py`` (one quarter as every document sees it), ``narrative.py`` (the text),
  ``model.py`` (what the HTML and the PDF show), ``spreadsheet.py`` (XLSX), ``charts.py``
  (matplotlib), ``html.py`` (+ ``templates/``) and ``pdf.py`` (reportlab).
"""
