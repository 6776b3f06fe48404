# Part of werx_quickbooks. License LGPL-3.
import logging

from odoo import http
from odoo.http import request

from ..models.qbo_webhook import WEBHOOK_PATH
from ..qbo.webhook import SIGNATURE_HEADER

_logger = logging.getLogger(__name__)

# Intuit's notifications are a few kilobytes; anything near this is not one.
MAX_BODY = 1024 * 1024


class QBOWebhookController(http.Controller):
    """Where Intuit posts its change notifications (no session, no CSRF token: the signature is the proof)."""

    # max_content_length: a body sent without a length (chunked) is cut at the limit too (413).
    @http.route(WEBHOOK_PATH, type='http', auth='public', methods=['POST'], csrf=False, sitemap=False,
                save_session=False, max_content_length=MAX_BODY)
    def qbo_webhook(self, **_kwargs):
        """Check the signature, store the events for the background worker, and answer at once."""
        httprequest = request.httprequest
        if (httprequest.content_length or 0) > MAX_BODY:
            return self._reply(413, 'body too large')
        # Cached on the request: when the database asks Odoo to run the request again (two deliveries
        # at once, a serialization failure), the second run must read the same body, not an empty one.
        body = httprequest.get_data()
        status, text = request.env['qbo.webhook.event'].sudo()._qbo_receive(
            body, httprequest.headers.get(SIGNATURE_HEADER))
        return self._reply(status, text)

    @staticmethod
    def _reply(status, text):
        return request.make_response(text, status=status,
                                     headers=[('Content-Type', 'text/plain; charset=utf-8')])
