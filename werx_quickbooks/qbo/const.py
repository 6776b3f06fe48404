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
