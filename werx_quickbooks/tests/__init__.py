from . import test_connect, test_connect_oauth, test_install, test_sync_run
