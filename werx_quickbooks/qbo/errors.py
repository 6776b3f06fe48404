"""Typed QuickBooks errors, and the function that turns a QBO fault into one.

Every error carries a sentence a bookkeeper understands (``message``, also
``str(error)``) and, for support, QBO's own ``code`` and ``detail`` and the
HTTP status. Messages never contain tokens or secrets: they are built from
fixed sentences and QBO's fault text only.

The sentences are English templates kept apart from their values (``Words``), so
the add-on can show them in the user's language: ``error.in_words(env._)``. This
layer knows nothing of Odoo; the add-on lists the templates for translation.
"""

import json
import re

from . import const

_DETAIL_MAX = 500   # characters of a non-JSON body kept as detail


# === SENTENCES === #

class Words:
    """An English template and its values, filled in English by ``str()`` or translated by ``in()``.

    Values may be Words themselves (a part of a sentence, a field's label): they are translated
    too. ``values`` is a tuple (``%s``) or a dict (``%(name)s``).
    """

    __slots__ = ('template', 'values', 'translate')

    def __init__(self, template, values=(), translate=True):
        self.template = template
        self.values = values
        # False for a text already in the user's words (written by the add-on, or QuickBooks' own).
        self.translate = translate

    def __str__(self):
        return self.in_(None)

    def __repr__(self):
        return 'Words(%r, %r)' % (self.template, self.values)

    def __eq__(self, other):
        return isinstance(other, Words) and (self.template, self.values) == (other.template, other.values)

    def __hash__(self):
        return hash(self.template)

    def in_(self, gettext):
        """Return the sentence, through ``gettext`` (a translation function) when one is given."""
        template = gettext(self.template) if gettext and self.translate else self.template

        def part(value):
            return value.in_(gettext) if isinstance(value, Words) else value
        if isinstance(self.values, dict):
            values = {key: part(value) for key, value in self.values.items()}
        else:
            values = tuple(part(value) for value in self.values)
        if not values:
            return template
        try:
            return template % values
        except (TypeError, ValueError, KeyError):
            # A translation with other placeholders than the template: English rather than nothing.
            try:
                return self.template % values
            except (TypeError, ValueError, KeyError):
                return self.template


def words(template, *values, **named):
    """Return Words for ``template`` with positional or named values."""
    return Words(template, named or values)


# === ERROR CLASSES === #

class QBOError(Exception):
    """Base class: QuickBooks refused or could not answer a request.

    ``message`` is a str (a fixed English sentence) or Words; ``error.message`` is always the
    English text, ``error.in_words(gettext)`` the sentence in the user's language.
    """

    default_message = 'QuickBooks reported an error.'
    default_values = ()

    def __init__(self, message=None, code=None, detail=None, http_status=None):
        if message is None:
            message = Words(self.default_message, self.default_values)
        # A plain str is a finished text (the add-on's, already translated): shown as it is.
        self.words = message if isinstance(message, Words) else Words(str(message), translate=False)
        self.message = str(self.words)
        self.code = str(code) if code not in (None, '') else None
        self.detail = detail or None
        self.http_status = http_status
        super().__init__(self.message)

    def in_words(self, gettext=None):
        """Return the sentence for the user, translated by ``gettext`` when given."""
        return self.words.in_(gettext)

    def __str__(self):
        return self.message

    def __repr__(self):
        return '%s(code=%r, http_status=%r, message=%r)' % (
            type(self).__name__, self.code, self.http_status, self.message)


class NeedsReconnect(QBOError):
    """The saved sign-in is refused (401 after a refresh, invalid_grant, revoked app)."""

    default_message = 'QuickBooks refused the saved sign-in; an administrator must reconnect.'


class TransientError(QBOError):
    """QBO did not answer usably (5xx, timeout, dropped connection) after the retries."""

    default_message = 'QuickBooks is not answering right now; the sync will try again later.'


class Throttled(TransientError):
    """QBO kept answering 429 / fault 3001 after the client waited as told."""

    default_message = ('QuickBooks asked to slow down and kept refusing after waiting; '
                       'the sync will try again later.')

    def __init__(self, message=None, code=None, detail=None, http_status=None, *,
                 retry_after=None):
        super().__init__(message, code, detail, http_status)
        self.retry_after = retry_after


class StaleObject(QBOError):
    """Fault 5010: the SyncToken sent is not the current one."""

    default_message = ('Someone changed this record in QuickBooks since it was last read; '
                       'it will be re-read and tried again.')


class DuplicateName(QBOError):
    """Fault 6240: the name is taken (DisplayName is unique across customers, vendors, employees)."""

    default_message = 'QuickBooks already has a record with this name; link it or rename this one.'

    def __init__(self, message=None, code=None, detail=None, http_status=None, *, name=None,
                 existing_id=None):
        if message is None and name:
            message = words("QuickBooks already has a record named '%s'; link it or rename this one.", name)
        super().__init__(message, code, detail, http_status)
        self.name = name
        self.existing_id = existing_id

    def naming(self, data):
        """Return this error with the name taken from the object sent, when QBO's text had none.

        QBO's 6240 Detail usually does not repeat the name; the caller knows what it sent.
        """
        if self.name or not isinstance(data, dict):
            return self
        name = next((str(data[key]).strip() for key in _NAME_FIELDS
                     if isinstance(data.get(key), str) and data[key].strip()), None)
        if not name:
            return self
        return DuplicateName(code=self.code, detail=self.detail, http_status=self.http_status,
                             name=name, existing_id=self.existing_id)


# Fields that name a QBO object, in the order QBO checks uniqueness.
_NAME_FIELDS = ('DisplayName', 'Name', 'FullyQualifiedName', 'CompanyName')


class NotFound(QBOError):
    """Fault 610: the object does not exist (any more) in QBO."""

    default_message = 'QuickBooks no longer has this record; it may have been deleted there.'


class InvalidReference(QBOError):
    """Fault 2500: the object refers to an Id QBO does not know."""

    default_message = ('This record refers to something QuickBooks does not have '
                       '(an account, item, customer or tax code).')


class ValidationError(QBOError):
    """QBO rejected the data (2020, 6000 and the other 2000–4999 / 6000+ business faults)."""

    default_message = 'QuickBooks rejected this record.'


class BadReply(QBOError):
    """QBO (or something in between) answered with a body that cannot be used."""

    default_message = 'QuickBooks sent a reply that could not be read; try again later.'


class InsecureTransport(QBOError):
    """A plain-http address for a host that is not this computer."""

    default_message = ('QuickBooks can only be reached over https; plain http is allowed '
                       'only for an emulator on this computer.')


class InvalidAddress(QBOError, ValueError):
    """A custom QuickBooks address (the emulator's) that cannot be used as it is."""

    default_message = 'This QuickBooks address cannot be used.'


class CDCWindowExceeded(QBOError):
    """Changes were asked for further back than QBO's change feed keeps (30 days)."""

    default_message = ('QuickBooks only lists changes of the last %d days; '
                       'a full read is needed instead.')
    default_values = (const.CDC_MAX_DAYS,)


class CDCTooManyChanges(CDCWindowExceeded):
    """The change feed hit its cap of 1000 objects: some changes were left out."""

    default_message = ('QuickBooks lists at most %d changes at a time and there are more; '
                       'a full read is needed instead.')
    default_values = (const.CDC_MAX_OBJECTS,)


_CLASSES = {cls.__name__: cls for cls in (
    NeedsReconnect, Throttled, StaleObject, DuplicateName, NotFound, InvalidReference,
    ValidationError,
)}


# === FAULT PARSING === #

def parse_fault(body):
    """Return (code, message, detail, fault_type) of the first error in a QBO fault body, or None.

    Accepts the JSON ``Fault/Error`` shape, the lower-case 401 ``fault/error``
    shape (as dict, str or bytes) and the XML ``IntuitResponse/Fault`` shape of 429s.
    """
    if isinstance(body, (bytes, bytearray)):
        body = bytes(body).decode('utf-8', 'replace')
    if isinstance(body, str):
        text = body.strip()
        if text.startswith('<'):
            return _parse_xml_fault(text)
        try:
            body = json.loads(text)
        except (ValueError, RecursionError):   # RecursionError: hostile, deeply nested JSON
            return None
    if not isinstance(body, dict):
        return None
    fault = body.get('Fault', body.get('fault'))
    if not isinstance(fault, dict):
        return None
    errors = fault.get('Error', fault.get('error'))
    first = errors[0] if isinstance(errors, list) and errors else errors
    if not isinstance(first, dict):
        return None
    code = first.get('code', first.get('Code'))
    message = first.get('Message', first.get('message'))
    detail = first.get('Detail', first.get('detail'))
    return (_norm_code(code), message or None, detail or None, fault.get('type'))


def _parse_xml_fault(text):
    # A regex rather than an XML parser: the body is tiny, untrusted, and only three
    # fields are wanted; nothing here expands entities.
    code = re.search(r'<Error\b[^>]*\bcode="([^"]*)"', text)
    if not code:
        return None
    message = re.search(r'<Message>(.*?)</Message>', text, re.S)
    detail = re.search(r'<Detail>(.*?)</Detail>', text, re.S)
    ftype = re.search(r'<Fault\b[^>]*\btype="([^"]*)"', text)
    return (_norm_code(code.group(1)),
            message.group(1).strip() if message else None,
            detail.group(1).strip() if detail else None,
            ftype.group(1) if ftype else None)


def _norm_code(code):
    """'003200' and 3200 -> '3200'; non-numeric codes stay as they are."""
    if code is None or code == '':
        return None
    text = str(code).strip()
    return str(int(text)) if text.isdigit() else text


# === FAULT -> ERROR === #

def error_from_fault(http_status, body):
    """Return the typed QBOError for a QBO error reply (fault JSON, 401 JSON, XML 429, or junk)."""
    parsed = parse_fault(body)
    if parsed is None:
        return _error_without_fault(http_status, body)
    code, message, detail, _ftype = parsed
    cls = _class_for(code, http_status)
    if cls is DuplicateName:
        name, existing_id = _duplicate_name_of(detail, message)
        return DuplicateName(code=code, detail=detail or message, http_status=http_status,
                             name=name, existing_id=existing_id)
    if cls is Throttled:
        return Throttled(code=code or const.CODE_THROTTLED, detail=detail or message,
                         http_status=http_status)
    if cls is ValidationError:
        return ValidationError(_rejected_sentence(detail, message), code, detail or message,
                               http_status)
    if cls is InvalidReference:
        text = None
        if detail:
            text = words('This record refers to something QuickBooks does not have (an account, item, '
                         'customer or tax code). QuickBooks says: %s', _sentence(detail))
        return InvalidReference(text, code, detail or message, http_status)
    if cls is QBOError:
        return QBOError(_rejected_sentence(detail, message, refused=True), code, detail or message,
                        http_status)
    return cls(code=code, detail=detail or message, http_status=http_status)


def error_from_batch_item(item, sent=None):
    """Return the typed error of a /batch reply item that carries a Fault, else None.

    ``sent`` is the request item it answers ({'operation': ..., 'Customer': {...}}): a
    duplicate-name error then names the record.
    """
    if not isinstance(item, dict) or 'Fault' not in item:
        return None
    error = error_from_fault(None, {'Fault': item['Fault']})
    if isinstance(error, DuplicateName) and isinstance(sent, dict):
        objects = [v for k, v in sent.items() if k[:1].isupper() and isinstance(v, dict)]
        if objects:
            error = error.naming(objects[0])
    return error


def _class_for(code, http_status):
    if code in const.FAULT_CODES:
        return _CLASSES[const.FAULT_CODES[code]]
    if http_status == 401:
        return NeedsReconnect
    if http_status == 429:
        return Throttled
    if http_status is not None and http_status >= 500:
        return TransientError
    if code and code.isdigit():
        number = int(code)
        if 2000 <= number <= 4999 or 6000 <= number < 10000:
            return ValidationError
        if number >= 10000:
            return TransientError
    return QBOError


def _error_without_fault(http_status, body):
    detail = _body_excerpt(body)
    if http_status == 401:
        return NeedsReconnect(detail=detail, http_status=http_status)
    if http_status == 429:
        return Throttled(detail=detail, http_status=http_status)
    if http_status is not None and http_status >= 500:
        return TransientError(detail=detail, http_status=http_status)
    return BadReply(detail=detail, http_status=http_status)


# Detail examples: "The name supplied already exists. : Another customer is using Name='Acme' Id=58"
_QUOTED = re.compile(r"""(?:name\s*[=:]?\s*)?['"\u2018\u201c]([^'"\u2019\u201d]{1,200})['"\u2019\u201d]""",
                     re.I)
_NAME_EQUALS = re.compile(r'\bname\s*=\s*([^;,\n]+?)(?:\s*(?:[;,\n]|\bId\s*=)|\s*$)', re.I)
_EXISTING_ID = re.compile(r'\bId\s*[=:]\s*(\d+)', re.I)


def _duplicate_name_of(*texts):
    """Return (name, existing Id) found in a duplicate-name fault's Detail or Message."""
    name = existing_id = None
    for text in texts:
        if not text:
            continue
        if name is None:
            match = _QUOTED.search(text) or _NAME_EQUALS.search(text)
            if match:
                name = match.group(1).strip()
        if existing_id is None:
            match = _EXISTING_ID.search(text)
            if match:
                existing_id = match.group(1)
    return name, existing_id


def _rejected_sentence(detail, message, refused=False):
    reason = detail or message
    if refused:
        return words('QuickBooks refused this request: %s', _sentence(reason)) if reason else \
            Words('QuickBooks refused this request.')
    return words('QuickBooks rejected this record: %s', _sentence(reason)) if reason else \
        Words('QuickBooks rejected this record.')


def _sentence(text):
    text = ' '.join(str(text).split())
    return text if text.endswith(('.', '!', '?')) else text + '.'


def _body_excerpt(body):
    if body is None:
        return None
    if isinstance(body, (bytes, bytearray)):
        body = bytes(body).decode('utf-8', 'replace')
    if not isinstance(body, str):
        body = repr(body)
    body = body.strip()
    return body[:_DETAIL_MAX] or None
