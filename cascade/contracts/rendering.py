"""Contract and amendment templates: Django template syntax for the variables, then the light
markup of `markup.py` for the layout.

An operator writes `{{ occupant.nom }}`, `{% if occupation.date_sortie %}…{% endif %}`,
`{% for r in ressources %}…{% endfor %}` in a textarea. The text is rendered by a locked-down
engine, not Django's: no loaders (no `{% include %}`, `{% extends %}`), no `{% load %}`, and only
the tags and filters of `TAGS` and `FILTERS` (no `{% debug %}`, which prints the context and
`sys.modules`; no `{% url %}`; no `{% now %}`, which would make documents depend on the day they
are drawn). The context is a frozen copy made of mappings, tuples, strings, numbers and booleans
only: a template cannot reach settings, models or anything the caller did not put in it, and
cannot change the caller's dict (`{{ occupant.clear }}` would otherwise call `dict.clear`).
Every string of the context is escaped for the markup, so a value is printed as written.

A line holding nothing but tags (`{% if … %}`, `{% endfor %}`, `{# … #}`) leaves no blank line
behind, so a condition can wrap part of a paragraph without splitting it.

Filters added to Django's: `|en_ligne` writes a multi-line value (an address) on one line,
separated by commas; `|lignes` keeps its line breaks in the document.
"""

import functools
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from django.template import Context, Engine, Library, Node, NodeList, TemplateSyntaxError, defaultfilters, defaulttags
from django.template.base import FilterExpression, Token, Variable, VariableNode
from django.template.defaulttags import ForNode, IfNode, WithNode

from . import markup
from .markup import Block
from .variables import DIRECTIVES, SAMPLE_CONTEXT, VARIABLES

DEFAULTS = Path(__file__).parent / "defaults"
KINDS = ("convention_temporaire", "convention_precaire", "adhesion", "avenant")

TAGS = ("if", "for", "with", "comment", "firstof", "verbatim", "templatetag")
FILTERS = (
    "add", "capfirst", "cut", "default", "default_if_none", "first", "join", "last", "length", "lower",
    "pluralize", "slice", "title", "truncatechars", "truncatewords", "upper", "yesno",
)


class TemplateError(Exception):
    """The template cannot be rendered; the message, in French, says where and why."""


def default_template_text(kind: str) -> str:
    """The template Cascade ships for `kind` (convention_temporaire, convention_precaire, adhesion, avenant)."""
    if kind not in KINDS:
        raise ValueError(f"{kind!r} is not a kind of document template ({', '.join(KINDS)})")
    return (DEFAULTS / f"{kind}.txt").read_text(encoding="utf-8")


# ---------------------------------------------------------------- the locked-down engine


def _on_one_line(value: Any) -> str:
    return ", ".join(line.strip() for line in str(value).split("\n") if line.strip())


def _keep_lines(value: Any) -> str:
    # Every value is escaped (markup.escape), so no line of it ends with a bare backslash: the one
    # added here is the markup's line break.
    return "\\\n".join(line.rstrip() for line in str(value).split("\n"))


def _library() -> Library:
    library = Library()
    for name in TAGS:
        library.tags[name] = defaulttags.register.tags[name]
    for name in FILTERS:
        library.filters[name] = defaultfilters.register.filters[name]
    library.filter("en_ligne", _on_one_line)
    library.filter("lignes", _keep_lines)
    return library


class _LockedEngine(Engine):
    default_builtins = []

    def get_template_builtins(self, builtins):
        return [_library()]


@functools.cache
def _engine() -> Engine:
    # debug=True only adds where an error is (token positions), which the problems report.
    return _LockedEngine(debug=True, loaders=[], libraries={}, autoescape=False, string_if_invalid="")


# A line of tags only loses its line break, replaced by this character (same length, so the
# positions Django reports still point into the operator's text), removed after rendering.
_JOINED = "\ue000"
_TAGS_ONLY = re.compile(r"^[ \t]*(?:(?:\{%.*?%\}|\{#.*?#\})[ \t]*)+$", re.MULTILINE)


def _normalised(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace(_JOINED, "")


def _join_tag_lines(text: str) -> str:
    out, last = [], 0
    for match in _TAGS_ONLY.finditer(text):
        end = match.end()
        if end < len(text) and text[end] == "\n":
            out.append(text[last:end] + _JOINED)
            last = end + 1
    out.append(text[last:])
    return "".join(out)


def _frozen(value: Any) -> Any:
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): _frozen(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    if value is None or isinstance(value, bool | int):
        return value
    return markup.escape(str(value))


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _compile(text: str):
    """The compiled template of normalised `text`; TemplateError with the line when it does not parse."""
    try:
        return _engine().from_string(_join_tag_lines(text))
    except TemplateSyntaxError as error:
        raise TemplateError(_syntax_problem(error, text)) from None


# Bounds that keep any template cheap to render: a document is a few pages, its loops run over
# the lists of the context (spaces, amounts, changes, signers), two deep at most.
MAX_TEMPLATE = 100_000
MAX_DOCUMENT = 300_000
MAX_LOOP_DEPTH = 2


def render_text(template_text: str, context: Mapping[str, Any]) -> str:
    """The markup text of the template filled in with `context` (see VARIABLES)."""
    text = _normalised(template_text)
    template = _compile(text)
    problems = _guard_problems(template, text)
    if problems:
        raise TemplateError(problems[0])
    frozen = {str(k): _frozen(v) for k, v in context.items()}
    try:
        rendered = template.render(Context(frozen, autoescape=False))
    except Exception as error:  # an operator's template must never become a server error
        raise TemplateError(_render_problem(error, text)) from None
    if len(rendered) > MAX_DOCUMENT:
        raise TemplateError(f"le document rempli dépasse {MAX_DOCUMENT:,} caractères".replace(",", "\u202f"))
    return rendered.replace(_JOINED, "")


def _guard_problems(template, text: str) -> list[str]:
    """What would make rendering costly: a template too long, loops over literal texts or nested deeper
    than MAX_LOOP_DEPTH (each level multiplies the work)."""
    if len(text) > MAX_TEMPLATE:
        return [f"le modèle dépasse {MAX_TEMPLATE:,} caractères".replace(",", "\u202f")]
    problems = []

    def walk(nodelist, depth: int) -> None:
        for node in nodelist:
            if isinstance(node, ForNode):
                line = _line_of(text, node.token.position[0]) if node.token and node.token.position else 0
                if not isinstance(node.sequence.var, Variable):
                    problems.append(f"Ligne {line} : une boucle {{% for %}} parcourt une liste du document "
                                    f"(ressources, montants.composantes, avenant.modifications, signataires), "
                                    f"pas un texte")
                if depth + 1 > MAX_LOOP_DEPTH:
                    problems.append(f"Ligne {line} : au plus {MAX_LOOP_DEPTH} boucles {{% for %}} imbriquées")
                walk(node.nodelist_loop, depth + 1)
                walk(node.nodelist_empty, depth)
                continue
            for attribute in node.child_nodelists:  # an {% if %}'s "nodelist" holds all its branches
                walk(getattr(node, attribute, None) or [], depth)

    walk(template.nodelist, 0)
    return problems


def render_blocks(template_text: str, context: Mapping[str, Any]) -> list[Block]:
    """The blocks of the document: the template's text and the tables of its directives."""
    return markup.parse(render_text(template_text, context), directive_blocks(context))


# ---------------------------------------------------------------- problems

_SYNTAX_MESSAGES = [
    (re.compile(r"Unclosed tag on line \d+: '(\w+)'\. Looking for one of: (.*)\."),
     lambda m: f"la balise « {{% {m[1]} %}} » n'est pas fermée (il manque « {{% end{m[1]} %}} »)"),
    (re.compile(r"Invalid block tag on line \d+: '([^']*)', expected (.*)\. Did you.*", re.S),
     lambda m: f"balise « {{% {m[1]} %}} » inattendue ici (attendu : {_names(m[2])})"),
    (re.compile(r"Invalid block tag on line \d+: '([^']*)'\. Did you.*", re.S),
     lambda m: f"balise « {{% {m[1]} %}} » inconnue ou sans balise ouvrante"),
    (re.compile(r"Invalid filter: '([^']*)'"), lambda m: f"filtre inconnu « |{m[1]} »"),
    (re.compile(r"Could not parse the remainder: '.*' from '(.*)'", re.S),
     lambda m: f"expression illisible « {m[1]} »"),
    (re.compile(r"Variables and attributes may not begin with underscores: '(.*)'"),
     lambda m: f"un nom ne peut pas commencer par « _ » : « {m[1]} »"),
    (re.compile(r"Empty variable tag on line \d+"), lambda m: "balise « {{ }} » vide"),
    (re.compile(r"Empty block tag on line \d+"), lambda m: "balise « {% %} » vide"),
]


def _names(expected: str) -> str:
    names = [n.strip(" '") for n in re.split(r",| or ", expected) if n.strip(" '")]
    return ", ".join(f"{{% {n} %}}" for n in names)


def _where(error: Exception, text: str) -> str:
    debug = getattr(error, "template_debug", None)
    return f"Ligne {_line_of(text, debug['start'])} : " if debug else ""


def _syntax_problem(error: TemplateSyntaxError, text: str) -> str:
    message = str(error)
    for pattern, french in _SYNTAX_MESSAGES:
        match = pattern.fullmatch(message)
        if match:
            message = french(match)
            break
    else:
        message = f"erreur de syntaxe ({message})"
    return _where(error, text) + message


def _render_problem(error: Exception, text: str) -> str:
    return f"{_where(error, text)}le modèle ne peut pas être rempli ({error})"


def check_template(text: str) -> list[str]:
    """What is wrong with a template, in French, each problem with its line; empty when it is sound."""
    text = _normalised(text)
    try:
        template = _compile(text)
    except TemplateError as error:
        return [str(error)]
    problems = _guard_problems(template, text)
    problems += [f"Ligne {text.count(chr(10), 0, m.start()) + 1} : « {{{{ » sans « }}}} » qui le ferme"
                 for m in re.finditer(r"\{\{(?![^\n]*?\}\})", text)]
    problems += [f"Ligne {line} : variable inconnue « {name} »" for line, name in _unknown_variables(template, text)]
    problems += [f"Ligne {line} : « {name} » est une liste ou un groupe de valeurs : écrivez un de ses champs, "
                 f"ou parcourez-la avec {{% for … %}}" for line, name in _whole_lists(template, text)]
    known = {name for name, _d in DIRECTIVES}
    problems += [f"Ligne {line} : directive inconnue « ::{name} » (possibles : {', '.join(sorted(known))})"
                 for line, name in markup.directive_lines(text) if f"::{name}" not in known]
    if not problems:
        try:
            render_text(text, SAMPLE_CONTEXT)
        except TemplateError as error:
            problems.append(str(error))
    return list(dict.fromkeys(problems))


# What the variables look like: a dict per mapping, a _List per list, None for a value; ANY for
# names whose shape is not known (a {% with %} of a filtered value, a for loop over two names…).
class _List:
    def __init__(self, item: Any) -> None:
        self.item = item


ANY = object()
_FORLOOP = {"counter": None, "counter0": None, "revcounter": None, "revcounter0": None, "first": None,
            "last": None, "length": None, "parentloop": ANY}
_LITERALS = {"True": None, "False": None, "None": None}


@functools.cache
def _schema() -> dict[str, Any]:
    root: dict[str, Any] = {}
    for name, _description in VARIABLES:
        node = root
        parts = name.split(".")
        for i, part in enumerate(parts):
            key, is_list = part.removesuffix("[]"), part.endswith("[]")
            last = i == len(parts) - 1
            if is_list:
                existing = node.get(key)
                node[key] = existing if isinstance(existing, _List) else _List({})
                node = node[key].item
            elif last:
                node.setdefault(key, None)
            else:
                if not isinstance(node.get(key), dict):
                    node[key] = {}
                node = node[key]
    return root


def _shape(lookups: tuple[str, ...], scope: Mapping[str, Any]) -> Any:
    """The shape a dotted name points to, or KeyError when nothing is there."""
    shape: Any = scope[lookups[0]]
    for part in lookups[1:]:
        if shape is ANY:
            return ANY
        if isinstance(shape, dict) and part in shape:
            shape = shape[part]
        elif isinstance(shape, _List) and part.isdigit():
            shape = shape.item
        else:
            raise KeyError(part)
    return shape


def _variables(expression: FilterExpression) -> Iterator[Variable]:
    if isinstance(expression.var, Variable) and expression.var.lookups:
        yield expression.var
    for _filter, arguments in expression.filters:
        for is_lookup, argument in arguments:
            if is_lookup and argument.lookups:
                yield argument


def _expressions(obj: Any, depth: int = 0) -> Iterator[FilterExpression]:
    """The filter expressions held by a node or an if-condition, not those of the nodes inside it."""
    if isinstance(obj, FilterExpression):
        yield obj
    elif isinstance(obj, list | tuple):
        for item in obj:
            yield from _expressions(item, depth + 1)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from _expressions(item, depth + 1)
    elif hasattr(obj, "__dict__") and not isinstance(obj, NodeList | Token | type) and depth < 30:
        for attribute, item in vars(obj).items():
            if attribute not in ("origin", "token") and not isinstance(item, Node):
                yield from _expressions(item, depth + 1)


def _bound_shape(expression: FilterExpression, scope: Mapping[str, Any]) -> Any:
    if expression.filters or not isinstance(expression.var, Variable) or not expression.var.lookups:
        return ANY
    try:
        return _shape(expression.var.lookups, scope)
    except KeyError:
        return ANY


def _whole_lists(template, text: str) -> list[tuple[int, str]]:
    """Names printed whole that are lists or groups of values ({{ ressources }}, {{ occupant }})."""
    return _unknown_variables(template, text, whole=True)


def _unknown_variables(template, text: str, *, whole: bool = False) -> list[tuple[int, str]]:
    """(line, name) of each variable the template uses that the context does not have; with `whole`,
    of each list or group printed as such instead."""
    found: dict[tuple[int, str], None] = {}

    def check(expressions, scope, offset: int) -> None:
        if whole:
            return
        for expression in expressions:
            for variable in _variables(expression):
                try:
                    _shape(variable.lookups, scope)
                except KeyError:
                    found[(_line_of(text, offset), variable.var)] = None

    def start(node: Node) -> int:
        token = getattr(node, "token", None)
        return token.position[0] if token is not None and token.position else 0

    def walk(nodelist, scope: Mapping[str, Any]) -> None:
        for node in nodelist:
            if isinstance(node, ForNode):
                check([node.sequence], scope, start(node))
                shape = _bound_shape(node.sequence, scope)
                item = shape.item if isinstance(shape, _List) and len(node.loopvars) == 1 else ANY
                walk(node.nodelist_loop, {**scope, "forloop": _FORLOOP, **dict.fromkeys(node.loopvars, item)})
                walk(node.nodelist_empty, scope)
            elif isinstance(node, WithNode):
                check(node.extra_context.values(), scope, start(node))
                bound = {name: _bound_shape(e, scope) for name, e in node.extra_context.items()}
                walk(node.nodelist, {**scope, **bound})
            elif isinstance(node, IfNode):
                for condition, nodelist in node.conditions_nodelists:
                    # An {% elif %}'s condition is on the line where its branch begins.
                    check(_expressions(condition), scope, start(nodelist[0]) if nodelist else start(node))
                    walk(nodelist, scope)
            else:
                if whole:
                    if isinstance(node, VariableNode) and isinstance(_bound_shape(node.filter_expression, scope),
                                                                     dict | _List):
                        found[(_line_of(text, start(node)), node.filter_expression.var.var)] = None
                else:
                    check(_expressions(node), scope, start(node))
                for attribute in node.child_nodelists:
                    walk(getattr(node, attribute, None) or [], scope)

    walk(template.nodelist, {**_LITERALS, **_schema()})
    return sorted(found)


# ---------------------------------------------------------------- directives

PERIOD_COLUMNS = {"trimestrielle": "Par trimestre HT", "semestrielle": "Par semestre HT", "annuelle": "Par an HT"}


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _get(context: Mapping[str, Any], *path: str) -> Any:
    value: Any = context
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def _table(columns: list[str], align: list[str], rows: list[list[str]], *, footer: list[str] | None = None,
           note: str | None = None) -> Block:
    return {"type": "table", "columns": columns, "align": align, "rows": rows, "footer": footer, "note": note or None}


def _resources(context: Mapping[str, Any]) -> Block:
    rows = []
    for resource in _get(context, "ressources") or []:
        where = ", ".join(t for t in (_text(resource.get("batiment")), _text(resource.get("etage"))) if t)
        rows.append([_text(resource.get("reference")), _text(resource.get("type")), where or "—",
                     _text(resource.get("surface")) or "—"])
    total = _text(_get(context, "surface_totale"))
    return _table(["Référence", "Type", "Bâtiment, étage", "Surface"], ["left", "left", "left", "right"], rows,
                  footer=["Surface totale", "", "", total] if total and rows else None,
                  note=None if rows else "Aucun local n'est mis à disposition.")


def _amounts(context: Mapping[str, Any]) -> Block:
    amounts = _get(context, "montants") or {}
    components = amounts.get("composantes") or []
    frequency = _text(_get(context, "occupation", "frequence"))
    mention = _text(_get(context, "tva", "mention"))
    if frequency in ("", "mensuelle"):
        return _table(["Composante", "Montant mensuel HT"], ["left", "right"],
                      [[_text(c.get("libelle")), _text(c.get("mensuel_ht"))] for c in components],
                      footer=["Total", _text(amounts.get("total_mensuel_ht"))], note=mention)
    period = PERIOD_COLUMNS.get(frequency, f"Par échéance ({frequency}) HT")
    return _table(["Composante", "Montant mensuel HT", period], ["left", "right", "right"],
                  [[_text(c.get("libelle")), _text(c.get("mensuel_ht")), _text(c.get("periode_ht"))]
                   for c in components],
                  footer=["Total", _text(amounts.get("total_mensuel_ht")), _text(amounts.get("total_periode_ht"))],
                  note=mention)


def _changes(context: Mapping[str, Any]) -> Block:
    changes = _get(context, "avenant", "modifications") or []
    effective = _text(_get(context, "avenant", "date_effet"))
    return _table(["Stipulation", "Avant l'avenant", f"À compter du {effective}" if effective else "Après l'avenant"],
                  ["left", "left", "left"],
                  [[_text(c.get("objet")), _text(c.get("ancien")), _text(c.get("nouveau"))] for c in changes],
                  note=None if changes else "Aucune modification.")


def _signatures(context: Mapping[str, Any]) -> Block:
    return {"type": "signatures", "mention": "Signé électroniquement", "signers": [
        {"party": _text(s.get("partie")), "organisation": _text(s.get("organisation")), "name": _text(s.get("nom")),
         "quality": _text(s.get("qualite"))} for s in _get(context, "signataires") or []]}


def directive_blocks(context: Mapping[str, Any]) -> dict[str, Block]:
    """The blocks the directives of a template stand for, built from `context`."""
    return {"ressources": _resources(context), "montants": _amounts(context), "modifications": _changes(context),
            "signatures": _signatures(context)}
