"""The Compose Email form of a claim's Emails tab."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, MultipleFileField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Length

from models.compose import Draft, Upload


class ComposeForm(FlaskForm):
    private = BooleanField("Private")
    to = SelectMultipleField("To", coerce=str)
    cc = SelectMultipleField("CC", coerce=str)
    bcc = SelectMultipleField("BCC", coerce=str)
    subject = StringField("Subject", validators=[Length(max=300)])
    message = TextAreaField("Message", validators=[Length(max=20_000)])
    attachments = MultipleFileField("Attachments")

    def offer_directory(self, contacts) -> None:
        """The directory people to pick from: value = contact id, label = name, e-mail, company."""
        choices = [
            (str(c.id), f"{c.name} <{c.email}>" + (f" ({c.company})" if c.company else ""))
            for c in contacts
        ]
        for field in (self.to, self.cc, self.bcc):
            field.choices = choices

    def draft(self) -> Draft:
        uploads = [
            Upload(f.filename or "", f.mimetype or "", f.read())
            for f in self.attachments.data or []
            if getattr(f, "filename", "")
        ]
        return Draft(
            to=self.to.data,
            cc=self.cc.data,
            bcc=self.bcc.data,
            private=self.private.data,
            subject=self.subject.data,
            message=self.message.data or "",
            uploads=uploads,
        )
