"""Every ValidationError a service, validator or selector raises carries a stable code.

The API passes each error's `code` on in problem+json (`errors[].code`), so a partner can act
on `sku_taken` instead of parsing a translated message. This test reads (ast) every non-test
module of the five apps and fails when a Django `ValidationError(...)` has no `code=` and its
first argument is not a dict or list of coded ValidationErrors. When the first argument is a
variable (errors collected in a dict or list), what the function puts into that variable is
checked the same way: a bare message (`_("…")`, a string, `exc.messages`, `exc.message_dict`)
loses its code.

DRF's own `serializers.ValidationError` (shape checks in `api.py`) is not checked: a
serializer's errors keep DRF's codes (`invalid`, `required`, …). Forms (`forms.py`) may keep
messages without codes: they are shown on the merchant's page, never sent to a partner.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.utils.module_loading import import_string

ROOT = Path(__file__).resolve().parents[2]
# Each app and its error-code enum.
APPS = {
    "shopadmin": "shopadmin.errors.ShopErrorCode",
    "catalog": "catalog.errors.CatalogErrorCode",
    "localization": "localization.errors.LocalizationErrorCode",
    "channels": "channels.errors.ChannelsErrorCode",
    "orders": "orders.errors.OrdersErrorCode",
    "storefront": "storefront.errors.StorefrontErrorCode",
}
ENUMS = tuple(import_string(path) for path in APPS.values())

# (module path, source of the first argument) -> why no code can apply.
ALLOWLIST = {
    (
        "channels/listing_views.py",
        "form.errors.as_text()",
    ): "a merchant-UI view turning its own form's errors into a flash message; never reaches the API",
}

GETTEXT = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "format_lazy", "str"}
LOSSY_ATTRIBUTES = {"messages", "message_dict"}  # a ValidationError's messages without their codes


def _modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            parts = rel.split("/")
            if "tests" in parts or "migrations" in parts or "testing" in parts:
                continue
            name = parts[-1]
            if name in ("forms.py", "apps.py") or name.startswith("demo"):
                continue
            yield rel, path


def _django_validation_error_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """Names bound to Django's ValidationError, and module aliases whose `.ValidationError` is Django's."""
    names, modules = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in ("django.core.exceptions", "django.forms"):
            for alias in node.names:
                if alias.name == "ValidationError":
                    names.add(alias.asname or alias.name)
        elif isinstance(node, ast.ImportFrom) and node.module in ("django", "django.core"):
            for alias in node.names:
                if alias.name in ("forms", "exceptions"):
                    modules.add(alias.asname or alias.name)
    return names, modules


class _Checker:
    def __init__(self, tree: ast.Module, source: str):
        self.source = source
        self.names, self.modules = _django_validation_error_names(tree)
        self.parents: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node

    def is_validation_error(self, node: ast.AST) -> bool:
        if not isinstance(node, ast.Call):
            return False
        func = node.func
        if isinstance(func, ast.Name):
            return func.id in self.names
        return (
            isinstance(func, ast.Attribute)
            and func.attr == "ValidationError"
            and isinstance(func.value, ast.Name)
            and func.value.id in self.modules
        )

    def coded(self, call: ast.Call) -> bool:
        if any(keyword.arg == "code" for keyword in call.keywords):
            return True
        if not call.args:
            return False
        return self.container_ok(call.args[0], call)

    def message_ok(self, node: ast.AST, where: ast.AST) -> bool:
        """Is `node`, in the place of one error, a coded error (or a list of them)?"""
        if self.is_validation_error(node):
            return self.coded(node)
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            return all(self.message_ok(element, where) for element in node.elts)
        if isinstance(node, ast.ListComp | ast.GeneratorExp):
            return self.message_ok(node.elt, where)
        if isinstance(node, ast.Attribute):
            return node.attr not in LOSSY_ATTRIBUTES
        if isinstance(node, ast.Name):
            return self.variable_ok(node.id, where)
        if isinstance(node, ast.Subscript | ast.Starred):
            return self.message_ok(node.value, where)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("list", "tuple"):
            return all(self.message_ok(arg, where) for arg in node.args)  # a copy of a list of errors
        return False  # a string, a gettext call, a formatted message, a helper's message

    def container_ok(self, node: ast.AST, where: ast.AST) -> bool:
        """Is `node`, as ValidationError's first argument, a dict or list of coded errors?"""
        if isinstance(node, ast.Dict):
            return all(self.message_ok(value, where) for value in node.values if value is not None)
        if isinstance(node, ast.DictComp):
            return self.message_ok(node.value, where)
        return self.message_ok(node, where)

    def enclosing_function(self, node: ast.AST) -> ast.AST | None:
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                return node
        return None

    def variable_ok(self, name: str, where: ast.AST) -> bool:
        """What the enclosing function puts into `name` are coded errors (or containers of them)."""
        function = self.enclosing_function(where)
        if function is None:
            return True
        for node in ast.walk(function):
            for written in self._writes(node, name):
                if not self.container_ok(written, function):
                    return False
        return True

    @staticmethod
    def _is(node: ast.AST, name: str) -> bool:
        # `errors`, `errors[key]`, `errors.setdefault(key, [])`
        if isinstance(node, ast.Name):
            return node.id == name
        if isinstance(node, ast.Subscript):
            return _Checker._is(node.value, name)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "setdefault":
            return _Checker._is(node.func.value, name)
        return False

    def _writes(self, node: ast.AST, name: str):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if node.value is not None and any(self._is(target, name) for target in targets):
                yield node.value
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("append", "extend", "update", "insert")
            and self._is(node.func.value, name)
        ):
            yield from node.args[-1:]

    def problems(self, tree: ast.Module, rel: str):
        for node in ast.walk(tree):
            if not self.is_validation_error(node) or self.coded(node):
                continue
            first = ast.get_source_segment(self.source, node.args[0]) if node.args else ""
            if (rel, first) in ALLOWLIST:
                continue
            yield f"{rel}:{node.lineno}: ValidationError({first[:60]}…) has no code"


def _problems():
    out = []
    for rel, path in _modules():
        source = path.read_text()
        tree = ast.parse(source)
        out.extend(_Checker(tree, source).problems(tree, rel))
    return out


def test_every_validation_error_has_a_code():
    problems = _problems()
    assert not problems, "Give these errors a code from the app's errors.py:\n" + "\n".join(problems)


def test_allowlist_is_still_needed():
    """An allowlisted call that disappeared leaves a stale entry: remove it."""
    found = set()
    for rel, path in _modules():
        source = path.read_text()
        tree = ast.parse(source)
        checker = _Checker(tree, source)
        for node in ast.walk(tree):
            if checker.is_validation_error(node) and node.args:
                found.add((rel, ast.get_source_segment(source, node.args[0])))
    listed = {entry for entry in ALLOWLIST if entry[0].split("/")[0] in APPS}
    assert listed <= found, listed - found


@pytest.mark.parametrize("enum", ENUMS, ids=lambda e: e.__name__)
def test_codes_are_snake_case_and_unique(enum):
    for member in enum:
        assert member.value == member.name.lower(), member
        assert member.value.replace("_", "").isalnum() and member.value.islower(), member


def test_codes_do_not_clash_with_drf_or_problem_codes():
    from shopadmin.api.errors import ErrorCode

    everything = [member.value for enum in ENUMS for member in enum]
    # The same condition in two apps may share a code; within an app each value is one member.
    for enum in ENUMS:
        assert len({m.value for m in enum}) == len(list(enum)), enum
    assert not {"invalid", "required", "null", "blank"} & set(everything)
    assert not {str(code) for code in ErrorCode} & set(everything)


def test_checker_catches_an_uncoded_error():
    source = (
        "from django.core.exceptions import ValidationError\n"
        "def f(x):\n"
        "    errors = {}\n"
        "    errors['a'] = [_('bad')]\n"
        "    raise ValidationError(errors)\n"
        "def g(x):\n"
        "    raise ValidationError({'a': _('bad')})\n"
        "def h(x):\n"
        "    errors = {}\n"
        "    errors.setdefault('a', []).append(ValidationError(_('bad'), code=C.BAD))\n"
        "    raise ValidationError(errors)\n"
        "def i(x):\n"
        "    raise ValidationError({'a': [ValidationError(_('bad'), code=C.BAD)]})\n"
    )
    tree = ast.parse(source)
    lines = sorted((p.split(":")[1] for p in _Checker(tree, source).problems(tree, "x.py")), key=int)
    assert lines == ["5", "7"]


def test_docs_list_every_domain_code():
    """docs/api.md has a table row for every code of every app."""
    text = (ROOT / "docs" / "api.md").read_text()
    missing = [f"{enum.__name__}.{member.name}" for enum in ENUMS for member in enum if f"| `{member}` |" not in text]
    assert not missing, f"Add these codes to docs/api.md: {missing}"


@pytest.mark.django_db
def test_openapi_problem_schema_lists_every_domain_code(client):
    document = client.get("/api/schema/?format=json").json()
    problem = document["components"]["schemas"]["Problem"]
    assert "stable" in problem["properties"]["errors"]["items"]["properties"]["code"]["description"]
    for enum in ENUMS:
        assert enum.__name__ in problem["description"], enum
        missing = [str(member) for member in enum if f"`{member}`" not in problem["description"]]
        assert not missing, (enum, missing)
