"""Pure-Python QuickBooks Online layer of werx_quickbooks (no Odoo import here).

Modules: const (plain data), errors (typed errors), auth (OAuth 2.0), client
(QBOClient), ratelimit (client-side limiter), webhook (signature and payloads);
mappers and matcher turn QBO JSON into Odoo values and pair records.
Import from the submodules; this file imports nothing so that loading one
module does not pull in the HTTP stack.
"""
