"""Take screenshots of the main QuickBooks screens of a running Odoo, for the README.

    python docs/screenshots.py http://127.0.0.1:8069 [--login admin --password admin] [--out docs/screenshots]

Drives Debian's headless Chromium over the DevTools protocol (the `websocket-client`
package, which Odoo's own browser tests use too): signs in, opens the QuickBooks
connection and each of its tabs, and saves one PNG per screen. `scripts/screenshots`
starts the demo (Odoo and the emulator) and runs this against it.
"""

import argparse
import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request

import websocket

SCREENS = [
    # (file name, tab to click on the connection screen, or None for the screen as it opens)
    ('connection', None),
    ('accounts', 'Accounts'),
    ('lists', 'Lists'),
    ('customers', 'Customers'),
    ('products', 'Products'),
    ('defaults', 'Defaults'),
    ('log', 'Log'),
]


class Browser:
    """One headless Chromium page, driven over the DevTools protocol."""

    def __init__(self, width=1400, height=900):
        chrome = shutil.which('chromium') or shutil.which('chromium-browser') or shutil.which('google-chrome')
        if not chrome:
            raise SystemExit('screenshots: no Chromium on the PATH (Debian: apt install chromium)')
        self.profile = tempfile.mkdtemp(prefix='werx-shots-')
        port_file = os.path.join(self.profile, 'DevToolsActivePort')
        self.process = subprocess.Popen(
            [chrome, '--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run',
             '--remote-debugging-address=127.0.0.1', '--remote-debugging-port=0',
             '--user-data-dir=%s' % self.profile, '--window-size=%d,%d' % (width, height), 'about:blank'],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if os.path.exists(port_file):
                break
            time.sleep(0.1)
        with open(port_file) as port_text:
            port = port_text.read().split()[0]
        pages = json.load(urllib.request.urlopen('http://127.0.0.1:%s/json' % port, timeout=10))
        page = next(p for p in pages if p.get('type') == 'page')
        self.ws = websocket.create_connection(page['webSocketDebuggerUrl'], timeout=30)
        self._id = 0
        self.call('Page.enable')
        self.call('Emulation.setDeviceMetricsOverride', width=width, height=height, deviceScaleFactor=1,
                  mobile=False)

    def call(self, method, **params):
        self._id += 1
        self.ws.send(json.dumps({'id': self._id, 'method': method, 'params': params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get('id') == self._id:
                if 'error' in message:
                    raise RuntimeError('%s: %s' % (method, message['error']))
                return message.get('result', {})

    def run(self, script):
        result = self.call('Runtime.evaluate', expression=script, awaitPromise=True, returnByValue=True)
        return result.get('result', {}).get('value')

    def wait_for(self, script, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.run(script):
                return
            time.sleep(0.25)
        raise RuntimeError('timed out waiting for: %s' % script)

    def go(self, url):
        self.call('Page.navigate', url=url)
        self.wait_for('document.readyState === "complete"')

    def screenshot(self, path):
        data = self.call('Page.captureScreenshot', format='png')['data']
        with open(path, 'wb') as out:
            out.write(base64.b64decode(data))

    def close(self):
        self.ws.close()
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('url', help="the running Odoo, e.g. http://127.0.0.1:8069 (only this computer's)")
    parser.add_argument('--login', default='admin')
    parser.add_argument('--password', default='admin')
    parser.add_argument('--out', default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                      'screenshots'))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    browser = Browser()
    try:
        browser.go(args.url + '/web/login')
        browser.run('document.querySelector("input[name=login]").value = %s;'
                    'document.querySelector("input[name=password]").value = %s;'
                    'document.querySelector("form.oe_login_form").submit();'
                    % (json.dumps(args.login), json.dumps(args.password)))
        browser.wait_for('!!document.querySelector(".o_main_navbar")', timeout=60)
        browser.go(args.url + '/odoo/quickbooks')
        browser.wait_for('!!document.querySelector(".o_form_view .o_notebook, .o_list_view .o_data_row")',
                         timeout=60)
        # The menu opens the company's connection; the action's own path lists the connections.
        browser.run('(document.querySelector(".o_list_view .o_data_row .o_data_cell")'
                    ' || {click() {}}).click()')
        browser.wait_for('!!document.querySelector(".o_form_view .o_notebook")', timeout=60)
        time.sleep(1.5)
        for name, tab in SCREENS:
            # Toasts (such as the web client's own "page is out of date") are not the screen.
            browser.run('document.querySelectorAll(".o_notification_close").forEach(b => b.click())')
            if tab:
                browser.run('[...document.querySelectorAll(".o_notebook .nav-link")]'
                            '.find(a => a.textContent.trim() === %s).click();'
                            'document.querySelector(".o_notebook").scrollIntoView()' % json.dumps(tab))
            else:
                browser.run('document.querySelector(".o_content").scrollTop = 0')
            time.sleep(1.0)
            path = os.path.join(args.out, '%s.png' % name)
            browser.screenshot(path)
            print('screenshots: %s' % path)
    finally:
        browser.close()


if __name__ == '__main__':
    main()
