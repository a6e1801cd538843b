"""Migrations into and out of the archive: one module per source, plus the job runner.

- ``jobs``: the jobs behind ``akte migrate …`` and their item-by-item report;
- ``folder``: a legacy file share with a CSV/JSON metadata file;
- ``paperless``: a paperless-ngx ``document_exporter`` folder;
- ``archive_export``: aktenarchiv's own portable export, written and read back;
- ``checksums``: checksums a source recorded, compared with the bytes that arrived;
- ``jsonstream``: large JSON arrays read item by item.
"""
