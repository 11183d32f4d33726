"""The Flask-Admin back office."""

from flask import Flask
from flask_admin import Admin


def build_admin(app: Flask) -> Admin:
    """Build the back office and its views for this app."""
    admin = Admin(app, name="ClaimPost", url="/admin")
    return admin
