"""The site's forms (Flask-WTF: every POST carries a CSRF token). The services hold the real rules;
these check only what a browser can get wrong before asking them."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms.fields.choices import SelectChoice
from wtforms import (BooleanField, DateField, DecimalField, EmailField, HiddenField, IntegerField, PasswordField,
                     RadioField, SelectField, StringField, TextAreaField)
from wtforms.validators import EqualTo, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from .activity import ACTION_FILTER, OBJECT_TYPES, Filters

# The default lists a search by best match (title matches first) and the whole catalogue by title.
SORTS = [SelectChoice("", "Best match"), SelectChoice("title", "Title"), SelectChoice("author", "Author"),
         SelectChoice("newest", "Newest"), SelectChoice("oldest", "Oldest"), SelectChoice("added", "Recently added")]
# What the facets beside the results filter by: the books-service parameters of the same names.
FILTERS = ("genre", "author", "language", "decade", "available")


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form: bookmarkable, changes nothing

    q = StringField("Search", validators=[Optional(), Length(max=200)])
    sort = SelectField("Sort by", choices=SORTS, validate_choice=False)


def email_field(label="E-mail address (optional)", description=None):
    return EmailField(label, validators=[Optional(), Length(max=254)], description=description)


def new_password_fields():
    return (PasswordField("New password", validators=[InputRequired(), Length(max=128)],
                          description="At least 8 characters"),
            PasswordField("Repeat the new password",
                          validators=[InputRequired(), EqualTo("password", "The passwords differ")]))


USERNAME_RULE = "3 to 32 characters: letters, digits, '.', '_' or '-'"  # user-service's words for its rule


def username_field(description):
    return StringField("Username", validators=[InputRequired(), Length(max=32)], description=description)


# The account page has three forms; each has a prefix, so their fields' names and ids never clash.
class NamesForm(FlaskForm):
    first_name = StringField("First name", validators=[InputRequired(), Length(max=100)])
    last_name = StringField("Last name", validators=[InputRequired(), Length(max=100)])


def not_only_spaces(form, field):
    if field.data and not field.data.strip():
        raise ValidationError("A password must have something other than spaces in it")


def not_the_username(form, field):
    if field.data and field.data.lower() == (form.username.data or "").lower():
        raise ValidationError("Password must not be the username")


class SignupForm(NamesForm):
    """Sign-up checks here, with user-service's own words, every rule of user-service's that needs only what was
    typed (the shape of a username, a password's length): a form refused here is never sent, so a rule left to
    the service would show its mistake only after the others were fixed. What needs the service's data (a
    username taken, a password on its list of common ones) it still says, after."""

    username = StringField("Username", description="3 to 32 letters, digits, '.', '_' or '-'", validators=[
        InputRequired(), Regexp(r"^[A-Za-z0-9._-]{3,32}\Z", message=USERNAME_RULE)])
    email = email_field(description="So that we can send you a link if you forget your password. We will e-mail "
                                    "you a link to confirm it.")
    password = PasswordField("Password", description="At least 8 characters", validators=[
        InputRequired(), Length(min=8, max=128, message="Between 8 and 128 characters"), not_only_spaces,
        not_the_username])
    confirm = PasswordField("Repeat password", validators=[InputRequired(), EqualTo("password", "Passwords differ")])


class EmailForm(FlaskForm):
    email = email_field("E-mail address", description="Leave it empty to remove your address.")
    current_password = PasswordField("Your current password", validators=[InputRequired(), Length(max=128)],
                                     description="So that nobody who finds you logged in can take your account")


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[InputRequired(), Length(max=128)])
    password, confirm = new_password_fields()


class ForgotPasswordForm(FlaskForm):
    username_or_email = StringField("Username or e-mail address", validators=[InputRequired(), Length(max=254)])


class ResetPasswordForm(FlaskForm):
    token = HiddenField()
    password, confirm = new_password_fields()


class VerifyEmailForm(FlaskForm):
    token = HiddenField()


class RegisterPatronForm(NamesForm):
    username = username_field("3 to 32 letters, digits, '.', '_' or '-': the patron logs in with it")
    email = email_field(description="We e-mail the patron a link to choose a password. Without an address, you "
                                    "give them a password on their page.")
    # The choices are user-service's list; the view leaves the field out when it cannot have them.
    category = SelectField("Category", validate_choice=False, validators=[Optional()])
    phone = StringField("Phone (optional)", validators=[Optional(), Length(max=30)])
    postal_address = TextAreaField("Postal address (optional)", validators=[Optional(), Length(max=300)])

    def patron_fields(self):
        optional = {name: self[name].data.strip() for name in ("email", "category", "phone", "postal_address")
                    if name in self and (self[name].data or "").strip()}
        return {"username": self.username.data, "first_name": self.first_name.data,
                "last_name": self.last_name.data} | optional


class LoginForm(FlaskForm):
    # user-service takes any of the three (POST /login); the field keeps its name, which browsers' password
    # managers have learnt
    username = StringField("Username, card number or e-mail", validators=[InputRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[InputRequired(), Length(max=128)])
    next = HiddenField()


class BookForm(FlaskForm):
    title = StringField("Title", validators=[InputRequired(), Length(max=300)])
    author = StringField("Author", validators=[InputRequired(), Length(max=200)],
                         description="Sorted by the last word of the name; write “García Márquez, Gabriel” "
                                     "for a surname of more words")
    genre = StringField("Genre", validators=[InputRequired(), Length(max=100)],
                        description="Choose an existing genre where one fits")
    isbn = StringField("ISBN", validators=[Optional(), Length(max=20)], description="ISBN-10 or ISBN-13")
    published_year = IntegerField("Year published", validators=[Optional()])
    language = StringField("Language", validators=[Optional(), Length(max=20)],
                           description="ISO 639 code, such as en, fr or deu")
    subjects = StringField("Subjects", validators=[Optional(), Length(max=2000)],
                           description="Separated by semicolons, such as “Dragons; Quests”")
    copies = IntegerField("Copies", default=1, validators=[InputRequired(), NumberRange(min=1, max=1000)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=5000)])

    def __init__(self, *args, data=None, **kwargs):
        if data and isinstance(data.get("subjects"), list):  # a book from the service: subjects as one line
            data = {**data, "subjects": "; ".join(data["subjects"])}
        super().__init__(*args, data=data, **kwargs)

    # The book's version when the form was opened (edits only): a save made meanwhile elsewhere is not undone.
    version = HiddenField()

    def book_fields(self):
        return {
            "title": self.title.data, "author": self.author.data, "genre": self.genre.data,
            "isbn": self.isbn.data or None, "published_year": self.published_year.data,
            "language": self.language.data or None,
            "subjects": [subject.strip() for subject in (self.subjects.data or "").split(";") if subject.strip()],
            "copies": self.copies.data, "description": self.description.data or None,
        }


BARCODE = Regexp(r"^[!-~]{4,32}\Z", message="4 to 32 characters, no spaces: scan the label again")


def trimmed(value):
    """A scanned or typed code without the spaces a scanner or a paste leaves around it."""
    return value.strip() if isinstance(value, str) else value


class CheckinForm(FlaskForm):
    barcode = StringField("Barcode", validators=[InputRequired(), BARCODE], filters=[trimmed],
                          description="Scan the item (the scanner types it and presses Enter)")


class CheckoutForm(FlaskForm):
    patron = StringField("Patron", validators=[InputRequired(), Length(max=100)],
                         description="Scan their card, or type a username or the start of a name")
    barcode = StringField("Barcode", validators=[InputRequired(), BARCODE], filters=[trimmed],
                          description="Scan the item")
    override_reason = StringField("Reason to lend past the rule", filters=[trimmed],
                                  validators=[Optional(), Length(min=3, max=200)],
                                  description="Past the loan limit, a copy not for loan, or your own due date: "
                                              "recorded with the loan")
    due_date = DateField("Due date of your own (optional)", validators=[Optional()])

    def override(self):
        """What to send to lend past the rule, or None."""
        if not self.override_reason.data:
            return None
        return {"override_reason": self.override_reason.data,
                **({"due_date": self.due_date.data.isoformat()} if self.due_date.data else {})}

    def validate(self, extra_validators=None):
        if not super().validate(extra_validators):
            return False
        if self.due_date.data and not self.override_reason.data:
            self.override_reason.errors = [*self.override_reason.errors, "Say why this loan has its own due date"]
            return False
        return True


# A copy's physical form: books-service's models.ITEM_FORMATS, as a librarian reads them.
ITEM_FORMATS = {"hardback": "Hardback", "paperback": "Paperback", "large_print": "Large print",
                "board_book": "Board book", "disc": "Disc", "ebook_reader": "E-book reader", "other": "Other"}


class ItemDetailsForm(FlaskForm):
    """A copy's type and where and in what form it is shelved. The item types come from books-service's list
    (`with_item_types`), which also says which codes exist: the form does not check them again."""

    item_type = SelectField("Item type", choices=[], default="book", validate_choice=False)
    call_number = StringField("Call number", validators=[Optional(), Length(max=64)],
                              description="As on its spine label, such as 823.914 ISH")
    shelf_location = StringField("Shelf location", validators=[Optional(), Length(max=100)],
                                 description="Where readers find it, such as Adult fiction, 2nd floor")
    format = SelectField("Format", choices=[SelectChoice("", "Not said"),
                                            *(SelectChoice(code, label) for code, label in ITEM_FORMATS.items())],
                         default="")

    def with_item_types(self, item_types, current=None):
        """The list to choose from; `current`, the copy's own type, stays choosable if the list lacks it (the
        list could not be read)."""
        choices = [SelectChoice(item_type["code"], item_type["name"]) for item_type in item_types]
        if current and current not in [choice.value for choice in choices]:
            choices.append(SelectChoice(current, current))
        self.item_type.choices = choices
        return self

    def item_details(self):
        """The fields as books-service takes them: an empty text field or format clears it."""
        return {"item_type": self.item_type.data, "call_number": (self.call_number.data or "").strip() or None,
                "shelf_location": (self.shelf_location.data or "").strip() or None,
                "format": self.format.data or None}


class ItemForm(ItemDetailsForm):
    PREFIX = "new"  # it sits on the book's page beside other forms: its fields' names and ids never clash

    barcode = StringField("Barcode of a new copy", validators=[Optional(), BARCODE],
                          description="Leave empty for the next generated one")


class ItemStatusForm(FlaskForm):
    status = SelectField("Status", choices=[SelectChoice(status, status.capitalize()) for status in
                                            ("available", "missing", "lost", "damaged", "withdrawn")])


class ItemTypeForm(FlaskForm):
    code = StringField("Code", validators=[InputRequired(), Length(max=32)],
                       description="1 to 32 lowercase letters, digits, '_' or '-', such as board-game: loan rules "
                                   "refer to it, and it never changes")
    name = StringField("Name", validators=[InputRequired(), Length(max=100)], description="Such as Board game")


class ItemTypeRenameForm(FlaskForm):
    name = StringField("New name", validators=[InputRequired(), Length(max=100)])


class GenreRenameForm(FlaskForm):
    name = StringField("New name", validators=[InputRequired(), Length(max=100)])


class GenreMergeForm(FlaskForm):
    into = IntegerField("Merge into", validators=[InputRequired(), NumberRange(min=1, max=2**31 - 1)])


class PatronEmailForm(FlaskForm):
    email = email_field("E-mail address", description="Leave it empty to remove the address. A new address gets a "
                                                      "link to confirm it.")


class PatronCategoryForm(FlaskForm):
    # The choices are user-service's list (GET /patron-categories), which also refuses an unknown code.
    category = SelectField("Category", validate_choice=False, validators=[InputRequired()])


class CardExpiryForm(FlaskForm):
    card_expires_on = DateField("Valid until", validators=[Optional()],
                                description="The card's last day. Leave it empty and the card never expires.")


class PatronContactForm(FlaskForm):
    phone = StringField("Phone", validators=[Optional(), Length(max=30)])
    postal_address = TextAreaField("Postal address", validators=[Optional(), Length(max=300)])
    staff_note = TextAreaField("Note for the staff", validators=[Optional(), Length(max=1000)],
                               description="Only librarians see it; the patron never does.")

    def contact_fields(self):
        """Empty fields remove what the account had."""
        return {name: (self[name].data or "").strip() or None for name in ("phone", "postal_address", "staff_note")}


CATEGORY_CODE = Regexp(r"^[a-z0-9_-]{1,32}\Z", message="1 to 32 lower-case letters, digits, '_' or '-'")


class PatronCategoryAddForm(FlaskForm):
    code = StringField("Code", validators=[InputRequired(), CATEGORY_CODE],
                       description="Short and for good: the other services keep it (such as senior)")
    name = StringField("Name", validators=[InputRequired(), Length(max=100)], description="What the pages show")


class PatronCategoryRenameForm(FlaskForm):
    name = StringField("New name", validators=[InputRequired(), Length(max=100)])


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=[SelectChoice("patron", "Patron"), SelectChoice("librarian", "Librarian")])


ON_MATCH = [SelectChoice("skip", "Skip it: the catalogue's record stays as it is"),
            SelectChoice("add_copies", "Add the record's copies to that book")]


class ImportForm(FlaskForm):
    file = FileField("File of records", validators=[FileRequired("Choose a file to import")],
                     description="CSV with a header row (title, author, isbn, year, genre, language, copies, "
                                 "description...), or MARC 21 (.mrc, MARC-8 or UTF-8) or MARCXML (.xml)")
    format = SelectField("Format", choices=[SelectChoice("", "Tell from the file"), SelectChoice("csv", "CSV"),
                                            SelectChoice("marc", "MARC 21 or MARCXML")], default="")
    copies = IntegerField("Copies of each new book", default=1, validators=[InputRequired(), NumberRange(1, 100)],
                          description="When a record does not say")
    genre = StringField("Genre of records without one", default="General",
                        validators=[InputRequired(), Length(max=100)])
    on_match = RadioField("When a record's ISBN is already in the catalogue", choices=ON_MATCH, default="skip")


class ImportCommitForm(FlaskForm):
    on_match = RadioField("When a record's ISBN is already in the catalogue", choices=ON_MATCH, default="skip")


class RuleForm(FlaskForm):
    """One cell of the circulation rules matrix; the category and type choices are the services' lists."""

    patron_category = SelectField("Patron category", validators=[InputRequired()])
    item_type = SelectField("Item type", validators=[InputRequired()])
    loan_days = DecimalField("Loan period (days)", default=14, places=None,
                             validators=[InputRequired(), NumberRange(min=0.001, max=3650)])
    max_renewals = IntegerField("Renewals allowed", default=2,
                                validators=[InputRequired(), NumberRange(min=0, max=100)])
    no_renewal_before_days = IntegerField("No renewal until this many days before the due date",
                                          validators=[Optional(), NumberRange(min=0, max=3650)],
                                          description="Leave empty to allow renewing at any time")
    max_loans = IntegerField("Loans at once", default=5, validators=[InputRequired(), NumberRange(min=0, max=1000)],
                             description="0: not for loan (reference)")
    holdable = BooleanField("Patrons may place holds", default=True)
    hold_pickup_days = DecimalField("Days on the hold shelf", default=7, places=None,
                                    validators=[InputRequired(), NumberRange(min=0.001, max=365)])

    def rule_fields(self):
        return {"loan_days": float(self.loan_days.data), "max_renewals": self.max_renewals.data,
                "no_renewal_before_days": self.no_renewal_before_days.data, "max_loans": self.max_loans.data,
                "holdable": self.holdable.data, "hold_pickup_days": float(self.hold_pickup_days.data)}


class RuleCellForm(FlaskForm):
    patron_category = HiddenField(validators=[InputRequired(), Length(max=32)])
    item_type = HiddenField(validators=[InputRequired(), Length(max=32)])


WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


class ClosureForm(FlaskForm):
    """Close the library on a date, on several (first and last), or every week on a day."""

    day = DateField("Closed on", validators=[Optional()])
    last_day = DateField("Through (optional)", validators=[Optional()], description="For several days in a row")
    weekday = SelectField("Or every week on", choices=[("", "—"), *((str(number), name) for number, name
                                                                    in enumerate(WEEKDAYS))],
                          validators=[Optional(), Regexp(r"^[0-6]$", message="Choose a day of the week")],
                          validate_choice=False)
    reason = StringField("Reason", validators=[Optional(), Length(max=100)], description="Shown to patrons")

    def closure(self):
        if self.weekday.data:
            return {"weekday": int(self.weekday.data), "reason": self.reason.data or ""}
        closure = {"day": self.day.data.isoformat(), "reason": self.reason.data or ""}
        if self.last_day.data:
            closure["last_day"] = self.last_day.data.isoformat()
        return closure

    def validate(self, extra_validators=None):
        if not super().validate(extra_validators):
            return False
        if bool(self.day.data) == bool(self.weekday.data):
            self.day.errors = [*self.day.errors, "Choose a date, or a day of the week"]
            return False
        return True


class ReopenForm(FlaskForm):
    """A closed day's "Open again" button: nothing but its CSRF token."""


class HoldMoveForm(FlaskForm):
    direction = HiddenField(validators=[InputRequired(), Regexp(r"^(up|down)$")])
    reason = StringField("Why", validators=[InputRequired(message="Say why you move them"), Length(min=3, max=200)],
                         filters=[trimmed])


class HoldDatesForm(FlaskForm):
    suspended_until = DateField("Away until (optional)", validators=[Optional()],
                                description="Copies pass you by until then; you keep your place in line")
    not_needed_after = DateField("Not needed after (optional)", validators=[Optional()],
                                 description="The hold ends by itself after this day")

    def dates(self):
        return {"suspended_until": self.suspended_until.data and self.suspended_until.data.isoformat(),
                "not_needed_after": self.not_needed_after.data and self.not_needed_after.data.isoformat()}


class ActivityForm(FlaskForm):
    """The Activity page's filters (a GET form: bookmarkable, changes nothing); every one may be left empty."""

    class Meta:
        csrf = False

    actor = StringField("Who did it", validators=[Optional(), Length(max=64)], filters=[trimmed],
                        description="A librarian's username")
    action = StringField("What", validators=[Optional(), Regexp(ACTION_FILTER.pattern + "$",
                                                                message="Choose an action from the list")])
    object_type = SelectField("About", choices=[SelectChoice("", "Anything"), *(
        SelectChoice(object_type, name) for object_type, name in OBJECT_TYPES.items())], validate_choice=False,
                              validators=[Optional(), Regexp(r"^[a-z_]{1,32}$", message="Choose from the list")])
    object_id = StringField("Which one", validators=[Optional(), Length(max=70)], filters=[trimmed],
                            description="Its number or name, or paste one such as book:7")
    subject = StringField("Patron concerned", validators=[Optional(), Length(max=64)], filters=[trimmed],
                          description="A patron's username")
    since = DateField("From", validators=[Optional()])
    until = DateField("To", validators=[Optional()])

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if self.since.data and self.until.data and self.since.data > self.until.data:
            self.until.errors = [*self.until.errors, "The last day comes before the first"]
            return False
        return valid

    def filters(self):
        return Filters(actor=self.actor.data or "", action=self.action.data or "",
                       object_type=self.object_type.data or "", object_id=self.object_id.data or "",
                       subject=self.subject.data or "", since=self.since.data, until=self.until.data)

    def in_use(self):
        """The filters as the address gave them (for the page's links: Older, Newest, the CSV)."""
        return {field.name: field.raw_data[0] for field in self if field.raw_data and field.raw_data[0]}
