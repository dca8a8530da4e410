"""The circulation rules matrix: what a patron of a category may do with an item of a type.

Each rule is a cell patron category x item type, either of them "*" for every one. A loan, a renewal or a
hold goes by the most specific rule that matches, in Koha's and Evergreen's order:

    category x type,  category x *,  * x type,  * x *

The `* x *` rule is the library's settings (LOAN_DAYS, MAX_RENEWALS, MAX_ACTIVE_LOANS, HOLD_PICKUP_DAYS) until
a librarian saves one of their own. A rule is taken whole, never mixed field by field with a wider one, so
what a librarian reads in one row is what applies. A loan keeps the rule it was made under (its period,
renewals and earliest renewal): a rule changed later applies to new loans.
"""

from dataclasses import asdict, dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from library_common import audit
from library_common.errors import NotFound, BadRequest
from library_common.transactions import transaction

from .models import ANY, CirculationRule, db


@dataclass(frozen=True)
class LoanRule:
    patron_category: str
    item_type: str
    loan_days: float
    max_renewals: int
    no_renewal_before_days: int | None  # renewals open this many days before the due date; None: any time
    max_loans: int  # loans of this rule's items at once; 0: not for loan
    holdable: bool
    hold_pickup_days: float
    from_settings: bool = False  # the * x * rule nobody has saved: the library's settings

    @property
    def key(self):
        """How a loan names the rule it was made under: "child × dvd", "* × *"."""
        return f"{self.patron_category} × {self.item_type}"

    @property
    def for_loan(self):
        return self.max_loans > 0

    @property
    def specificity(self):
        return (self.patron_category != ANY, self.item_type != ANY)


def settings_rule(policy):
    """The `* x *` rule the library's settings make (`policy`: CirculationPolicy)."""
    return LoanRule(ANY, ANY, loan_days=policy.loan_days, max_renewals=policy.max_renewals,
                    no_renewal_before_days=None, max_loans=policy.max_active_loans, holdable=True,
                    hold_pickup_days=policy.hold_pickup_days, from_settings=True)


def _from_row(row):
    return LoanRule(row.patron_category, row.item_type, row.loan_days, row.max_renewals, row.no_renewal_before_days,
                    row.max_loans, row.holdable, row.hold_pickup_days)


def rule_for(patron_category, item_type, policy):
    """The rule a patron of `patron_category` borrows or holds an item of `item_type` under."""
    rows = db.session.scalars(sa.select(CirculationRule).where(
        CirculationRule.patron_category.in_((patron_category, ANY)),
        CirculationRule.item_type.in_((item_type, ANY)))).all()
    matching = [_from_row(row) for row in rows] or [settings_rule(policy)]
    return max(matching, key=lambda rule: rule.specificity)


def matrix(policy):
    """Every rule, the most general first (the settings' `* x *` when nobody saved one)."""
    rules = [_from_row(row) for row in db.session.scalars(sa.select(CirculationRule))]
    if not any(rule.specificity == (False, False) for rule in rules):
        rules.append(settings_rule(policy))
    return sorted(rules, key=lambda rule: (rule.specificity, rule.patron_category, rule.item_type))


def save(fields, known_categories, known_types, by):
    """Add or replace the rule of its cell (librarians). `known_categories()` / `known_types()`: the codes
    user-service and books-service know (asked only for a code that is not *), so no rule names a category
    or a type that does not exist."""
    problems = {}
    for name, known, what in (("patron_category", known_categories, "patron category"),
                              ("item_type", known_types, "item type")):
        if fields[name] != ANY and fields[name] not in (codes := known()):
            problems[name] = f"No {what} {fields[name]!r}: one of {', '.join(sorted(codes))}, or * for every one"
    if problems:
        raise BadRequest("This rule names what the library does not have", errors=problems)
    rule = LoanRule(**fields)
    values = {key: value for key, value in asdict(rule).items() if key != "from_settings"}
    with transaction():
        saved = db.session.get(CirculationRule, (rule.patron_category, rule.item_type), with_for_update=True)
        before = audit.snapshot(saved, RULE_FIELDS) if saved is not None else dict.fromkeys(RULE_FIELDS)
        audit.record("rule.set", rule.key, summary=f"Circulation rule {rule.key}",
                     changes=audit.changes(before, values, RULE_FIELDS))
        db.session.execute(insert(CirculationRule).values(**values, updated_by=by).on_conflict_do_update(
            index_elements=["patron_category", "item_type"],
            set_={**values, "updated_by": by, "updated_at": sa.func.now()}))
    return rule


# What the audit trail keeps of a rule changed (library_common.audit).
RULE_FIELDS = ("loan_days", "max_renewals", "no_renewal_before_days", "max_loans", "holdable", "hold_pickup_days")


def remove(patron_category, item_type):
    """Delete a rule (librarians): its cell goes by the next wider rule; `* x *` by the settings again."""
    with transaction():
        rule = db.session.get(CirculationRule, (patron_category, item_type), with_for_update=True)
        if rule is None:
            raise NotFound(f"No rule for {patron_category} × {item_type}")
        key = f"{patron_category} × {item_type}"
        audit.record("rule.deleted", key, summary=f"Circulation rule {key}",
                     changes=audit.deleted(rule, RULE_FIELDS))
        db.session.delete(rule)
