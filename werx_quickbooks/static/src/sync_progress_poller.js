/** @odoo-module **/
// While a sync runs in the background worker, the connection screen reads its progress again
// every two seconds, so the lists' counts move and the result shows without a reload.

import { Component, onMounted, onWillUnmount, xml } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { standardFieldProps } from "@web/views/fields/standard_field_props";

const POLL_MS = 2000;

export class SyncProgressPoller extends Component {
    static template = xml`<span class="o_qbo_sync_poller fa fa-refresh fa-spin ms-1" title="Updating"/>`;
    static props = { ...standardFieldProps };

    setup() {
        onMounted(() => {
            this.timer = setInterval(() => this.refresh(), POLL_MS);
        });
        onWillUnmount(() => clearInterval(this.timer));
    }

    async refresh() {
        const record = this.props.record;
        // Never while the user edits something on the screen: that would be lost.
        if (!record.data[this.props.name] || record.dirty || this.loading) {
            return;
        }
        this.loading = true;
        try {
            await record.model.load();
        } finally {
            this.loading = false;
        }
    }
}

registry.category("fields").add("qbo_sync_poller", { component: SyncProgressPoller });
