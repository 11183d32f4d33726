"""The WSGI entry point for gunicorn (`gunicorn web.wsgi:app`)."""

from models.storage import start_storage_check
from web import create_app

app = create_app()
start_storage_check(app.config["STORAGE_DIR"])
