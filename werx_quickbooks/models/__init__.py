from . import qbo_connection, qbo_connection_token, qbo_oauth_state, qbo_sync_run, res_config_settings
