from . import test_install
from . import test_connect
from . import test_connect_oauth
from . import test_sync_run
from . import test_import_lists
