# Part of werx_quickbooks. License LGPL-3.
import logging

from markupsafe import Markup, escape
from odoo import http
from odoo.exceptions import AccessError, UserError
from odoo.http import request

from ..models.qbo_connection import CALLBACK_PATH

_logger = logging.getLogger(__name__)


class QBOOAuthController(http.Controller):
    """Where Intuit sends the browser back after the consent page."""

    @http.route(CALLBACK_PATH, type='http', auth='user', methods=['GET'], sitemap=False)
    def qbo_oauth_callback(self, state=None, code=None, realmId=None, error=None, **_kwargs):
        """Check the state, then connect the company (or explain in plain words why not)."""
        try:
            oauth_state = request.env['qbo.oauth.state']._consume(state)
        except UserError as exc:
            return self._error_page(str(exc.args[0]))
        connection = oauth_state.connection_id.with_env(request.env)
        try:
            # The user must still be allowed to manage this company's connection.
            connection._qbo_check_admin()
        except AccessError as exc:
            return self._error_page(str(exc.args[0]))
        if error:
            if error == 'access_denied':
                message = request.env._(
                    'The connection was not made: access was declined on the QuickBooks page. '
                    'Click Connect again and choose Connect (or Allow) at Intuit.')
            else:
                message = request.env._(
                    'QuickBooks did not complete the sign-in (%s). Click Connect and try again.', error[:100])
            return self._back_to_connection(connection, message)
        try:
            connection._qbo_oauth_callback(realmId, code, oauth_state.redirect_uri)
        except UserError as exc:
            return self._back_to_connection(connection, str(exc.args[0]))
        return self._back_to_connection(connection)

    def _back_to_connection(self, connection, problem=None):
        """Redirect to the connection screen; a problem is shown there and written in its chatter."""
        if problem:
            connection.sudo().connect_message = problem
            connection.message_post(body=problem)
        action = request.env.ref('werx_quickbooks.action_qbo_connection')
        return request.redirect('/odoo/action-%s/%s' % (action.id, connection.id), local=True)

    def _error_page(self, message):
        """A plain page with ``message`` and a way back (no traceback, no secret)."""
        title = escape(request.env._('QuickBooks connection'))
        back = escape(request.env._('Back to Odoo'))
        body = Markup(
            '<!DOCTYPE html><html><head><meta charset="utf-8"><title>%s</title></head>'
            '<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto;">'
            '<h1>%s</h1><p>%s</p><p><a href="/odoo">%s</a></p></body></html>'
        ) % (title, title, message, back)
        return request.make_response(str(body), status=400,
                                     headers=[('Content-Type', 'text/html; charset=utf-8')])
