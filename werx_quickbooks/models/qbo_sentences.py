# Part of werx_quickbooks. License LGPL-3.
"""The sentences of the qbo/ layer (errors, damaged records), listed for translation.

qbo/ knows nothing of Odoo: its errors carry English templates and their values
(``qbo.errors.Words``); ``error.in_words(env._)`` shows them in the user's language. Odoo's
export finds the templates here. A tier-1 test keeps this list equal to what qbo/ says
(``qbo.sentences.all_sentences``).
"""

from odoo.tools import LazyTranslate

_lt = LazyTranslate('werx_quickbooks')

# pylint: disable=translation-positional-used
QBO_SENTENCES = (
    _lt('"%(name)s" (QuickBooks ID %(id)s)'),
    _lt('"%s" (no QuickBooks ID)'),
    _lt('%s (%s).'),
    _lt('%s with an unexpected reply (HTTP %s).'),
    _lt("QuickBooks already has a record named '%s'; link it or rename this one."),
    _lt('QuickBooks already has a record with this name; link it or rename this one.'),
    _lt('QuickBooks asked to slow down and kept refusing after waiting; the sync will try again later.'),
    _lt('QuickBooks can only be reached over https; plain http is allowed only for an emulator on '
        'this computer.'),
    _lt("QuickBooks did not accept the app's client id or secret; an administrator must check them "
        'and reconnect.'),
    _lt('QuickBooks did not revoke the sign-in'),
    _lt('QuickBooks is not answering right now; the sync will try again later.'),
    _lt('QuickBooks lists at most %d changes at a time and there are more; a full read is needed instead.'),
    _lt('QuickBooks no longer has this record; it may have been deleted there.'),
    _lt('QuickBooks only lists changes of the last %d days; a full read is needed instead.'),
    _lt('QuickBooks refused the saved sign-in; an administrator must reconnect.'),
    _lt('QuickBooks refused this request.'),
    _lt('QuickBooks refused this request: %s'),
    _lt('QuickBooks rejected this record.'),
    _lt('QuickBooks rejected this record: %s'),
    _lt('QuickBooks reported an error.'),
    _lt('QuickBooks sent %(record)s %(problem)s; correct it in QuickBooks and sync again.'),
    _lt('QuickBooks sent a reply that could not be read; try again later.'),
    _lt('QuickBooks sent something that is not a record in the list; it was skipped (if it recurs, '
        'tell your QuickBooks support).'),
    _lt("QuickBooks' sign-in service answered without a refresh token."),
    _lt("QuickBooks' sign-in service answered without an access token."),
    _lt("QuickBooks' sign-in service could not be reached."),
    _lt("QuickBooks' sign-in service did not answer in time."),
    _lt("QuickBooks' sign-in service refused the request"),
    _lt("QuickBooks' sign-in service refused the request (%s)."),
    _lt("QuickBooks' sign-in service sent a reply that could not be read."),
    _lt("QuickBooks' sign-in service sent an unreadable token lifetime."),
    _lt('Someone changed this record in QuickBooks since it was last read; it will be re-read and '
        'tried again.'),
    _lt('The QuickBooks notification could not be read.'),
    _lt('This record refers to something QuickBooks does not have (an account, item, customer or tax code).'),
    _lt('This record refers to something QuickBooks does not have (an account, item, customer or '
        'tax code). QuickBooks says: %s'),
    _lt('a record'),
    _lt('a record that is not an object'),
    _lt('account number'),
    _lt('account type'),
    _lt('balance'),
    _lt('classification'),
    _lt('description'),
    _lt('detail type'),
    _lt('discount day of month'),
    _lt('due day of month'),
    _lt('early payment discount'),
    _lt('instead of a list record'),
    _lt('instead of a tax agency'),
    _lt('name'),
    _lt('number of days before the due day'),
    _lt('number of days to pay'),
    _lt('number of discount days'),
    _lt('parent'),
    _lt('payment method type'),
    _lt('purchase tax account'),
    _lt('rate (%)'),
    _lt('sales tax account'),
    _lt('tax order'),
    _lt('tax rate'),
    _lt('term type'),
    _lt('the record with QuickBooks ID %s'),
    _lt('whose %s has %d characters (at most %d)'),
    _lt('whose %s is "%s", not a number'),
    _lt('whose %s is %s (it must be from %s to %s)'),
    _lt('whose %s is %s, not a whole number'),
    _lt('whose %s is not a number'),
    _lt('whose %s is not given by a QuickBooks ID'),
    _lt('whose %s is not text'),
    _lt('whose Id has %d characters'),
    _lt('whose account number has %d characters (Odoo takes at most %d)'),
    _lt('whose account type "%s" Odoo cannot place'),
    _lt('whose full name has %d characters (at most %d)'),
    _lt('whose full name is not text'),
    _lt('whose list of tax rates cannot be read'),
    _lt('whose payment method type is "%s" (QuickBooks knows only %s)'),
    _lt('without a name'),
    _lt('without an Id'),
)
