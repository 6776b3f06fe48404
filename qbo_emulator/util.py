"""Clock, time formats and the QBO fault type shared by the emulator modules."""

import json
import math
import re
import threading
import time
from datetime import date, datetime, timedelta, timezone

# QBO stamps MetaData in the company's time zone; a fixed Pacific offset keeps
# the emulator deterministic and still makes clients handle non-UTC offsets.
QBO_TZ = timezone(timedelta(hours=-7))

_ISO_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_PLUS_AS_SPACE = re.compile(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$")


class Clock:
    """Wall-clock time plus an offset that tests move forward with advance()."""

    def __init__(self):
        self._offset = 0.0
        self._lock = threading.Lock()

    def time(self):
        with self._lock:
            return time.time() + self._offset

    def now(self):
        return datetime.fromtimestamp(self.time(), timezone.utc)

    def advance(self, seconds):
        with self._lock:
            self._offset += float(seconds)

    def set(self, when):
        """Jump to an aware datetime (naive means UTC)."""
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        with self._lock:
            self._offset = when.timestamp() - time.time()

    def today(self):
        return datetime.fromtimestamp(self.time(), QBO_TZ).date()


def iso(ts):
    """QBO MetaData format: seconds precision with the company's offset."""
    return datetime.fromtimestamp(ts, QBO_TZ).isoformat(timespec="seconds")


def iso_ms(ts):
    """The `time` member of replies: milliseconds with offset."""
    return datetime.fromtimestamp(ts, QBO_TZ).isoformat(timespec="milliseconds")


def iso_utc(ts):
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + (
        "%03dZ" % int((ts % 1) * 1000)
    )


def parse_time(value):
    """Epoch seconds for an ISO 8601 date or date-time; naive values are taken as UTC.

    Returns None when the text is not a date.
    """
    if not isinstance(value, str):
        return None
    # an unencoded '+' in a URL arrives as a space: "10:00:00 07:00" means "10:00:00+07:00"
    m = _ISO_RE.match(_PLUS_AS_SPACE.sub(r"\1+\2", value.strip()))
    if not m:
        return None
    y, mo, d, hh, mi, ss, frac, tz = m.groups()
    try:
        if hh is None:
            # a bare date compares as midnight in the company's zone
            dt = datetime(int(y), int(mo), int(d), tzinfo=QBO_TZ)
        else:
            micro = int((frac or "0")[:6].ljust(6, "0"))
            tzinfo = timezone.utc
            if tz and tz != "Z":
                sign = -1 if tz[0] == "-" else 1
                digits = tz[1:].replace(":", "")
                tzinfo = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
            dt = datetime(int(y), int(mo), int(d), int(hh), int(mi), int(ss or 0), micro, tzinfo=tzinfo)
    except ValueError:
        return None
    return dt.timestamp()


def loads(raw):
    """Decode a JSON request body (bytes); ValueError for anything that is not JSON.

    Hostile bodies (not UTF-8, nested deep enough to exhaust the recursion limit)
    end up as the same ValueError, never as an internal error.
    """
    try:
        return json.loads(
            raw.decode("utf-8") if isinstance(raw, (bytes, bytearray)) else raw,
            parse_float=_finite,
            parse_constant=_no_constant,
        )
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def _finite(text):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def parse_date(value):
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def money(value):
    return round(float(value) + 0.0, 2)


class Fault(Exception):
    """A QBO fault: becomes the `Fault` JSON body (or a batch item's Fault)."""

    def __init__(self, code, message, detail="", *, element="", status=400, ftype="ValidationFault"):
        super().__init__(detail or message)
        self.code = str(code)
        self.message = message
        self.detail = detail
        self.element = element
        self.status = status
        self.ftype = ftype

    def fault(self):
        return {
            "Error": [
                {"Message": self.message, "Detail": self.detail, "code": self.code, "element": self.element}
            ],
            "type": self.ftype,
        }


# QBO's fixed Message for each fault code the emulator raises; the Detail says what went wrong
MESSAGES = {
    "500": "Unsupported Operation",
    "610": "Object Not Found",
    "1040": "Number of items in batch request exceeded the maximum",
    "2010": "Request has invalid or unsupported property",
    "2020": "Required param missing, need to supply the required value for the API",
    "2050": "String length is either shorter or longer than supported by specification",
    "2500": "Invalid Reference Id",
    "4000": "Error parsing query",
    "5010": "Stale Object Error",
    "6000": "A business validation error has occurred while processing your request",
    "6240": "Duplicate Name Exists Error",
    "10000": "An application error has occurred while processing your request",
}


def fault(code, detail, element=""):
    """The Fault for `code` with QBO's Message for it and this `detail`."""
    return Fault(code, MESSAGES[code], detail, element=element)


_INACTIVE_DETAIL = (
    "Object Not Found : Something you're trying to use has been made inactive. "
    "Check the fields with accounts, customers, items, vendors or employees."
)


def not_found(entity, obj_id, field=None):
    """Fault 610: `obj_id` is unknown (or, given the `field` that names it, inactive)."""
    detail = _INACTIVE_DETAIL if field is None else f"{_INACTIVE_DETAIL} ({entity} {obj_id} in {field})"
    return fault("610", detail, field or entity)


def required(field, extra=""):
    return fault("2020", f"Required parameter {field} is missing in the request{extra}", field)


def invalid_ref(field, entity, obj_id):
    return fault("2500", f"Invalid Reference Id : {entity} element id {obj_id} not found ({field})", field)


def stale(entity):
    detail = (
        "Stale Object Error : You and another user were working on the same thing. "
        "The other user finished before you did, so your work was not saved."
    )
    return fault("5010", detail, entity)


def duplicate(kind, name, existing_id=None):
    who = "customer, vendor or employee" if kind == "party" else kind.lower()
    detail = (
        f"The name supplied already exists. : Another {who} is already using this name. "
        "Please use a different name."
    )
    if existing_id is not None:
        detail += f" Id={existing_id}"
    return fault("6240", detail, "DisplayName" if kind == "party" else "Name")


def business(detail, element=""):
    return fault("6000", f"Business Validation Error: {detail}", element)


def invalid(detail, element=""):
    return fault("2010", detail, element)


def parser_error(detail):
    return fault("4000", f"QueryParserError: {detail}")


def unsupported(operation, entity):
    return fault("500", f"Operation {operation} is not supported.", entity)


def system_failure(detail):
    """The HTTP 500 SystemFault QBO answers when it fails on its side."""
    return Fault(
        "10000", MESSAGES["10000"], f"System Failure Error: {detail}", status=500, ftype="SystemFault"
    )
