from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestInstall(TransactionCase):
    def test_administrator_group_includes_user_group(self):
        admin_group = self.env.ref("werx_quickbooks.group_qbo_admin")
        user_group = self.env.ref("werx_quickbooks.group_qbo_user")
        self.assertIn(user_group, admin_group.implied_ids)
        self.assertIn(admin_group, self.env.ref("base.user_admin").groups_id)
