"""Make the README's pictures of what the client receives: the demo's claim email at 375 px and
at desktop width, and the first page of its PDF, with headless Chromium (Debian's `chromium`,
driven by Playwright; no browser is downloaded). Run from the project folder:

    .venv/bin/python docs/screenshots.py

It works in a throw-away instance (SQLite, embedded Redis) and writes docs/*.png.
"""

import io
import os
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))
INSTANCE = Path(tempfile.mkdtemp(prefix="claimpost-docs-"))
os.environ["CLAIMPOST_INSTANCE"] = str(INSTANCE)  # before web.config reads it

from flask_migrate import upgrade  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from sqlalchemy import select  # noqa: E402

from models import Company, ProgressClaim, User  # noqa: E402
from models.compose import Draft, compose_email  # noqa: E402
from models.demo import seed_demo  # noqa: E402
from models.logo import clean_logo  # noqa: E402
from web import create_app  # noqa: E402
from web.emails import file_store, mail_settings  # noqa: E402
from web.extensions import db  # noqa: E402
from workers.render import render  # noqa: E402

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def demo_logo() -> bytes:
    """A plain mark for the demo company's letterhead."""
    picture = Image.new("RGBA", (360, 120), (255, 255, 255, 0))
    draw = ImageDraw.Draw(picture)
    draw.rounded_rectangle((0, 0, 119, 119), radius=18, fill=(11, 92, 173, 255))
    draw.polygon([(20, 92), (60, 28), (100, 92)], fill=(255, 255, 255, 255))
    draw.rectangle((132, 40, 350, 52), fill=(11, 92, 173, 255))
    draw.rectangle((132, 66, 300, 78), fill=(120, 150, 190, 255))
    out = io.BytesIO()
    picture.save(out, "PNG")
    return clean_logo(out.getvalue()).content


def rendered_email(app) -> tuple[str, bytes]:
    """The demo's claim 3 email as it would be sent, and its PDF."""
    with app.app_context():
        upgrade()
        ids = seed_demo(db.session)
        company = db.session.scalar(select(Company))
        company.logo_sha256 = file_store().put(demo_logo())
        claim = db.session.get(ProgressClaim, ids["claim_id"])
        sender = db.session.scalar(select(User).where(User.email == "priya.pm@harbourside.example"))
        email = compose_email(
            db.session,
            claim,
            sender,
            Draft(
                to=["olivia@owner.example"],
                message="Hi Olivia,\nHere is our claim for October. Thank you.",
            ),
            mail_settings(),
            file_store(),
        )
        db.session.flush()
        html = render(email, file_store())["html_body"]
        [pdf] = [a for a in email.attachments if a.generated]
        return html, file_store().read(pdf.sha256)


def main() -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{INSTANCE / 'docs.db'}"})
    html, pdf = rendered_email(app)
    pdf_path = INSTANCE / "claim.pdf"
    pdf_path.write_bytes(pdf)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        for width, name in ((375, "email-375px.png"), (1024, "email-desktop.png")):
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.set_content(html)
            page.screenshot(path=str(DOCS / name), full_page=True)
            page.close()
        # Chromium's own PDF viewer, without its toolbar and side panel, one page in view.
        page = browser.new_page(viewport={"width": 1240, "height": 900})
        page.goto(f"file://{pdf_path}#toolbar=0&navpanes=0&view=Fit")
        page.wait_for_timeout(1500)  # the viewer draws the page after load; nothing to await
        page.screenshot(path=str(DOCS / "claim-pdf-page-1.png"))
        browser.close()
    print("wrote", ", ".join(p.name for p in sorted(DOCS.glob("*.png"))))


if __name__ == "__main__":
    main()
