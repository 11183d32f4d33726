"""Fuzzing the compose and import validators: any draft or import file is either taken or
refused with the domain's own error naming what to fix, never another exception."""

import copy

import sqlalchemy as sa
from flask import current_app
from hypothesis import given
from hypothesis import strategies as st

from models import ProgressClaim, User
from models.compose import ComposeError, Draft, MailSettings, Upload, compose_email
from models.demo import demo_import
from models.errors import ImportErrorInFile
from models.importing import import_file
from models.storage import FileStore
from tests.fuzz.scale import counted, fuzz_settings
from tests.fuzz.strategies import hostile_text
from web.extensions import db

DIRECTORY = ["olivia@owner.example", "priya.pm@harbourside.example", "quentin@qs.example"]

recipient = st.one_of(st.sampled_from(DIRECTORY), hostile_text, st.integers(-5, 10**6).map(str))
uploads = st.lists(
    st.builds(
        Upload,
        filename=st.one_of(hostile_text, st.sampled_from(["a.pdf", "run.exe", "x.PDF.js", ""])),
        content_type=st.one_of(hostile_text, st.sampled_from(["application/pdf", "pdf", ""])),
        content=st.one_of(st.binary(max_size=200), st.sampled_from([b"MZ\x90", b"#!/bin/sh"])),
    ),
    max_size=3,
)
drafts = st.builds(
    Draft,
    to=st.lists(recipient, max_size=3),
    cc=st.lists(recipient, max_size=2),
    bcc=st.lists(recipient, max_size=2),
    private=st.booleans(),
    subject=st.one_of(st.none(), hostile_text, st.text(min_size=290, max_size=320)),
    message=hostile_text,
    uploads=uploads,
)


def _compose(claim: ProgressClaim, sender: User, draft: Draft) -> str:
    settings = MailSettings("test-secret", "replies.localhost", 1000)
    store = FileStore(current_app.config["STORAGE_DIR"])
    try:
        compose_email(db.session, claim, sender, draft, settings, store)
        db.session.flush()
        return "composed"
    except ComposeError as refusal:
        assert str(refusal)
        return "refused"
    finally:
        db.session.rollback()


def test_any_draft_is_composed_or_refused_with_a_compose_error(app, demo):
    claim = db.session.get(
        ProgressClaim, demo["projects"][0]["head_contracts"][0]["claims"][2]["id"]
    )
    sender = db.session.scalar(sa.select(User).where(User.email == "priya.pm@harbourside.example"))

    @fuzz_settings(short=60, full=3_000)
    @given(drafts)
    def compose_any(draft):
        counted("compose_email", _compose, claim, sender, draft)

    compose_any()


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), hostile_text, st.just("1e999")),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(hostile_text, inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value, path=()):
    """Every path into a JSON value (dict keys and list indexes), the root first."""
    yield path
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else []
    )
    for key, child in items:
        yield from _paths(child, (*path, key))


DEMO = demo_import()
DEMO_PATHS = list(_paths(DEMO))


@st.composite
def altered_imports(draw) -> object:
    """The demo's import file with one to three values replaced, removed or added."""
    data = copy.deepcopy(DEMO)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(DEMO_PATHS))
        if not path:
            return draw(json_values)
        parent = data
        try:
            for key in path[:-1]:
                parent = parent[key]
            if draw(st.booleans()):
                parent[path[-1]] = draw(json_values)
            elif isinstance(parent, dict):
                parent.pop(path[-1], None)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed or replaced this path
    return data


def _import(data: object) -> str:
    try:
        import_file(db.session, data)
        db.session.flush()
        return "imported"
    except ImportErrorInFile as refusal:
        assert str(refusal)
        return "refused"
    finally:
        db.session.rollback()


def test_any_import_file_is_imported_or_refused_naming_the_field(app, ctx):
    @fuzz_settings(short=40, full=2_000)
    @given(altered_imports())
    def import_any(data):
        counted("import_file", _import, data)

    import_any()
