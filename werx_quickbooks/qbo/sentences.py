"""Find every English sentence this layer can show a user, for the add-on's translation list.

The add-on lists them in ``models/qbo_sentences.py`` (as ``_lt``), so Odoo's export puts them in
the .pot file; a tier-1 test compares the two lists, so a new sentence cannot be forgotten.
"""

import ast
import os

# Error classes whose first argument (or ``message=``) is a sentence.
_ERRORS = {'QBOError', 'NeedsReconnect', 'TransientError', 'Throttled', 'StaleObject', 'DuplicateName',
           'NotFound', 'InvalidReference', 'ValidationError', 'BadReply', 'InsecureTransport',
           'CDCWindowExceeded', 'CDCTooManyChanges'}
# Mapper helpers whose argument at this position names a field ("whose <label> is not text").
_LABELS = {'_text': 2, '_number': 2, '_integer': 2, '_checked_ref': 2, '_bad_ref': 1, '_nested_text': 3}


def _literal(node):
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def sentences_in(source):
    """Return the set of user-facing English templates in one module's source."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == 'default_message' for t in node.targets):
            found.add(_literal(node.value))
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, 'attr', None)
        args = node.args
        if name in ('Words', 'words') and args:
            found.add(_literal(args[0]))
        elif name in _ERRORS:
            found.add(_literal(args[0]) if args else None)
            found.update(_literal(k.value) for k in node.keywords if k.arg == 'message')
        elif name == 'BadRecord' and len(args) > 1:
            found.add(_literal(args[1]))
        elif name in _LABELS and len(args) > _LABELS[name]:
            found.add(_literal(args[_LABELS[name]]))
    found.discard(None)
    return found


def all_sentences():
    """Return every user-facing template of the qbo/ layer."""
    here = os.path.dirname(os.path.abspath(__file__))
    found = set()
    for name in sorted(os.listdir(here)):
        if name.endswith('.py') and name != 'sentences.py':
            with open(os.path.join(here, name), encoding='utf-8') as handle:
                found |= sentences_in(handle.read())
    return found
