"""workers.mailreader.markers: what each line of a reply is."""

import pytest

from workers.mailreader import markers

SAM = "Sam Builder <sam@acme.example>"


@pytest.mark.parametrize(
    "line",
    [
        f"On Tue, 3 Nov 2026 at 09:12, {SAM} wrote:",
        f"Am 03.11.2026 um 09:12 schrieb {SAM}:",
        "Sam Builder <sam@acme.example> schrieb am Di., 3. Nov. 2026 um 09:12 Uhr:",
        f"Le mar. 3 nov. 2026 à 09:12, {SAM} a écrit\u00a0:",
        f"El mar, 3 nov 2026 a las 09:12, {SAM} escribió:",
        f"Il giorno mar 3 nov 2026 alle ore 09:12 {SAM} ha scritto:",
        f"Op di 3 nov. 2026 om 09:12 schreef {SAM}:",
        f"Op 3 nov. 2026 om 09:12 heeft {SAM} het volgende geschreven:",
        f"Em ter., 3 de nov. de 2026 às 09:12, {SAM} escreveu:",
        f"вт, 3 нояб. 2026 г. в 09:12, {SAM}:",
        f"3 лист. 2026 р. 09:12 {SAM} пише:",
        f"Dnia 3 lis 2026 o godz. 09:12 {SAM} napisał(a):",
        f"Den 3 nov. 2026 kl. 09:12 skrev {SAM}:",
        f"2026年11月3日(火) 9:12 {SAM}:",
        f"在 2026年11月3日，上午9:12，{SAM} 写道：",
        f"2026-11-03 09:12 GMT+11:00 {SAM}:",
        "2016-03-03 17:21 GMT+01:00 Some One",
        "2013/7/20 sam via Discourse Meta <info@discourse.org>",
        f"---- On Tue, 03 Nov 2026 09:12:00 +1100 {SAM} wrote ----",
        f"{SAM} wrote:",
        "At 6/16/2016 08:32 PM, you wrote:",
    ],
)
def test_attributions(line):
    assert markers.attribution(line)


@pytest.mark.parametrize(
    "line",
    [
        "As Sam wrote: the retention is 5%.",
        "As Sam wrote:",  # no date, no address: a sentence introducing a quote
        "On reflection, approved.",
        "2026-11-03 site meeting moved to 10:00",
        "Approved. Thanks for the update on 3 Nov.",
    ],
)
def test_not_attributions(line):
    assert not markers.attribution(line)


def test_a_wrapped_attribution_spans_its_lines():
    lines = ['Le 4 janv. 2016 19:03, "Neil Lalonde"', "<info@discourse.org>", "a écrit :", ">"]
    assert markers.attribution_length(lines, 0) == 3
    webmail = [
        "On Thu, 31 Mar 2016 at 11:16 Some One",
        "",
        "<",
        "mailto:some.one@foo.bar",
        "> wrote:",
    ]
    assert markers.attribution_length(webmail, 0) == 5
    # a blank line ends a sentence that merely starts like an attribution
    assert markers.attribution_length(["On 3 Nov at 10:00 we met.", "", "Sam wrote:"], 0) == 0


@pytest.mark.parametrize(
    "block",
    [
        ["From: Sam", "Sent: Tuesday", "To: Olivia", "Subject: Claim"],
        ["*From:* Sam", "*Sent:* Tuesday", "*To:* Olivia", "*Subject:* Claim"],
        ["Von: Sam", "Gesendet: Dienstag", "An: Klaus", "Betreff: Claim"],
        ["De : Sam", "Envoyé : mardi", "À : Olivia", "Objet : Claim"],
        ["Da: Sam", "Inviato: martedì", "A: Marco", "Oggetto: Claim"],
        ["Van: Sam", "Verzonden: dinsdag", "Aan: Joost", "Onderwerp: Claim"],
        ["Från: Sam", "Skickat: den 3 november", "Till: Erik", "Ämne: Claim"],
        ["Od: Sam", "Wysłano: wtorek", "Do: Anna", "Temat: Claim"],
        [
            "От: Sam",
            "Отправлено: 3",
            "Кому: Ivan",
            "Тема: Claim",
        ],
        [
            "差出人: Sam",
            "送信日時: 2026",
            "宛先: Yamada",
            "件名: Claim",
        ],
        [
            "发件人: Sam",
            "发送时间: 2026",
            "收件人: Wang",
            "主题: Claim",
        ],
    ],
)
def test_header_blocks(block):
    assert markers.header_block_length([*block, "", "Hi"], 0) == 4


def test_a_from_line_alone_is_not_a_header_block():
    assert markers.header_block_length(["From: the site office, all good.", "Approved."], 0) == 0


@pytest.mark.parametrize(
    "line",
    [
        "Sent from my iPhone",
        "Sent from Outlook Mobile<https://foo.bar>",
        "Get Outlook for Android<https://aka.ms/AAb9ysg>",
        "Get Outlook for iOS",
        "Sent from Yahoo Mail on Android",
        "Von meinem iPhone gesendet",
        "Envoyé de mon iPhone",
        "Enviado desde mi iPhone",
        "Inviato da iPhone",
        "Verzonden met BlackBerry Work",
        "Sendt fra min iPad",
        "Skickat från min iPhone",
        "Wysłane z iPhone'a",
        "Отправлено с iPhone",
        "iPhoneから送信",
        "从我的 iPhone 发送",
    ],
)
def test_phone_and_app_footers(line):
    assert markers.is_mobile_signature(line)


@pytest.mark.parametrize(
    "line",
    ["Sent from site: the joinery is not installed yet.", "Sent the revised schedule on Friday."],
)
def test_sentences_are_not_footers(line):
    assert not markers.is_mobile_signature(line)


def test_disclaimers_and_banners():
    assert markers.is_disclaimer(
        "This email and any attachments are confidential and intended solely for the addressee."
    )
    assert markers.is_disclaimer("If you are not the intended recipient, please delete it.")
    assert markers.is_banner(
        "CAUTION: This email originated from outside of the organisation. Do not click links."
    )
    assert not markers.is_disclaimer("Approved. The figures are confidential until Friday.")
    assert not markers.is_banner("Approved, with caution on line 14.")
