/** @odoo-module **/
// Browser tours of the QuickBooks screens, run by the add-on's tests (tests/test_tours.py).

import { registry } from "@web/core/registry";

const openConnection = [
    {
        content: "Open the company's QuickBooks connection",
        trigger: ".o_list_view .o_data_row .o_data_cell, .o_form_view .o_notebook",
        run() {
            const row = document.querySelector(".o_list_view .o_data_row .o_data_cell");
            if (row) {
                row.click();
            }
        },
    },
    { content: "The connection screen", trigger: ".o_form_view .o_notebook" },
];

function openTab(name) {
    return { content: `The ${name} tab`, trigger: `.o_notebook .nav-link:contains(${name})`, run: "click" };
}

registry.category("web_tour.tours").add("werx_quickbooks_connect", {
    steps: () => [
        {
            content: "Connect opens the wizard, on the connection's own server (the emulator here)",
            trigger: ".o_form_view button[name=action_open_connect_wizard]",
            run: "click",
        },
        {
            content: "The wizard shows the redirect URI to register at Intuit",
            trigger: ".modal .o_field_widget[name=redirect_uri]:contains(/werx_quickbooks/oauth/callback)",
        },
        {
            content: "It keeps the connection's custom address: never Intuit's servers from a test",
            trigger: ".modal .o_field_widget[name=base_url] input:value(127.0.0.1)",
        },
        {
            content: "Go to Intuit's consent page (the emulator's), which comes straight back",
            trigger: ".modal button[name=action_connect]",
            run: "click",
        },
        {
            content: "Back on the connection: Connected",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains(Connected)",
        },
    ],
});

registry.category("web_tour.tours").add("werx_quickbooks_sync", {
    steps: () => [
        ...openConnection,
        { content: "Press Sync", trigger: ".o_form_view button[name=action_sync]", run: "click" },
        { content: "It starts in the background", trigger: ".o_notification:contains(Sync started)" },
        {
            content: "The screen says a sync is under way, and Sync waits",
            trigger: ".o_form_view .alert-info:contains(under way)",
        },
    ],
});

registry.category("web_tour.tours").add("werx_quickbooks_sync_result", {
    steps: () => [
        ...openConnection,
        {
            content: "The result of the run, with each list's progress",
            trigger: ".o_form_view .o_field_widget[name=last_sync_result]:contains(records synced)",
        },
        { content: "Progress per list", trigger: ".o_form_view td:contains(Chart of Accounts)" },
    ],
});

registry.category("web_tour.tours").add("werx_quickbooks_review", {
    steps: () => [
        ...openConnection,
        openTab("Lists"),
        {
            content: "A tax code waits for review: Link to…",
            trigger: ".o_field_widget[name=qbo_tax_code_ids] .o_data_row:contains(TAX) button[name=action_open_link]",
            run: "click",
        },
        {
            content: "Pick the Odoo tax",
            trigger: ".modal .o_field_widget[name=tax_id] input",
            run: "edit California State",
        },
        { trigger: ".o-autocomplete--dropdown-item:contains(California State)", run: "click" },
        { content: "Link", trigger: ".modal button[name=action_link]", run: "click" },
        {
            content: "The code is linked",
            trigger: ".o_field_widget[name=qbo_tax_code_ids] .o_data_row:contains(TAX):contains(Matched)",
        },
    ],
});

registry.category("web_tour.tours").add("werx_quickbooks_retry", {
    steps: () => [
        ...openConnection,
        openTab("Log"),
        {
            content: "Retry the record that failed",
            trigger: ".o_field_widget[name=sync_failure_ids] .o_data_row:contains(Rent) button[name=action_retry]",
            run: "click",
        },
        { content: "It is retried in the background", trigger: ".o_notification:contains(Retry started)" },
    ],
});

registry.category("web_tour.tours").add("werx_quickbooks_reader", {
    steps: () => [
        ...openConnection,
        openTab("Accounts"),
        {
            content: "The chart as imported, with its Odoo accounts",
            trigger: ".o_field_widget[name=qbo_account_ids] .o_data_row:contains(Automobile:Fuel)",
        },
        openTab("Lists"),
        { content: "Its terms", trigger: ".o_field_widget[name=qbo_term_ids] .o_data_row:contains(Net 30)" },
        openTab("Log"),
        {
            content: "A reader has no Sync button",
            trigger: ".o_form_view:not(:has(button[name=action_sync]))",
        },
    ],
});
