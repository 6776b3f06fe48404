"""Plain data about QuickBooks Online: URLs, API version, limits, fault codes.

Nothing here does anything; the client, auth and error modules read it.
"""

# === API VERSION AND SCOPE === #

# Every call carries ?minorversion=75: Intuit retired 1–74 on 2025-08-01.
MINOR_VERSION = 75
SCOPE = 'com.intuit.quickbooks.accounting'

# === ENVIRONMENTS === #

PRODUCTION = 'production'
SANDBOX = 'sandbox'
CUSTOM = 'custom'
ENVIRONMENTS = (PRODUCTION, SANDBOX, CUSTOM)

AUTHORIZE_URL = 'https://appcenter.intuit.com/connect/oauth2'
TOKEN_URL = 'https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer'
REVOKE_URL = 'https://developer.api.intuit.com/v2/oauth2/tokens/revoke'

# API base per environment; the realm id follows: {API_URL}/{realmId}/...
API_URLS = {
    PRODUCTION: 'https://quickbooks.api.intuit.com/v3/company',
    SANDBOX: 'https://sandbox-quickbooks.api.intuit.com/v3/company',
}

# Paths under a custom base URL (the emulator serves Intuit's OAuth and the API on one host).
CUSTOM_PATHS = {
    'authorize_url': '/oauth2/authorize',
    'token_url': '/oauth2/v1/tokens/bearer',
    'revoke_url': '/oauth2/v1/tokens/revoke',
    'api_url': '/v3/company',
}

# Hosts allowed to speak plain http (the emulator in tests and demos).
LOOPBACK_HOSTNAMES = ('localhost',)

# === PAGING, BATCH, CDC === #

PAGE_SIZE = 1000            # MAXRESULTS per query page (commonly used maximum)
BATCH_SIZE = 30             # items per /batch request
CDC_MAX_DAYS = 30           # /cdc looks back at most 30 days
CDC_MAX_OBJECTS = 1000      # /cdc returns at most 1000 objects per reply
CDC_UNSUPPORTED = ('TaxCode', 'TaxRate', 'TaxAgency', 'TimeActivity')   # poll these with a query
REQUEST_ID_MAX_LEN = 50     # QBO's limit for the requestid query parameter

# === RATE LIMITS (client side, kept under QBO's per-realm limits) === #

# QBO: 10 requests/s, 500/min per realm; 40 batch requests/min (120 in production
# since 2025-10-31). Staying under them avoids 429s and their 60 s penalty.
RATE_PER_SECOND = 8
RATE_PER_MINUTE = 450
BATCH_RATE_PER_MINUTE = 36

# === RETRIES === #

MAX_RETRIES = 4             # retries after a 5xx, a timeout or a dropped connection
BACKOFF_BASE = 1.0          # seconds; doubles on every retry
BACKOFF_MAX = 30.0          # seconds; cap of one backoff wait
THROTTLE_WAIT = 60.0        # seconds to wait after a 429 / 3001 without Retry-After
MAX_THROTTLE_WAITS = 10     # consecutive throttled replies before giving up
REFRESH_MARGIN = 300        # seconds: refresh the access token when it expires within this
TIMEOUT = 60                # seconds per HTTP request (QBO itself gives up at 120 s)

# === FAULT CODES === #

CODE_NOT_FOUND = '610'
CODE_REQUIRED_PARAM = '2020'
CODE_INVALID_REFERENCE = '2500'
CODE_THROTTLED = '3001'
CODE_APP_NOT_AUTHORIZED = '3100'
CODE_AUTH_FAILED = '3200'
CODE_STALE_OBJECT = '5010'
CODE_BUSINESS_VALIDATION = '6000'
CODE_DUPLICATE_NAME = '6240'

# QBO fault code -> name of the error class in errors.py (codes not listed: by range, see errors.py).
FAULT_CODES = {
    CODE_NOT_FOUND: 'NotFound',
    CODE_REQUIRED_PARAM: 'ValidationError',
    CODE_INVALID_REFERENCE: 'InvalidReference',
    CODE_THROTTLED: 'Throttled',
    CODE_APP_NOT_AUTHORIZED: 'NeedsReconnect',
    CODE_AUTH_FAILED: 'NeedsReconnect',
    CODE_STALE_OBJECT: 'StaleObject',
    CODE_BUSINESS_VALIDATION: 'ValidationError',
    CODE_DUPLICATE_NAME: 'DuplicateName',
}

# ===================================================================== #
# === LISTS: mapping tables (owned by the Lists work; keep at the end) === #
# ===================================================================== #

# QBO AccountType -> Odoo 18 account.account account_type.
ACCOUNT_TYPES = {
    'Bank': 'asset_cash',
    'Accounts Receivable': 'asset_receivable',
    'Other Current Asset': 'asset_current',
    'Fixed Asset': 'asset_fixed',
    'Other Asset': 'asset_non_current',
    'Accounts Payable': 'liability_payable',
    'Credit Card': 'liability_credit_card',
    'Other Current Liability': 'liability_current',
    'Long Term Liability': 'liability_non_current',
    'Equity': 'equity',
    'Income': 'income',
    'Other Income': 'income_other',
    'Cost of Goods Sold': 'expense_direct_cost',
    'Expense': 'expense',
    'Other Expense': 'expense',
}

# (AccountType, AccountSubType) pairs whose meaning in Odoo differs from the type alone.
# Retained earnings is QBO's computed profit-and-loss account: Odoo's single "Current Year Earnings".
ACCOUNT_SUBTYPES = {
    ('Equity', 'RetainedEarnings'): 'equity_unaffected',
    ('Other Current Asset', 'PrepaidExpenses'): 'asset_prepayments',
    ('Other Asset', 'PrepaidExpenses'): 'asset_prepayments',
    ('Expense', 'Depreciation'): 'expense_depreciation',
    ('Other Expense', 'Depreciation'): 'expense_depreciation',
    ('Other Expense', 'Amortization'): 'expense_depreciation',
}

# Odoo account types for which the account is reconcilable whatever its type says:
# undeposited funds hold payments until they are matched with a bank deposit.
ACCOUNT_SUBTYPES_RECONCILE = {('Other Current Asset', 'UndepositedFunds')}

# Used when QBO sends a type this table does not know, so one odd account never stops the import.
ACCOUNT_TYPE_FALLBACK = {
    'Asset': 'asset_current',
    'Liability': 'liability_current',
    'Equity': 'equity',
    'Revenue': 'income',
    'Expense': 'expense',
}

# Odoo account types that may be matched by name with each other (same family). Types not
# listed here (receivable, payable, bank and cash, credit card, current year earnings) only
# match their own type: linking them wrongly would misroute payments.
ACCOUNT_TYPE_FAMILIES = (
    frozenset({'asset_current', 'asset_non_current', 'asset_prepayments', 'asset_fixed'}),
    frozenset({'liability_current', 'liability_non_current'}),
    frozenset({'income', 'income_other'}),
    frozenset({'expense', 'expense_depreciation', 'expense_direct_cost'}),
)

# Types a company normally has once (Odoo allows only one current-year-earnings account; the
# receivable and payable are the company defaults): the QBO account of that type is linked to
# the one Odoo account of that type, whatever its name. Several on either side: the user picks.
ACCOUNT_TYPES_SINGLETON = frozenset({'equity_unaffected', 'asset_receivable', 'liability_payable'})

# Prefix of the code given to a QBO account without an account number (then "QB" + its Id).
GENERATED_ACCOUNT_CODE_PREFIX = 'QB'

# PaymentMethod.Type -> journal type its payments go to (the user may change the journal).
PAYMENT_METHOD_JOURNAL_TYPES = {
    'CREDIT_CARD': 'bank',
    'NON_CREDIT_CARD': 'bank',
}
# Non-card methods whose name says cash go to the cash journal.
CASH_PAYMENT_METHOD_WORDS = ('cash',)

# Bank detail types that are cash in hand: a cash journal in Odoo, not a bank journal.
CASH_ACCOUNT_SUBTYPES = frozenset({'CashOnHand'})

# Names of the analytic plans that hold QBO classes and locations.
ANALYTIC_PLAN_CLASSES = 'QuickBooks Classes'
ANALYTIC_PLAN_LOCATIONS = 'QuickBooks Locations'

# Lists synced from QBO, in the order they are imported (a later list may refer to an earlier one).
# (QBO entity, label shown to the user, in CDC?)
LIST_ENTITIES = (
    ('Account', 'Chart of Accounts', True),
    ('Term', 'Terms', True),
    ('Class', 'Classes', True),
    ('Department', 'Locations', True),
    ('PaymentMethod', 'Payment Methods', True),
    ('TaxRate', 'Tax Rates', False),
    ('TaxCode', 'Tax Codes', False),
)

# ===================== === end of LISTS section === ===================== #
