from . import qbo_connection
from . import qbo_connection_token
from . import qbo_oauth_state
from . import qbo_sync_run
from . import res_config_settings
