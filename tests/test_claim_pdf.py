"""The claim's PDF, read back with pypdf: the figures in the company's currency, the tax, the
statement of the contract's jurisdiction, and a long contract paginated with its header on
every page. Figures are the demo's claim 3, hand-checked in tests/test_api.py."""

import io
import re
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader
from reportlab.lib.colors import black, white
from reportlab.pdfbase.pdfmetrics import stringWidth

import workers.pdf_lines
from models import Company, HeadContract, ProgressClaim
from models.importing import import_file
from models.statutory import JURISDICTIONS, claim_statement
from models.storage import FileStore
from web.extensions import db
from workers.pdf import build_pdf, claim_document
from workers.pdf_lines import Columns, LineTableStyle

REFERENCE = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"


def words(text: str) -> str:
    """The text with every run of white space as one space (lines break anywhere)."""
    return " ".join(text.split())


def pages_of(pdf: bytes) -> list[str]:
    return [words(page.extract_text()) for page in PdfReader(io.BytesIO(pdf)).pages]


def demo_claim(demo) -> ProgressClaim:
    return db.session.get(
        ProgressClaim, demo["projects"][0]["head_contracts"][0]["claims"][2]["id"]
    )


def pdf_of(app, claim: ProgressClaim, draft: bool = False) -> bytes:
    document = claim_document(
        claim,
        claim.figures(),
        claim_date=date(2026, 11, 3),
        reference=REFERENCE,
        draft=draft,
        store=FileStore(app.config["STORAGE_DIR"]),
    )
    return build_pdf(document)


def test_the_pdf_states_the_claim_its_parties_and_its_figures(app, demo):
    text = " ".join(pages_of(pdf_of(app, demo_claim(demo))))
    # Letterhead, client, and what the claim is.
    for expected in (
        "Harbourside Constructions Pty Ltd",
        "ABN 51 824 753 556",
        "Level 4, 12 Harbour Street",
        "Sydney NSW 2000",
        "accounts@harbourside.example",
        "Olivia Owner",
        "Harbour Tower Developments Pty Ltd",
        "Progress Claim #3",
        "HC-1 Main works",
        "P-1001 Harbour Tower",
        "01/10/2026 - 31/10/2026",
        "Date of claim 03/11/2026",
    ):
        assert expected in text, expected
    # The summary in dollars, with GST at 10 % on 233,822.11.
    for label, amount in (
        ("Contract sum", "$3,300,300.00"),
        ("Approved variations", "$21,807.85"),
        ("Less amounts previously certified", "$483,970.95"),
        ("Amount of this claim, excluding GST", "$233,822.11"),
        ("GST on this claim", "$23,382.21"),
        ("Total of this claim, including GST", "$257,204.32"),
        ("Balance to complete, including retention", "$2,604,314.79"),
    ):
        assert f"{label} {amount}" in text, label
    # The totals row sums every money column: C, D (claims 1 and 2: 500,505.50), E (claim 3's
    # work: 259,422.35), F (35,640.00), G, %, I and retention.
    assert (
        "Totals $3,322,107.85 $500,505.50 $259,422.35 $35,640.00 $795,567.85 23.95% "
        "$2,526,540.00 $77,774.79"
    ) in text
    # A line as the table shows it: item 6, half way and with materials on site.
    assert (
        "6 Suspended slabs, levels 1-6 $498,000.00 $0.00 $124,500.00 $18,000.00 "
        "$142,500.00 28.61% $355,500.00 $13,350.00"
    ) in text
    assert "DRAFT" not in text


def test_the_footer_says_page_n_of_m_and_the_snapshot_hash(app, demo):
    pages = pages_of(pdf_of(app, demo_claim(demo)))
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
        assert f"Ref. {REFERENCE[:12]}" in page and REFERENCE[:13] not in page


@pytest.mark.parametrize("jurisdiction", JURISDICTIONS)
def test_each_jurisdiction_puts_its_statement_on_the_claim(app, demo, jurisdiction):
    claim = demo_claim(demo)
    claim.head_contract.jurisdiction = jurisdiction
    db.session.commit()
    text = " ".join(pages_of(pdf_of(app, claim)))
    statement = claim_statement(jurisdiction)
    if statement is None:
        assert "Act" not in text  # no statement, and no other Act named
        return
    assert words(statement.text) in text
    assert words(statement.citation) in text
    if jurisdiction == "AU-NSW":  # CONTRACT.md's example
        assert "Building and Construction Industry Security of Payment Act 1999 (NSW)" in text
    if statement.outline:  # NZ: the prescribed outline for the payer goes with the claim
        assert words(statement.outline) in text


@pytest.mark.parametrize(
    "terminology, currency, tax, due, absent",
    [
        # 233,822.11 due; VAT at 20 % is 46,764.422 -> 46,764.42, in all 280,586.53.
        (
            "en-GB",
            "GBP",
            ("VAT", "20"),
            [
                "£233,822.11",
                "VAT on this application £46,764.42",
                "£280,586.53",
                "Payment Application #3",
            ],
            ["$"],
        ),
        # No tax in the US dictionary: the payment due is the bottom line.
        (
            "en-US",
            "USD",
            ("", "0"),
            ["Current payment due $233,822.11", "Owner Invoice #3"],
            ["tax", "GST", "Retention", "Variation"],
        ),
    ],
)
def test_amounts_are_in_the_companys_currency_and_dictionary(
    app, demo, terminology, currency, tax, due, absent
):
    company = db.session.get(Company, demo["company_id"])
    company.terminology, company.currency = terminology, currency
    company.tax_name, company.tax_rate_pct = tax[0], Decimal(tax[1])
    db.session.commit()
    db.session.expire_all()
    text = " ".join(pages_of(pdf_of(app, demo_claim(demo))))
    assert all(expected in text for expected in due), due
    assert not [word for word in absent if word in text]


def test_a_us_company_prints_on_letter_paper_and_others_on_a4(app, demo):
    claim = demo_claim(demo)
    a4 = PdfReader(io.BytesIO(pdf_of(app, claim))).pages[0].mediabox
    claim.project.company.terminology = "en-US"
    db.session.commit()
    db.session.expire_all()
    letter = PdfReader(io.BytesIO(pdf_of(app, demo_claim(demo)))).pages[0].mediabox
    # Landscape: A4 is 842 x 595 points, US Letter 792 x 612.
    assert (round(a4.width), round(a4.height)) == (842, 595)
    assert (round(letter.width), round(letter.height)) == (792, 612)


def test_a_draft_says_so_on_every_page(app, demo):
    pages = pages_of(pdf_of(app, demo_claim(demo), draft=True))
    assert "DRAFT: current figures, not yet submitted" in pages[0]
    assert all("DRAFT" in page for page in pages)


def test_the_same_claim_gives_the_same_bytes(app, demo):
    claim = demo_claim(demo)
    assert pdf_of(app, claim) == pdf_of(app, claim)


def long_contract(lines: int) -> dict:
    return {
        "company": {"name": "Long Builders", "terminology": "en-AU"},
        "projects": [
            {
                "name": "Long Road",
                "number": "P-300",
                "directory": [
                    {"name": "Cleo Client", "email": "cleo@client.example", "company": "Client Co"}
                ],
                "head_contracts": [
                    {
                        "number": "HC-300",
                        "title": "Three hundred lines",
                        "client": "cleo@client.example",
                        "status": "approved",
                        "retention_work_pct": "5",
                        "jurisdiction": "AU-QLD",
                        "lines": [
                            {
                                "item": f"{n:03d}",
                                "description": f"Work package {n:03d}",
                                "scheduled_value": "1000.00",
                            }
                            for n in range(1, lines + 1)
                        ],
                        "claims": [
                            {
                                "number": 1,
                                "period_start": "2026-10-01",
                                "period_end": "2026-10-31",
                                "lines": [
                                    {"item": f"{n:03d}", "work_this_period": "100.00"}
                                    for n in range(1, lines + 1)
                                ],
                            }
                        ],
                    }
                ],
            }
        ],
    }


def test_a_300_line_contract_paginates_with_the_header_on_every_page(app, ctx):
    ids = import_file(db.session, long_contract(300))
    db.session.commit()
    claim = db.session.get(
        ProgressClaim, ids["projects"][0]["head_contracts"][0]["claims"][0]["id"]
    )
    pages = pages_of(pdf_of(app, claim))
    assert len(pages) >= 5
    header = "Item Description Contract value Previously claimed This claim Materials on site"
    table_pages = [page for page in pages if "Work package" in page]
    assert len(table_pages) == len(pages) and all(header in page for page in table_pages)
    # Every line once, in order, and the totals at the end: 300 x 1,000.00 = 300,000.00 of
    # value, 300 x 100.00 = 30,000.00 this claim, 5 % retention 1,500.00.
    text = " ".join(pages)
    positions = [text.index(f"{n:03d} Work package {n:03d} ") for n in range(1, 301)]
    assert positions == sorted(positions)
    assert all(text.count(f"Work package {n:03d} ") == 1 for n in range(1, 301))
    assert (
        "Totals $300,000.00 $0.00 $30,000.00 $0.00 $30,000.00 10.00% $270,000.00 $1,500.00"
    ) in pages[-1]
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
    # Queensland: the claim only has to request payment (statement from models/statutory.py).
    assert words(claim_statement("AU-QLD").text) in pages[0]


def drawn_strings(page) -> list[tuple[float, float, str]]:
    """Each string the page draws (a Tj), with where it starts on the page."""
    found = []

    def visit(operator, operands, cm, tm):
        if operator == b"Tj":
            raw = operands[0]
            text = raw.original_bytes.decode("cp1252") if hasattr(raw, "original_bytes") else raw
            found.append((tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5], str(text).strip()))

    page.extract_text(visitor_operand_before=visit)
    return [piece for piece in found if piece[2]]


def test_a_long_description_wraps_inside_its_column_and_prints_as_written(app, ctx):
    """Descriptions are plain text broken to fit their column (not markup): a long one runs
    over several lines, every one left of the row's amounts, and "<b>" & co print as typed."""
    data = long_contract(1)
    description = "Supply & install <b>façade</b> panels, " + "levels 1 to 40 north face " * 6
    data["projects"][0]["head_contracts"][0]["lines"][0]["description"] = description
    ids = import_file(db.session, data)
    db.session.commit()
    claim = db.session.get(
        ProgressClaim, ids["projects"][0]["head_contracts"][0]["claims"][0]["id"]
    )
    pieces = drawn_strings(PdfReader(io.BytesIO(pdf_of(app, claim))).pages[0])
    lines = [(x, y, text) for x, y, text in pieces if "levels" in text or "façade" in text]
    assert len({y for _, y, _ in lines}) >= 3  # wrapped, not run off the page
    assert words(" ".join(text for _, _, text in lines)).startswith(
        "Supply & install <b>façade</b> panels, levels 1 to 40"
    )
    (left,) = {round(x) for x, _, _ in lines}  # every line starts at the column's edge
    first_amount = min(x for x, y, text in pieces if text == "$1,000.00" and x > left)
    assert all(x + stringWidth(text, "Helvetica", 7.5) < first_amount for x, _, text in lines)


def test_a_long_contract_title_wraps_beside_its_label_and_short_ones_stay_on_a_line(app, ctx):
    """The parties and the summary are plain table text where each fits its cell (drawn by the
    table), and wrapped text where one does not: a long title runs over lines inside its
    column, its first line on its label's baseline, and "<b>" & co print as typed."""
    data = long_contract(1)
    title = "Design & construct <b>tower</b> " + "east wing podium and basement " * 5
    data["projects"][0]["head_contracts"][0]["title"] = title
    # White space a Paragraph collapses prints collapsed, as it did when every cell was one.
    data["projects"][0]["directory"][0]["company"] = "Client  Co"
    ids = import_file(db.session, data)
    db.session.commit()
    claim = db.session.get(
        ProgressClaim, ids["projects"][0]["head_contracts"][0]["claims"][0]["id"]
    )
    pdf = pdf_of(app, claim)
    assert "HC-300 Design & construct <b>tower</b> east wing" in pages_of(pdf)[0]
    pieces = drawn_strings(PdfReader(io.BytesIO(pdf)).pages[0])
    (summary_left,) = {x for x, _, text in pieces if text == "Claim summary"}
    lines = [
        (x, y, t) for x, y, t in pieces if ("podium" in t or "HC-300" in t) and "Ref." not in t
    ]
    assert len({y for _, y, _ in lines}) >= 2  # wrapped
    assert all(x + stringWidth(t, "Helvetica", 8.5) < summary_left for x, _, t in lines)
    (label_y,) = {y for _, y, t in pieces if t == "Head Contract"}
    assert max(y for _, y, _ in lines) == label_y  # the first line beside its label
    (project_y,) = {y for _, y, t in pieces if t == "P-300 Long Road"}  # one line, as it fits
    assert {y for _, y, t in pieces if t == "Project"} == {project_y}
    assert "Client Co" in {t for _, _, t in pieces}
    for label, amount in (("Contract sum", "$1,000.00"), ("Less retention", "$5.00")):
        (row_y,) = {y for _, y, t in pieces if t == label}
        # on its row's baseline (the amount is set half a point larger)
        assert [t for _, y, t in pieces if abs(y - row_y) < 0.5 and t.startswith("$")] == [amount]


def test_a_logo_goes_on_the_letterhead(app, demo):
    from PIL import Image

    picture = io.BytesIO()
    Image.new("RGB", (300, 100), (11, 92, 173)).save(picture, "PNG")
    company = db.session.get(Company, demo["company_id"])
    company.logo_sha256 = FileStore(app.config["STORAGE_DIR"]).put(picture.getvalue())
    db.session.commit()
    reader = PdfReader(io.BytesIO(pdf_of(app, demo_claim(demo))))
    [image] = reader.pages[0].images
    assert image.image.size == (300, 100)
    assert not reader.pages[1].images  # the letterhead is on the first page only


def test_a_contract_without_a_client_still_prints(app, demo):
    claim = demo_claim(demo)
    contract = db.session.get(HeadContract, claim.head_contract_id)
    contract.client_contact = None
    db.session.commit()
    assert "Client -" in " ".join(pages_of(pdf_of(app, claim)))


# --- on the claim page -----------------------------------------------------------------------


@pytest.fixture
def reader(demo, make_user, project_id):
    from models import BillingPermission

    return make_user("ro@harbourside.example", project_id, BillingPermission.READ_ONLY)


def test_the_claim_page_offers_the_current_figures_as_a_pdf_marked_draft(login, demo, reader):
    claims = demo["projects"][0]["head_contracts"][0]["claims"]
    client = login(reader.email)
    page = client.get(f"/admin/claims/details/?id={claims[2]['id']}").get_data(as_text=True)
    assert f'href="/admin/claims/{claims[2]["id"]}/claim.pdf"' in page
    response = client.get(f"/admin/claims/{claims[2]['id']}/claim.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "Progress Claim 3 - HC-1.pdf" in response.headers["Content-Disposition"]
    text = " ".join(pages_of(response.data))
    assert "DRAFT: current figures, not yet submitted" in text
    assert "Amount of this claim, excluding GST $233,822.11" in text
    # Claim 2 is approved: its PDF is no draft.
    approved = " ".join(pages_of(client.get(f"/admin/claims/{claims[1]['id']}/claim.pdf").data))
    assert "DRAFT" not in approved and "Progress Claim #2" in approved


def test_the_current_pdf_follows_the_figures_as_they_change(app, login, demo, reader):
    from models.claim import set_claim_lines

    claim = demo_claim(demo)
    client = login(reader.email)
    before = client.get(f"/admin/claims/{claim.id}/claim.pdf").data
    line_8 = claim.figures().lines[7]
    set_claim_lines(claim, {"8": (line_8.this_period + Decimal("1000.00"), Decimal(0))})
    db.session.commit()
    after = client.get(f"/admin/claims/{claim.id}/claim.pdf").data
    # 1,000.00 more work less 10 % retention: 900.00 more due, 234,722.11.
    assert "Amount of this claim, excluding GST $234,722.11" in " ".join(pages_of(after))
    ref = re.compile(r"Ref\. ([0-9a-f]{12})")
    assert ref.search(pages_of(before)[0])[1] != ref.search(pages_of(after)[0])[1]


def test_the_detail_tab_totals_every_money_column(login, demo, reader):
    claim_id = demo["projects"][0]["head_contracts"][0]["claims"][2]["id"]
    page = login(reader.email).get(f"/admin/claims/details/?id={claim_id}").get_data(as_text=True)
    totals = dict(re.findall(r'data-total="(\w+)">([^<]+)<', page))
    # The same sums as the PDF's totals row above.
    assert totals == {
        "scheduled_value": "$3,322,107.85",
        "previous": "$500,505.50",
        "this_period": "$259,422.35",
        "materials_stored": "$35,640.00",
        "completed_and_stored": "$795,567.85",
        "percent": "23.95%",
        "balance": "$2,526,540.00",
        "retention": "$77,774.79",
    }
    for label in ("Claim breakdown", "Previously claimed", "Materials on site", "Claimed to date"):
        assert label in page
    assert "Schedule of values" not in page and "presently stored" not in page


def test_reportlabs_named_colours_are_built_before_any_worker_thread_renders():
    """ReportLab fills its named-colour table on first use after publishing it empty, so two
    threads making a worker process's first PDFs at once could fail an email with "Invalid
    color value 'black'". Importing our PDF module builds the table first."""
    import subprocess
    import sys

    probe = (
        "import reportlab.lib.colors as c; assert c._namedColors is None; "
        "import workers.pdf; assert 'black' in c._namedColors"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def test_the_line_table_measures_each_distinct_text_once(monkeypatch):
    """A claim's amounts repeat (zeros, mostly): each text is measured once per table, in the
    font and size it is set in, and a row of repeated texts is laid out as the first was."""
    measured = Counter()

    def counted(text, font, size):
        measured[text, font, size] += 1
        return stringWidth(text, font, size)

    monkeypatch.setattr(workers.pdf_lines, "stringWidth", counted)
    columns = Columns(widths=(40.0, 60.0), right=frozenset({1}))
    style = LineTableStyle("Helvetica", "Helvetica-Bold", 7.5, black, black, white, white)
    rows = [columns.row(["1.01", "$0.00"], style) for _ in range(20)]
    columns.measure("$0.00", "Helvetica-Bold", 1)  # as the font's size is chosen
    totals = columns.row(["", "$0.00"], style, bold=True)
    assert measured == {
        ("1.01", "Helvetica", 7.5): 1,
        ("$0.00", "Helvetica", 7.5): 1,
        ("$0.00", "Helvetica-Bold", 1): 1,
        ("", "Helvetica-Bold", 7.5): 1,
        ("$0.00", "Helvetica-Bold", 7.5): 1,
    }
    assert all(row == rows[0] for row in rows)
    assert totals.cells[1] == (("$0.00", stringWidth("$0.00", "Helvetica-Bold", 7.5)),)
