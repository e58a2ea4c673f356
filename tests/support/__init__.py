"""Test support shared by the tests and the benchmarks (never imported by production code; needs the dev
dependencies, e.g. reportlab):

* ``tests.support.crawl``: a local HTTP portal with fault routes (:class:`LocalPortal`), small Chinese PDFs
  (:func:`make_pdf`, :func:`budget_pdf`) and hostile ones (bombs, encrypted, corrupt).

Imported as ``tests.support…`` with the repository root on ``sys.path`` (pytest: ``pythonpath`` in
pyproject.toml; the benchmarks insert it).
"""
