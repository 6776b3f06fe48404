from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestInstall(TransactionCase):
    def test_administrator_group_includes_user_group(self):
        admin_group = self.env.ref("werx_quickbooks.group_qbo_admin")
        user_group = self.env.ref("werx_quickbooks.group_qbo_user")
        self.assertIn(user_group, admin_group.implied_ids)
        self.assertIn(admin_group, self.env.ref("base.user_admin").groups_id)

    def test_every_sentence_of_the_qbo_layer_is_listed_for_translation(self):
        # The same check as tier 1, where OCA's CI runs only the add-on's own tests.
        from ..models.qbo_sentences import QBO_SENTENCES
        from ..qbo.sentences import all_sentences

        listed = {str(term._source) for term in QBO_SENTENCES}
        self.assertEqual(all_sentences() - listed, set(), 'add these to models/qbo_sentences.py')
        self.assertEqual(listed - all_sentences(), set(), 'no longer said by qbo/')

    def test_background_work_writes_in_the_language_of_who_asked(self):
        self.env['res.lang']._activate_lang('fr_FR')
        connection = self.env['qbo.connection'].create({'company_id': self.env.company.id})
        user = self.env['res.users'].create({'name': 'Comptable', 'login': 'comptable', 'lang': 'fr_FR'})
        connection.sudo().sync_requested_by_id = user
        self.assertEqual(connection._qbo_lang(), 'fr_FR')
        connection.sudo().sync_requested_by_id = False
        self.env.company.partner_id.lang = 'fr_FR'
        self.assertEqual(connection._qbo_lang(), 'fr_FR')
