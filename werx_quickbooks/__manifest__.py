{
    "name": "QuickBooks Online Connector",
    "summary": "Connect an Odoo company to QuickBooks Online and keep both in step",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "website": "https://github.com/werx/werx_quickbooks",
    "author": "Werx",
    "license": "LGPL-3",
    "depends": ["account", "analytic", "mail"],
    "external_dependencies": {"python": ["python-quickbooks", "requests-oauthlib"]},
    "data": [
        "security/werx_quickbooks_security.xml",
        "security/ir.model.access.csv",
        "views/werx_quickbooks_menus.xml",
    ],
}
