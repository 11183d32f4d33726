"""The claim fields CONTRACT.md fixes, in its order: one copy for every test that checks them."""

LINE_FIELDS = [
    "item",
    "description",
    "scheduled_value",
    "previous",
    "this_period",
    "materials_stored",
    "completed_and_stored",
    "percent",
    "balance",
    "retention",
]

SUMMARY_FIELDS = [
    "original_contract_sum",
    "net_change_orders",
    "contract_sum_to_date",
    "total_completed_and_stored",
    "retention_work",
    "retention_materials",
    "total_retention",
    "total_earned_less_retention",
    "previous_certificates",
    "current_payment_due",
    "tax_on_current_payment_due",
    "current_payment_due_including_tax",
    "balance_to_finish_including_retention",
]
