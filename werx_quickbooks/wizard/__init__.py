from . import qbo_connect_wizard
