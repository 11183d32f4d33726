"""The company's profile that its claims carry: letterhead, logo, currency and tax, set on
Settings > Company or in the import file, and amounts written in the company's currency."""

import copy
import dataclasses
import io
from decimal import Decimal

import pytest
import sqlalchemy as sa
from babel.numbers import format_currency
from PIL import Image, PngImagePlugin

from models import Company, HeadContract
from models.currency import currency_choices, currency_problem, format_money
from models.errors import ImportErrorInFile
from models.importing import import_file
from models.logo import MAX_LOGO_BYTES, LogoError, clean_logo
from models.storage import FileStore
from models.terminology import DICTIONARIES
from tests.conftest import csrf_token_from
from tests.test_import import example_file
from web.extensions import db

# --- amounts as people read them --------------------------------------------------------------


@pytest.mark.parametrize(
    "amount, currency, terminology, text",
    [
        ("250697.11", "AUD", "en-AU", "$250,697.11"),
        ("1234.5", "GBP", "en-GB", "£1,234.50"),
        ("1234.50", "USD", "en-US", "$1,234.50"),
        ("1234.50", "USD", "en-US-specialty", "$1,234.50"),
        ("-850", "AUD", "en-AU", "-$850.00"),
        ("0.004", "AUD", "en-AU", "$0.00"),  # never "-$0.00", never half a cent
        ("-0.001", "GBP", "en-GB", "£0.00"),
        ("0.005", "AUD", "en-AU", "$0.01"),  # half up, as every amount is rounded
        ("999999999999.99", "AUD", "en-AU", "$999,999,999,999.99"),
        # Another country's currency is named so that it cannot be taken for the local one.
        ("1234.50", "USD", "en-AU", "USD1,234.50"),
        ("1234.50", "NZD", "en-AU", "NZD1,234.50"),
        ("1234.50", "EUR", "en-GB", "€1,234.50"),
    ],
)
def test_amounts_are_written_in_the_currency_as_the_dictionary_writes_money(
    amount, currency, terminology, text
):
    assert format_money(Decimal(amount), currency, terminology) == text


def test_a_float_is_refused_rather_than_rounded_wrong():
    with pytest.raises(TypeError):
        format_money(2.675, "AUD", "en-AU")


@pytest.mark.parametrize(
    "code, problem",
    [
        ("AUD", None),
        ("NZD", None),
        ("aud", "is not the ISO 4217 code of a currency in use"),
        ("XYZ", "is not the ISO 4217 code of a currency in use"),
        ("XAU", "is not the ISO 4217 code of a currency in use"),  # gold is not money to bill in
        ("JPY", "has no cents"),
    ],
)
def test_a_company_bills_in_a_currency_in_use_with_cents(code, problem):
    found = currency_problem(code)
    assert (found is None) if problem is None else (problem in found)


def test_the_currency_choices_are_the_usable_currencies():
    codes = [code for code, _ in currency_choices()]
    assert {"AUD", "GBP", "USD", "NZD", "EUR"} <= set(codes)
    assert "JPY" not in codes and codes == sorted(codes)
    assert dict(currency_choices())["AUD"] == "AUD - Australian Dollar"


# --- the import format -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "terminology, currency, tax_name, rate",
    [
        ("en-AU", "AUD", "GST", "10"),
        ("en-GB", "GBP", "VAT", "20"),
        ("en-US", "USD", "", "0"),
        ("en-US-specialty", "USD", "", "0"),
    ],
)
def test_an_imported_company_gets_its_dictionarys_currency_and_tax(
    ctx, terminology, currency, tax_name, rate
):
    data = example_file()
    data["company"]["terminology"] = terminology
    company = db.session.get(Company, import_file(db.session, data)["company_id"])
    assert (company.currency, company.tax_name, company.tax_rate_pct) == (
        currency,
        tax_name,
        Decimal(rate),
    )
    contract = db.session.scalar(sa.select(HeadContract))
    assert contract.jurisdiction == "none"


def test_the_import_takes_the_whole_profile(ctx):
    data = example_file()
    data["company"].update(
        legal_name="Acme Builders Pty Ltd",
        registration_number="51 824 753 556",
        address="1 Example Street\r\nSydney NSW 2000  ",
        phone="(02) 5550 0000",
        accounts_email="Accounts@Acme.example",
        currency="NZD",
        tax_name="GST",
        tax_rate_pct="15",
    )
    data["projects"][0]["head_contracts"][0]["jurisdiction"] = "NZ"
    company = db.session.get(Company, import_file(db.session, data)["company_id"])
    assert (company.legal_name, company.registration_number, company.address) == (
        "Acme Builders Pty Ltd",
        "51 824 753 556",
        "1 Example Street\nSydney NSW 2000",
    )
    assert (company.phone, company.accounts_email) == ("(02) 5550 0000", "accounts@acme.example")
    assert (company.currency, company.tax_name, company.tax_rate_pct) == ("NZD", "GST", 15)
    assert db.session.scalar(sa.select(HeadContract)).jurisdiction == "NZ"


@pytest.mark.parametrize(
    "change, path, words",
    [
        ({"currency": "JPY"}, "company.currency", "has no cents"),
        ({"currency": "dollars"}, "company.currency", "at most 3 characters"),
        ({"currency": "XYZ"}, "company.currency", "ISO 4217"),
        ({"tax_rate_pct": "120"}, "company.tax_rate_pct", "between 0 and 100"),
        ({"tax_name": "Sales tax"}, "company.tax_rate_pct", "is required with tax_name"),
        ({"tax_name": "", "tax_rate_pct": "10"}, "company.tax_name", "is required when"),
        ({"accounts_email": "accounts"}, "company.accounts_email", "not an e-mail address"),
        ({"legal_name": "Acme\nBuilders"}, "company.legal_name", "one line"),
        ({"address": "1 Street\x07"}, "company.address", "control characters"),
        ({"registration_number": "1" * 41}, "company.registration_number", "at most 40"),
    ],
)
def test_a_bad_profile_is_refused_naming_the_field(ctx, change, path, words):
    data = example_file()
    data["company"].update(change)
    with pytest.raises(ImportErrorInFile) as refused:
        import_file(db.session, data)
    assert str(refused.value).startswith(f"{path}: ") and words in str(refused.value)


def test_an_us_company_may_name_its_own_tax(ctx):
    data = example_file()
    data["company"].update(terminology="en-US", tax_name="Sales tax", tax_rate_pct="8.875")
    company = db.session.get(Company, import_file(db.session, data)["company_id"])
    assert (company.tax_name, company.tax_rate_pct) == ("Sales tax", Decimal("8.875"))


def test_an_unknown_jurisdiction_is_refused_naming_the_field(ctx):
    data = copy.deepcopy(example_file())
    data["projects"][0]["head_contracts"][0]["jurisdiction"] = "AU-XYZ"
    with pytest.raises(ImportErrorInFile) as refused:
        import_file(db.session, data)
    message = str(refused.value)
    assert message.startswith("projects[0].head_contracts[0].jurisdiction: 'AU-XYZ' is not one")
    assert "AU-NSW" in message and "none" in message


# --- the logo --------------------------------------------------------------------------------


def png(size=(120, 40), **save) -> bytes:
    out = io.BytesIO()
    picture = Image.new("RGBA", size, (11, 92, 173, 255))
    picture.putpixel((0, 0), (255, 0, 0, 128))
    picture.save(out, "PNG", **save)
    return out.getvalue()


def test_a_png_with_metadata_and_trailing_bytes_comes_out_as_pixels_only():
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", "secret-author")
    text.add_text("Comment", "<script>alert(1)</script>")
    upload = png(pnginfo=text, icc_profile=b"fake-icc-profile" * 8) + b"PK\x03\x04hidden.zip"
    logo = clean_logo(upload)
    assert logo.content_type == "image/png" and (logo.width, logo.height) == (120, 40)
    for leftover in (b"secret-author", b"script", b"fake-icc", b"hidden.zip", b"tEXt", b"iCCP"):
        assert leftover not in logo.content, leftover
    again = Image.open(io.BytesIO(logo.content))
    assert again.info == {} or set(again.info) <= {"dpi"}
    assert again.getpixel((0, 0)) == (255, 0, 0, 128) and again.getpixel((5, 5))[:3] == (
        11,
        92,
        173,
    )
    # Nothing after the image's end: the file is exactly what Pillow wrote.
    assert logo.content.endswith(b"IEND\xaeB`\x82")


def test_a_jpeg_loses_its_exif_and_comment_and_is_turned_upright():
    picture = Image.new("RGB", (80, 20), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to show it
    out = io.BytesIO()
    picture.save(out, "JPEG", exif=exif, comment=b"GPS 33.86S 151.21E")
    logo = clean_logo(out.getvalue() + b"trailing")
    assert logo.content_type == "image/jpeg"
    assert (logo.width, logo.height) == (20, 80)  # the pixels turned, the tag gone
    for leftover in (b"SecretCam", b"GPS", b"Exif", b"trailing"):
        assert leftover not in logo.content, leftover


def test_a_big_logo_is_scaled_down_for_the_letterhead():
    logo = clean_logo(png(size=(3000, 1000)))
    assert (logo.width, logo.height) == (1200, 400)


@pytest.mark.parametrize(
    "upload, words",
    [
        (b"%PDF-1.4 not a picture", "not a PNG or JPEG image"),
        (b"", "not a PNG or JPEG image"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "not a PNG or JPEG image"),  # a broken PNG
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not a PNG or JPEG image"),
    ],
)
def test_a_file_that_is_not_a_png_or_jpeg_is_refused(upload, words):
    with pytest.raises(LogoError, match=words):
        clean_logo(upload)


def test_a_gif_is_refused_by_name():
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, "GIF")
    with pytest.raises(LogoError, match="is a GIF image; upload a PNG or JPEG"):
        clean_logo(out.getvalue())


def test_a_logo_over_1_mb_is_refused():
    with pytest.raises(LogoError, match="may be at most 1 MB"):
        clean_logo(png() + b"\x00" * MAX_LOGO_BYTES)


@pytest.mark.parametrize(
    "size, words",
    [
        ((6_000, 6_000), "is 6000 x 6000 pixels; upload one of at most 5000 x 5000"),
        # Past Pillow's own limit (about 89 million pixels) it warns before decoding.
        ((10_000, 10_000), "too many pixels to be read safely"),
    ],
)
def test_a_decompression_bomb_is_refused_before_it_is_decoded(size, words):
    # Millions of pixels of one colour compress to a few kilobytes.
    out = io.BytesIO()
    Image.new("1", size).save(out, "PNG")
    assert len(out.getvalue()) < MAX_LOGO_BYTES
    with pytest.raises(LogoError, match=words):
        clean_logo(out.getvalue())


# --- Settings > Company ----------------------------------------------------------------------


@pytest.fixture
def users(demo, make_user) -> dict:
    return {"admin": make_user("boss@harbourside.example", admin=True)}


COMPANY_FORM = {
    "name": "Harbourside Constructions Pty Ltd",
    "terminology": "en-AU",
    "time_zone": "Australia/Sydney",
    "legal_name": "Harbourside Constructions Pty Ltd",
    "registration_number": "51 824 753 556",
    "address": "Level 4, 12 Harbour Street\r\nSydney NSW 2000",
    "phone": "(02) 5550 1234",
    "accounts_email": "accounts@harbourside.example",
    "currency": "AUD",
    "tax_name": "GST",
    "tax_rate_pct": "10",
}


def post_company(client, company_id: int, **changes):
    url = f"/admin/company/edit/?id={company_id}"
    page = client.get(url).get_data(as_text=True)
    data = {**COMPANY_FORM, **changes, "csrf_token": csrf_token_from(page)}
    return client.post(url, data=data, content_type="multipart/form-data")


def test_the_form_names_the_registration_number_as_the_dictionary_does(login, users, demo):
    page = login("boss@harbourside.example").get(f"/admin/company/edit/?id={demo['company_id']}")
    assert "Registration number (ABN)" in page.get_data(as_text=True)


def test_a_logo_uploaded_on_the_form_is_stored_as_its_pixels(app, login, users, demo):
    client = login("boss@harbourside.example")
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "camera-serial-1234")
    response = post_company(
        client,
        demo["company_id"],
        logo=(io.BytesIO(png(pnginfo=text) + b"trailer"), "logo.png"),
        tax_name="GST",
        tax_rate_pct="10",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    company = db.session.get(Company, demo["company_id"])
    stored = FileStore(app.config["STORAGE_DIR"]).read(company.logo_sha256)
    assert stored == clean_logo(png()).content  # re-encoded: no comment, no trailer
    served = client.get("/admin/company/logo")
    assert (served.mimetype, served.data) == ("image/png", stored)
    assert company.address == "Level 4, 12 Harbour Street\nSydney NSW 2000"
    # Removing it takes it off the letterhead.
    post_company(client, demo["company_id"], remove_logo="y")
    db.session.expire_all()
    assert db.session.get(Company, demo["company_id"]).logo_sha256 is None


def test_a_bad_logo_is_refused_with_a_message_and_nothing_changes(login, users, demo):
    client = login("boss@harbourside.example")
    response = post_company(
        client,
        demo["company_id"],
        logo=(io.BytesIO(b"MZ\x90\x00 a program"), "logo.png"),
        phone="(02) 5550 9999",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Logo: That file is not a PNG or JPEG image" in page
    db.session.expire_all()
    company = db.session.get(Company, demo["company_id"])
    assert (company.logo_sha256, company.phone) == (None, "(02) 5550 1234")


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"tax_name": "", "tax_rate_pct": "10"}, "Tax name: name the tax"),
        ({"tax_rate_pct": "101"}, "Number must be between 0 and 100"),
        ({"currency": "JPY"}, "Not a valid choice"),
        ({"accounts_email": "accounts"}, "Invalid email address"),
    ],
)
def test_a_bad_profile_on_the_form_is_refused_with_a_message(login, users, demo, changes, words):
    response = post_company(login("boss@harbourside.example"), demo["company_id"], **changes)
    assert response.status_code == 200 and words in response.get_data(as_text=True)
    db.session.expire_all()
    company = db.session.get(Company, demo["company_id"])
    assert (company.tax_name, company.tax_rate_pct, company.currency) == ("GST", 10, "AUD")


def test_a_company_without_tax_bills_the_payment_due(login, api, users, demo):
    client = login("boss@harbourside.example")
    assert (
        post_company(client, demo["company_id"], tax_name="", tax_rate_pct="0").status_code == 302
    )
    claim_id = demo["projects"][0]["head_contracts"][0]["claims"][2]["id"]
    page = client.get(f"/admin/claims/details/?id={claim_id}").get_data(as_text=True)
    assert "GST" not in page and "Amount of this claim<" in page
    assert 'data-field="current_payment_due">$233,822.11<' in page
    summary = api(users["admin"]).get(f"/api/v1/claims/{claim_id}").get_json()["summary"]
    assert summary["tax_on_current_payment_due"] == "0.00"
    assert summary["current_payment_due_including_tax"] == "233822.11"


@pytest.mark.parametrize("terminology", sorted(DICTIONARIES))
def test_every_currency_is_written_exactly_as_babel_writes_it(terminology):
    """models/currency.py writes amounts from separators and signs read off Babel's own text:
    for every currency a company can bill in, in every dictionary's locale, each amount (each
    length of number, either sign, odd cents) is Babel's format_currency to the character."""
    locale = DICTIONARIES[terminology].locale
    amounts = [
        Decimal(f"{sign}{whole}.{cents}")
        for sign in ("", "-")
        for whole, cents in (
            ("0", "01"),
            ("9", "99"),
            ("10", "50"),
            ("999", "09"),
            ("1000", "00"),
            ("65536", "40"),
            ("1000000", "01"),
            ("123456789012", "34"),
        )
    ]
    for code, _ in currency_choices():
        for amount in amounts:
            assert format_money(amount, code, terminology) == format_currency(
                amount, code, locale=locale
            ), (code, terminology, amount)


def test_a_locale_that_groups_otherwise_is_written_by_babel_itself(monkeypatch):
    """India groups lakhs and crores (12,34,567.89): no writer can be read off in threes, so
    Babel writes each amount."""
    indian = dataclasses.replace(DICTIONARIES["en-AU"], locale="en_IN")
    monkeypatch.setitem(DICTIONARIES, "en-IN", indian)
    assert format_money(Decimal("1234567.89"), "INR", "en-IN") == "₹12,34,567.89"
    assert format_money(Decimal("-1000"), "INR", "en-IN") == "-₹1,000.00"


def test_amounts_are_written_without_asking_babel_each_time(monkeypatch):
    """Babel parses its pattern on every call (40 µs; a claim's email and PDF write hundreds
    of amounts): once a currency has been written in a locale, its amounts are written from
    what was read off Babel, for every currency and dictionary ClaimPost offers."""
    import models.currency

    offered = [
        (code, terminology) for code, _ in currency_choices() for terminology in DICTIONARIES
    ]
    for code, terminology in offered:
        format_money(Decimal("1.00"), code, terminology)

    def babel_again(*args, **kwargs):
        raise AssertionError(f"Babel asked again for {args}")

    monkeypatch.setattr(models.currency, "format_currency", babel_again)
    for code, terminology in offered:
        assert format_money(Decimal("-98765.43"), code, terminology).endswith("98,765.43")
