from . import (
    test_access,
    test_books,
    test_catalog,
    test_connect,
    test_connect_oauth,
    test_hostile_replies,
    test_import_lists,
    test_install,
    test_partners,
    test_sync_run,
    test_tours,
    test_webhooks,
)
