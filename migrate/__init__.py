"""Migrations into and out of the archive: one module per source, plus the job runner.

- ``jobs``: the jobs behind ``akte migrate …`` and their item-by-item report;
- ``folder``: a legacy file share with a CSV/JSON metadata file;
- ``paperless``: a paperless-ngx ``document_exporter`` folder;
- ``archive_export``: aktenarchiv's own portable export, written and read back;
- ``jsonstream``: large JSON arrays read item by item.

The checksums a source recorded are compared with the bytes that arrived by the pipeline's
checks (``ingest/checksums.py``): the pipeline sits below the jobs and may not import them.
"""
