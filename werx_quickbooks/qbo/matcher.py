"""Decide which Odoo record a QBO list record is, before anything is created. Pure, no Odoo.

Order (design.md, "Matching before creating"): an existing mapping (the caller removes
those first), then a strong key (account number <-> code), then the normalised name within a
compatible type. What fits several records, or a record another QBO record also claims, is
left for the user: never two mappings for one record on either side.

Records on both sides are plain dicts:
    {'ref': <qbo_id or odoo id>, 'key': <strong key or None>, 'names': [normalised names],
     'kind': <type, e.g. an Odoo account_type; None matches any kind>,
     'preferred': <Odoo side only: True for the record Odoo uses by default for its kind>}
"""

import re
import unicodedata
from dataclasses import dataclass

from . import const

MATCH = 'match'         # link to an existing Odoo record
CREATE = 'create'       # nothing in Odoo looks like it: create it
UNMATCHED = 'unmatched'  # several Odoo records look like it: the user decides
CONFLICT = 'conflict'   # its key is taken by an Odoo record that cannot be it
NOT_NEEDED = 'not_needed'  # the QBO record needs no Odoo record (e.g. a "not taxable" code)

_PUNCT = re.compile(r'[\W_]+', re.UNICODE)


@dataclass(frozen=True)
class Decision:
    """What to do with one QBO record: ``action``, the Odoo ``local`` ref, and ``reason`` in words.

    ``reason`` is an English template and ``args`` its values, kept apart so that the add-on
    can show the reason in the user's language (``text`` is the English sentence).
    """

    action: str
    local: object = None
    reason: str = ''
    args: tuple | dict = ()

    @property
    def text(self):
        return self.reason % self.args if self.args else self.reason


def normalise(name):
    """Return a name reduced for comparison: case, accents, punctuation and spaces ignored."""
    if not name:
        return ''
    text = unicodedata.normalize('NFKD', str(name))
    text = ''.join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = text.replace('&', ' and ')
    return ' '.join(_PUNCT.sub(' ', text).split())


def name_keys(*names):
    """Return the distinct normalised forms of the given names, blanks dropped, order kept."""
    keys = []
    for name in names:
        key = normalise(name)
        if key and key not in keys:
            keys.append(key)
    return keys


def same_kind(a, b):
    """Return True if two kinds are compatible: equal, or one of them is None."""
    return a is None or b is None or a == b


def account_types_compatible(a, b):
    """Return True if an Odoo account of type ``b`` may stand for a QBO account mapped to type ``a``."""
    if a == b:
        return True
    return any(a in family and b in family for family in const.ACCOUNT_TYPE_FAMILIES)


# What the strong key is, in the reasons: an account's number, a contact's e-mail address.
KEY_REASONS = {
    'number': ('Same number', 'Several Odoo records have the number %s.'),
    'email': ('Same e-mail address', 'Several Odoo contacts have the e-mail address %s.'),
}


def match(remotes, locals_, compatible=same_kind, kind_is_enough=None, describe=None, *, key_is='number'):
    """Return {remote ref: Decision} for QBO records against the Odoo records not yet mapped.

    ``compatible(remote_kind, local_kind)`` says whether a local record may be the remote one.
    ``kind_is_enough(kind)`` marks kinds where the kind alone identifies the record (Odoo's
    single current-year-earnings account; a tax of one rate and use): one candidate of that
    kind is a match, several are narrowed by name.
    ``describe(local)`` names a local record in a reason (default: its ref).
    ``key_is`` says what the strong key is (a key of KEY_REASONS), for the reasons.
    """
    describe = describe or (lambda rec: str(rec['ref']))
    by_key = {}
    by_name = {}
    by_kind = {}
    for rec in locals_:
        if rec.get('key'):
            by_key.setdefault(rec['key'], []).append(rec)
        for key in rec.get('names') or ():
            by_name.setdefault(key, []).append(rec)
        by_kind.setdefault(rec.get('kind'), []).append(rec)

    proposals = {}
    for remote in remotes:
        proposals[remote['ref']] = _propose(remote, by_key, by_name, by_kind, compatible=compatible,
                                            kind_is_enough=kind_is_enough, describe=describe,
                                            reasons=KEY_REASONS[key_is])

    # A local record two QBO records point at belongs to neither until the user says so.
    claims = {}
    for ref, decision in proposals.items():
        if decision.action == MATCH:
            claims.setdefault(decision.local, []).append(ref)
    for local, refs in claims.items():
        if len(refs) > 1:
            for ref in refs:
                proposals[ref] = Decision(UNMATCHED, None, 'Several QuickBooks records look like the same '
                                          'Odoo record (%s); link the right one by hand.', (local,))
    return proposals


def _propose(remote, by_key, by_name, by_kind, *, compatible, kind_is_enough, describe,
             reasons=KEY_REASONS['number']):
    kind = remote.get('kind')
    key = remote.get('key')
    if key and key in by_key:
        candidates = [rec for rec in by_key[key] if compatible(kind, rec.get('kind'))]
        if len(candidates) == 1:
            return Decision(MATCH, candidates[0]['ref'], reasons[0])
        if not candidates:
            return Decision(CONFLICT, None, 'Odoo already has %(record)s with number %(number)s but of '
                            'another type; link it or change one of the numbers.',
                            {'record': describe(by_key[key][0]), 'number': key})
        return Decision(UNMATCHED, None, reasons[1], (key,))

    if kind_is_enough and kind_is_enough(kind):
        fitting = by_kind.get(kind, [])
        candidates = fitting
        if len(fitting) > 1:
            names = set(remote.get('names') or ())
            candidates = [rec for rec in fitting if names & set(rec.get('names') or ())]
        if len(candidates) != 1:
            # Several fit and none by name: the one Odoo uses by default (e.g. the company's
            # receivable account) is the one.
            preferred = [rec for rec in fitting if rec.get('preferred')]
            candidates = preferred if len(preferred) == 1 else candidates
        if len(candidates) == 1:
            return Decision(MATCH, candidates[0]['ref'], 'Same type')
        if fitting:
            return Decision(UNMATCHED, None, 'Several Odoo records fit (%s); pick one.',
                            (', '.join(describe(rec) for rec in fitting[:5]),))

    seen = {}
    for name in remote.get('names') or ():
        for rec in by_name.get(name, ()):
            if compatible(kind, rec.get('kind')):
                seen[rec['ref']] = rec
        if seen:
            break
    if len(seen) == 1:
        return Decision(MATCH, next(iter(seen)), 'Same name')
    if len(seen) > 1:
        return Decision(UNMATCHED, None, 'Several Odoo records have this name (%s); pick one.',
                        (', '.join(describe(rec) for rec in list(seen.values())[:5]),))
    return Decision(CREATE, None, 'Not in Odoo yet')
