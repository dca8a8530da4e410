"""The site's forms (Flask-WTF: every POST carries a CSRF token). The services hold the real rules;
these check only what a browser can get wrong before asking them."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms.fields.choices import SelectChoice
from wtforms import (DateField, EmailField, HiddenField, IntegerField, PasswordField, RadioField, SelectField,
                     StringField, TextAreaField)
from wtforms.validators import EqualTo, InputRequired, Length, NumberRange, Optional, Regexp

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


def username_field(description):
    return StringField("Username", validators=[InputRequired(), Length(max=32)], description=description)


# The account page has three forms; each has a prefix, so their fields' names and ids never clash.
class NamesForm(FlaskForm):
    first_name = StringField("First name", validators=[InputRequired(), Length(max=100)])
    last_name = StringField("Last name", validators=[InputRequired(), Length(max=100)])


class SignupForm(NamesForm):
    username = username_field("3 to 32 letters, digits, '.', '_' or '-'")
    email = email_field(description="So that we can send you a link if you forget your password. We will e-mail "
                                    "you a link to confirm it.")
    password = PasswordField("Password", validators=[InputRequired(), Length(max=128)],
                             description="At least 8 characters")
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

    def book_fields(self):
        return {
            "title": self.title.data, "author": self.author.data, "genre": self.genre.data,
            "isbn": self.isbn.data or None, "published_year": self.published_year.data,
            "language": self.language.data or None,
            "subjects": [subject.strip() for subject in (self.subjects.data or "").split(";") if subject.strip()],
            "copies": self.copies.data, "description": self.description.data or None,
        }


BARCODE = Regexp(r"^[!-~]{4,32}\Z", message="4 to 32 characters, no spaces: scan the label again")


class CheckinForm(FlaskForm):
    barcode = StringField("Barcode", validators=[InputRequired(), BARCODE],
                          description="Scan the item (the scanner types it and presses Enter)")


class CheckoutForm(FlaskForm):
    patron = StringField("Patron", validators=[InputRequired(), Length(max=100)],
                         description="Scan their card, or type a username or the start of a name")
    barcode = StringField("Barcode", validators=[InputRequired(), BARCODE], description="Scan the item")


class ItemForm(FlaskForm):
    barcode = StringField("Barcode", validators=[Optional(), BARCODE],
                          description="Leave empty for the next generated one")


class ItemStatusForm(FlaskForm):
    status = SelectField("Status", choices=[SelectChoice(status, status.capitalize()) for status in
                                            ("available", "missing", "lost", "damaged", "withdrawn")])


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
