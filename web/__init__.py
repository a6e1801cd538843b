"""The clerks web archive: FastAPI app, users, need-to-know scopes, read log."""
