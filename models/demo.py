"""The demo data set: an Australian head contractor, one project, its directory and claims."""

from sqlalchemy.orm import Session

from models.company import ApiToken, User
from models.importing import import_file

DEMO_ADMIN_EMAIL = "admin@harbourside.example"
DEMO_ADMIN_PASSWORD = "claimpost-demo"

# (item, description, scheduled value) of the schedule of values: a mid-rise fit-out and facade.
SCHEDULE_OF_VALUES = [
    ("1", "Preliminaries and site establishment", "120000.00"),
    ("2", "Demolition and strip-out", "45500.00"),
    ("3", "Excavation and bulk earthworks", "86250.00"),
    ("4", "Piling", "212000.00"),
    ("5", "Concrete footings and slab on ground", "154800.00"),
    ("6", "Suspended slabs, levels 1-6", "498000.00"),
    ("7", "Structural steel", "176400.00"),
    ("8", "Masonry and blockwork", "93750.00"),
    ("9", "Facade curtain wall", "388000.00"),
    ("10", "Roofing and roof plumbing", "67900.00"),
    ("11", "Windows and glazing", "142300.00"),
    ("12", "Waterproofing", "38650.00"),
    ("13", "Hydraulic services", "164200.00"),
    ("14", "Electrical services", "231500.00"),
    ("15", "Mechanical services (HVAC)", "276800.00"),
    ("16", "Fire services", "98400.00"),
    ("17", "Lifts", "185000.00"),
    ("18", "Internal partitions and ceilings", "127350.00"),
    ("19", "Floor finishes and tiling", "88900.00"),
    ("20", "Painting, joinery and external works", "104600.00"),
]

# Per claim: {item: (work this period, materials stored at the end of the period)}.
CLAIM_WORK = [
    {
        "1": ("36000.00", "0.00"),
        "2": ("45500.00", "0.00"),
        "3": ("51750.00", "0.00"),
        "4": ("84800.00", "12500.00"),
    },
    {
        "1": ("18000.00", "0.00"),
        "3": ("34500.00", "0.00"),
        "4": ("127200.00", "0.00"),
        "5": ("92880.00", "0.00"),
        "7": ("0.00", "35280.00"),
        "V-01": ("9875.50", "0.00"),
    },
    {
        "1": ("12000.00", "0.00"),
        "5": ("61920.00", "0.00"),
        "6": ("124500.00", "18000.00"),
        "7": ("52920.00", "17640.00"),
        "V-01": ("4232.35", "0.00"),
        "V-02": ("3850.00", "0.00"),
    },
]


def demo_import() -> dict:
    """The demo in the import format of CONTRACT.md."""
    return {
        "company": {
            "name": "Harbourside Constructions Pty Ltd",
            "terminology": "en-AU",
            "time_zone": "Australia/Sydney",
        },
        "users": [
            {
                "email": DEMO_ADMIN_EMAIL,
                "name": "Alex Admin",
                "password": DEMO_ADMIN_PASSWORD,
                "admin": True,
                "site_operator": True,
            },
            {
                "email": "priya.pm@harbourside.example",
                "name": "Priya Patel",
                "password": DEMO_ADMIN_PASSWORD,
                "admin": False,
            },
        ],
        "projects": [
            {
                "name": "Harbour Tower",
                "number": "P-1001",
                "directory": [
                    {
                        "name": "Olivia Owner",
                        "email": "olivia@owner.example",
                        "company": "Harbour Tower Developments Pty Ltd",
                        "permission": "read_only",
                        "side": "client",
                    },
                    {
                        "name": "Quentin Surveyor",
                        "email": "quentin@qs.example",
                        "company": "Accurate QS Pty Ltd",
                        "permission": "read_only",
                        "side": "consultant",
                    },
                    {
                        "name": "Ava Architect",
                        "email": "ava@architects.example",
                        "company": "Ava Architects",
                        "permission": "none",
                        "side": "consultant",
                    },
                    {
                        "name": "Sam Superintendent",
                        "email": "sam@owner.example",
                        "company": "Harbour Tower Developments Pty Ltd",
                        "permission": "none",
                        "side": "client",
                    },
                    {
                        "name": "Chris Contracts",
                        "email": "chris@harbourside.example",
                        "company": "Harbourside Constructions Pty Ltd",
                        "permission": "standard",
                        "side": "contractor",
                    },
                    {
                        "name": "Fiona Finance",
                        "email": "fiona@harbourside.example",
                        "company": "Harbourside Constructions Pty Ltd",
                        "permission": "read_only",
                        "side": "contractor",
                    },
                ],
                "members": [
                    {"email": DEMO_ADMIN_EMAIL, "permission": "admin"},
                    {"email": "priya.pm@harbourside.example", "permission": "standard"},
                ],
                "head_contracts": [
                    {
                        "number": "HC-1",
                        "title": "Main works",
                        "client": "olivia@owner.example",
                        "status": "approved",
                        "retention_work_pct": "10",
                        "retention_materials_pct": "5",
                        "lines": [
                            {"item": i, "description": d, "scheduled_value": v}
                            for i, d, v in SCHEDULE_OF_VALUES
                        ],
                        "change_orders": [
                            {
                                "number": "V-01",
                                "description": "Additional piling at grid C4",
                                "amount": "14107.85",
                                "status": "approved",
                            },
                            {
                                "number": "V-02",
                                "description": "Upgrade lobby floor finish",
                                "amount": "7700.00",
                                "status": "approved",
                            },
                        ],
                        "claims": [
                            {
                                "number": n,
                                "period_start": start,
                                "period_end": end,
                                "status": status,
                                "lines": [
                                    {
                                        "item": item,
                                        "work_this_period": work,
                                        "materials_stored": mat,
                                    }
                                    for item, (work, mat) in CLAIM_WORK[n - 1].items()
                                ],
                            }
                            for n, start, end, status in [
                                (1, "2026-08-01", "2026-08-31", "approved"),
                                (2, "2026-09-01", "2026-09-30", "approved"),
                                (3, "2026-10-01", "2026-10-31", "draft"),
                            ]
                        ],
                    }
                ],
            }
        ],
    }


def seed_demo(session: Session) -> dict:
    """Import the demo and issue its admin an API token; returns the login, token and ids."""
    ids = import_file(session, demo_import())
    admin = session.get(User, ids["users"][DEMO_ADMIN_EMAIL])
    token_row, token = ApiToken.issue(admin)
    session.add(token_row)
    session.flush()
    claims = ids["projects"][0]["head_contracts"][0]["claims"]
    return {
        "admin_email": DEMO_ADMIN_EMAIL,
        "admin_password": DEMO_ADMIN_PASSWORD,
        "api_token": token,
        "project_id": ids["projects"][0]["id"],
        "claim_id": claims[-1]["id"],
    }
