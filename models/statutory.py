"""What a claim must say to count under its jurisdiction's payment Act: one table, one lookup.

Each row cites the Act and section it comes from. Where the sources read for it disagreed, or
the section's own text could not be read, the comment beside the row says so; those rows are
listed in the README section "Statutory statements and deadlines" as well.
"""

from dataclasses import dataclass

# The jurisdictions a head contract can name (CONTRACT.md, "The client's side"), in that order.
JURISDICTIONS = (
    "AU-NSW",
    "AU-VIC",
    "AU-QLD",
    "AU-WA",
    "AU-SA",
    "AU-TAS",
    "AU-ACT",
    "AU-NT",
    "NZ",
    "UK",
    "US",
    "none",
)

NSW_ACT = "Building and Construction Industry Security of Payment Act 1999 (NSW)"
VIC_ACT = "Building and Construction Industry Security of Payment Act 2002 (Vic)"
QLD_ACT = "Building Industry Fairness (Security of Payment) Act 2017 (Qld)"
WA_ACT = "Building and Construction Industry (Security of Payment) Act 2021 (WA)"
SA_ACT = "Building and Construction Industry Security of Payment Act 2009 (SA)"
TAS_ACT = "Building and Construction Industry Security of Payment Act 2009 (Tas)"
ACT_ACT = "Building and Construction Industry (Security of Payment) Act 2009 (ACT)"
NT_ACT = "Construction Contracts (Security of Payments) Act 2004 (NT)"
NZ_ACT = "Construction Contracts Act 2002 (NZ)"
UK_ACT = "Housing Grants, Construction and Regeneration Act 1996"


@dataclass(frozen=True)
class ClaimStatement:
    """The words a claim carries for its jurisdiction, and where the law asks for them.

    `required` is False where the Act asks for no set words and the text only names the Act or
    the claim's contents for the reader. `outline` is the prescribed outline of the process for
    the payer that must go with the claim (New Zealand only).
    """

    jurisdiction: str
    text: str
    act: str
    section: str
    required: bool = True
    outline: str | None = None

    @property
    def citation(self) -> str:
        """The Act and section in one phrase, e.g. "… Act 1999 (NSW), s 13(2)(c)"."""
        return f"{self.act}, {self.section}"


def _made_under(act: str) -> str:
    return f"This is a payment claim made under the {act}."


# Construction Contracts Regulations 2003 (NZ), reg 4 and Schedule 1, form 1: "Information that
# must accompany payment claim". The Construction Contracts Amendment Act 2015 and Amendment
# Regulations 2015 (in force 1 December 2015) removed the residential-only limit, so every
# payment claim under a contract made or renewed since then must carry it (CCA s 20(3)-(4)).
# CAUTION: the 2015 Regulations replaced form 1; the text of the replacement could not be read
# here. What follows is the form 1 wording as published in the 2003 Regulations (read from the
# legislation site's 2003 reprint and a contractor's published copy), which the law firms' guides
# describe the same way. Check it word for word against the current Schedule before relying on it.
NZ_FORM_1 = "\n\n".join(
    [
        "IMPORTANT NOTICE",
        "You have been served with a payment claim under section 20 of the Construction "
        "Contracts Act 2002 (the Act). Under the Act, the person who has served the payment "
        "claim is called the payee.",
        "If you do not respond to the payment claim promptly, you may lose your right to object "
        "to the payment claim.",
        "You may choose to respond to the payment claim in either of the following 2 ways:",
        "1. You may pay the payee the amount claimed in the payment claim in full on or before "
        "the due date; or",
        "2. If you object to the payment claim, you may provide a written payment schedule to the "
        "payee, which must identify the payment claim to which it relates and indicate what you "
        "are prepared to pay (which can be nothing). The amount you so indicate is called the "
        "scheduled amount. If the scheduled amount is less than the claimed amount, the payment "
        "schedule must indicate—\n"
        "(a) how you calculated the scheduled amount; and\n"
        "(b) your reason or reasons for the difference between the scheduled amount and the "
        "claimed amount; and\n"
        "(c) in a case where the difference is because you are withholding payment on any basis, "
        "your reason or reasons for withholding payment.",
        "You must provide the payment schedule to the payee within the time required by the "
        "construction contract or, if the construction contract does not set out a time for "
        "responding to the payment claim, then within 20 working days after the payment claim is "
        "served on you. If you provide a payment schedule in this way, then you must pay the "
        "scheduled amount in full on or before the due date for the progress payment to which "
        "the payment claim relates.",
        "Consequences of not responding to payment claim",
        "If you do not respond to the payment claim by paying the claimed amount in full or "
        "providing a payment schedule that sets out the amount you are prepared to pay, then you "
        "will become liable to pay the claimed amount and the payee may recover from you, as a "
        "debt due, in the appropriate court, the unpaid portion of the claimed amount and the "
        "actual and reasonable costs of recovery.",
    ]
)


STATEMENTS: dict[str, ClaimStatement] = {
    # NSW s 13(2)(c): a payment claim "must state that it is made under this Act" (restored for
    # contracts from 21 October 2019 by the 2018 amending Act).
    "AU-NSW": ClaimStatement("AU-NSW", _made_under(NSW_ACT), NSW_ACT, "s 13(2)(c)"),
    # Vic s 14(2)(e): must state that it is made under the Act. The Building Legislation
    # Amendment (Fairer Payments on Jobsites and Other Matters) Act 2025 amends s 14 (in force by
    # 1 September 2026); the guides read do not say the statement was dropped, so it stays.
    "AU-VIC": ClaimStatement("AU-VIC", _made_under(VIC_ACT), VIC_ACT, "s 14(2)(e)"),
    # Qld s 68(1): a payment claim identifies the work, states the amount and "requests payment
    # of the claimed amount"; no words about the Act are needed since 17 December 2018 (an
    # invoice can be a payment claim). So the claim says only that it requests payment.
    "AU-QLD": ClaimStatement(
        "AU-QLD",
        "This payment claim requests payment of the claimed amount.",
        QLD_ACT,
        "s 68(1)(c)",
    ),
    # WA s 24(1)(d): must "state that it is made under this Act" (read from the Act's text).
    "AU-WA": ClaimStatement("AU-WA", _made_under(WA_ACT), WA_ACT, "s 24(1)(d)"),
    # SA s 13(2)(c): must state that it is made under the Act (SA Small Business Commissioner).
    # The 2021 amending Bill lapsed on 19 February 2022, so the 2009 text still applies.
    "AU-SA": ClaimStatement("AU-SA", _made_under(SA_ACT), SA_ACT, "s 13(2)(c)"),
    # Tas s 17: a payment claim must, among (a)-(e), state that it is made under the Act
    # (adjudicators' and Justice Department guides; the subsection could not be read here).
    "AU-TAS": ClaimStatement("AU-TAS", _made_under(TAS_ACT), TAS_ACT, "s 17"),
    # ACT s 15(2)(c): must state that it is made under the Act. The 2023 amending Act (in force
    # 11 March 2024) removed reference dates and capped payment terms; it did not drop the
    # statement in the guides read.
    "AU-ACT": ClaimStatement("AU-ACT", _made_under(ACT_ACT), ACT_ACT, "s 15(2)(c)"),
    # NT: a payment claim is any claim under the contract (s 7A, meaning of payment claim); the
    # Act asks for no statement. The text only tells the reader which Act governs.
    "AU-NT": ClaimStatement(
        "AU-NT",
        f"This payment claim is made under the construction contract, to which the {NT_ACT} "
        "applies.",
        NT_ACT,
        "s 7A",
        required=False,
    ),
    # NZ s 20(2)(f): must state that it is made under the Act; s 20(3)-(4): must be accompanied
    # by the outline of the process for responding, in the prescribed form (form 1 above).
    "NZ": ClaimStatement(
        "NZ",
        "This is a payment claim made under the Construction Contracts Act 2002.",
        NZ_ACT,
        "s 20(2)(f) and s 20(3)",
        outline=NZ_FORM_1,
    ),
    # UK: no set words. A payee's notice (the application where the contract lets the payee
    # notify, or in default of the payer's notice) must specify the sum the payee considers due
    # and the basis on which it is calculated (ss 110A-110B, as amended from 1 October 2011 by
    # Part 8 of the Local Democracy, Economic Development and Construction Act 2009; the Scheme
    # for Construction Contracts (England and Wales) Regulations 1998, Part II, para 12, asks the
    # same of a "claim by the payee"). The text points the reader at both.
    "UK": ClaimStatement(
        "UK",
        "This payment application specifies the sum we consider to be due and the basis on "
        "which that sum is calculated (the summary and the line table).",
        UK_ACT,
        "ss 110A-110B",
        required=False,
    ),
    # US and none: no general statute asks a pay application to state anything (state prompt
    # payment and lien laws differ and are not modelled), so they carry no statement.
}


def claim_statement(jurisdiction: str) -> ClaimStatement | None:
    """The statement a claim under `jurisdiction` carries, or None where there is none (US,
    none). An unknown jurisdiction is an error, not silence."""
    if jurisdiction not in JURISDICTIONS:
        raise ValueError(f"unknown jurisdiction {jurisdiction!r}")
    return STATEMENTS.get(jurisdiction)
