"""The YAML mapping: from a CRM export's columns to 123-SMS contacts and groups.

Validated once, at the edge: :func:`load_mapping` returns a typed :class:`Mapping` or
raises :class:`MappingError` listing every problem with its line and, for misspelt
keys, a suggestion. :func:`check_columns` does the same for column names against the
file actually read. Nothing downstream looks at raw dicts.

The file is untrusted text: it must be UTF-8, nest at most :data:`MAX_DEPTH` levels,
use at most :data:`MAX_ALIASES` YAML aliases, hold no key twice and no Python tags
(``safe_load``); templates and ``matches`` patterns are checked here, not when the
first row is read.
"""

from __future__ import annotations

import difflib
import re
import string
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sms123_sync.contact import FIELD_NAMES
from sms123_sync.errors import InputError, MappingError
from sms123_sync.i18n import Joined, Text
from sms123_sync.i18n import lazy_gettext as _
from sms123_sync.sources.base import SourceOptions
from sms123_sync.sources.files import require_file
from sms123_sync.text import printable

#: Deepest nesting a mapping may use; a real one needs four levels. Deeper text is refused
#: before it is built, as the YAML builder recurses once per level.
MAX_DEPTH = 20
#: Most YAML aliases (``*name``) a mapping may use: a few are handy, thousands are a bomb.
MAX_ALIASES = 100


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


#: The number types ``phone.types`` accepts: libphonenumber's, lower-case. ``mobile`` also
#: covers FIXED_LINE_OR_MOBILE (plans, such as the US one, that do not tell them apart).
PHONE_TYPE_NAMES = (
    "mobile",
    "fixed_line",
    "voip",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "unknown",
)


class PhoneOptions(_Strict):
    region: str = "FR"
    #: Numbers of other types are rejects (``landline``): only mobiles receive SMS.
    types: list[str] = Field(default_factory=lambda: ["mobile"])

    @field_validator("types")
    @classmethod
    def _known_types(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError(_("types needs at least one number type, e.g. [mobile]"))
        for name in value:
            if name not in PHONE_TYPE_NAMES:
                hint = difflib.get_close_matches(name, PHONE_TYPE_NAMES, n=1)
                known = ", ".join(PHONE_TYPE_NAMES)
                if hint:
                    said = _("unknown number type {name}; did you mean {hint}? known types: {known}")
                else:
                    said = _("unknown number type {name}; known types: {known}")
                raise ValueError(said.format(name=repr(name), hint=repr(hint[0]) if hint else "", known=known))
        return list(dict.fromkeys(value))

    @property
    def accepted(self) -> frozenset[str]:
        return frozenset(self.types)

    @field_validator("region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        import phonenumbers

        if value.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(_("unknown region {value}; use an ISO code such as FR, BE, CH").format(value=repr(value)))
        return value.upper()


class FromColumn(_Strict):
    column: str
    format: str | None = None


class FromTemplate(_Strict):
    """Text built from columns: ``{Code postal} {Ville}``; ``{{`` and ``}}`` are literal braces."""

    template: str

    @field_validator("template")
    @classmethod
    def _well_formed(cls, value: str) -> str:
        try:
            parts = list(string.Formatter().parse(value))
        except ValueError as exc:
            raise ValueError(
                _(
                    "{value}: {problem}; write a column between single braces ({{Ville}}), and {{{{ or }}}} "
                    "for a brace of your own"
                ).format(value=repr(value), problem=exc)
            ) from None
        literal_runs = "".join(literal + ("\0" if name is not None else "") for literal, name, _, _ in parts)
        doubled = re.search(r"\{([^{}\0]+)\}", literal_runs)
        if doubled:  # "{{x}}" reads as the text "{x}": surely meant as the column x
            inner = doubled.group(1)
            raise ValueError(
                _(
                    "{value}: double braces give the literal text {{{inner}}}, not the column {column}; "
                    "write a column between single braces: {{{inner}}}"
                ).format(value=repr(value), inner=inner, column=repr(inner))
            )
        for _literal, name, spec, conversion in parts:
            if name == "":
                raise ValueError(
                    _("{value}: empty braces {{}}; put a column name between them: {{Ville}}").format(value=repr(value))
                )
            if conversion or spec:
                shown = name or ""
                written = f"{{{shown}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}}"
                raise ValueError(
                    _(
                        "{value}: {written} has a format or conversion, which templates do not take; write {{{name}}}"
                    ).format(value=repr(value), written=written, name=shown)
                )
        return value

    def columns(self) -> list[str]:
        return [name for _, name, _, _ in string.Formatter().parse(self.template) if name]


class FromValue(_Strict):
    value: str


class PhoneColumns(_Strict):
    """Several phone columns in order of preference: the first that holds a number of an
    accepted type (``phone.types``) gives the contact's number."""

    columns: list[str]

    @field_validator("columns")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError(_("list at least one phone column, e.g. columns: [Mobile, Téléphone]"))
        repeated = [name for name, count in Counter(value).items() if count > 1]
        if repeated:
            raise ValueError(
                _("column {column} is listed twice; list each phone column once").format(column=repr(repeated[0]))
            )
        return value


FieldSource = str | FromColumn | FromTemplate | FromValue


class Fields(_Strict):
    numero: str | FromColumn | PhoneColumns
    nom: FieldSource | None = None
    prenom: FieldSource | None = None
    societe: FieldSource | None = None
    datea: FieldSource | None = None
    v1: FieldSource | None = None
    v2: FieldSource | None = None
    v3: FieldSource | None = None

    @field_validator("numero", *FIELD_NAMES, mode="before")
    @classmethod
    def _pick_kind(cls, value: object, info: ValidationInfo) -> object:
        """Chooses the field's kind from its key, so a mistake gives one clear message."""
        if info.field_name == "numero" and isinstance(value, list):
            raise ValueError(_("several phone columns are written {columns: [Mobile, Téléphone]}"))
        if not isinstance(value, dict):
            return value
        kinds: dict[str, type[BaseModel]] = {"column": FromColumn, "template": FromTemplate, "value": FromValue}
        if info.field_name == "numero":
            kinds = {"column": FromColumn, "columns": PhoneColumns}
        for key, kind in kinds.items():
            if key in value:
                return kind.model_validate(value)
        unknown = ", ".join(map(repr, value))
        hint = difflib.get_close_matches(next(iter(value), ""), [*kinds, "format"], n=1)
        shapes = ", ".join(f"{{{key}: ...}}" for key in kinds)
        if hint:
            said = _("a field is a column name, or one of {shapes}; got {unknown}; did you mean {hint}?")
        else:
            said = _("a field is a column name, or one of {shapes}; got {unknown}")
        raise ValueError(said.format(shapes=shapes, unknown=unknown, hint=repr(hint[0]) if hint else ""))

    def sources(self) -> dict[str, FieldSource]:
        """The contact fields (``numero`` excluded) that the mapping fills."""
        return {name: src for name in FIELD_NAMES if (src := getattr(self, name)) is not None}

    def field_columns(self) -> dict[str, str]:
        """The columns the seven fields read, each with the first place that reads it
        (``nom``, ``datea.column``, ``v2.template``)."""
        columns: dict[str, str] = {}
        for name, src in self.sources().items():
            if isinstance(src, str):
                columns.setdefault(src, name)
            elif isinstance(src, FromColumn):
                columns.setdefault(src.column, f"{name}.column")
            elif isinstance(src, FromTemplate):
                for column in src.columns():
                    columns.setdefault(column, f"{name}.template")
        return columns

    @property
    def phone_columns(self) -> list[str]:
        """The phone columns, in order of preference."""
        if isinstance(self.numero, str):
            return [self.numero]
        if isinstance(self.numero, PhoneColumns):
            return list(self.numero.columns)
        return [self.numero.column]

    @property
    def phone_column(self) -> str:
        """The first (preferred) phone column: where a row's phone problems are reported."""
        return self.phone_columns[0]


_LEVEL_NEEDS_SEPARATOR = _("level: {level} needs a level_separator (the text between levels, such as '/')")

#: How a hierarchical group value (``Bénévoles / Cuisine``) becomes a group name.
GroupLevel = Literal["full", "first", "last"]


class GroupColumn(_Strict):
    """One column that names groups: split on ``separator`` into values, each of which may
    be a path of levels (``Bénévoles / Cuisine``) of which ``level`` keeps the whole, the
    first or the last."""

    column: str
    separator: str | None = None
    level_separator: str | None = None
    level: GroupLevel = "full"

    @model_validator(mode="after")
    def _level_needs_separator(self) -> GroupColumn:
        if self.level != "full" and not self.level_separator:
            raise ValueError(_LEVEL_NEEDS_SEPARATOR.format(level=self.level))
        return self


class Groups(_Strict):
    column: str | None = None
    separator: str | None = None
    level_separator: str | None = None
    level: GroupLevel = "full"
    columns: list[str | GroupColumn] = Field(default_factory=list)
    rename: dict[str, str] = Field(default_factory=dict)
    drop: list[str] = Field(default_factory=list)
    always: list[str] = Field(default_factory=list)

    @field_validator("columns", mode="before")
    @classmethod
    def _column_entries(cls, value: object) -> object:
        """Reads each entry as a column name or a ``{column: …}`` table, so a mistake in
        one gives one message about that entry."""
        if not isinstance(value, list):
            return value
        entries: list[object] = []
        problems: list[Text] = []
        for i, entry in enumerate(value):
            if isinstance(entry, str):
                entries.append(entry)
            elif not isinstance(entry, dict):
                problems.append(
                    _("[{i}] is {shown}; give a column name or {{column: …, separator: …}}").format(
                        i=i, shown=_shown(entry)
                    )
                )
            else:
                try:
                    entries.append(GroupColumn.model_validate(entry))
                except ValidationError as exc:
                    problems.extend(
                        _("[{i}]: {problem}").format(i=i, problem=_entry_problem(err)) for err in exc.errors()
                    )
        if problems:
            raise ValueError(Joined("; ", problems))
        return entries

    @model_validator(mode="after")
    def _some_group(self) -> Groups:
        if self.column is None and not self.columns and not self.always:
            raise ValueError(_("groups needs a column, a 'columns' list, an 'always' list, or some of these"))
        if self.column is None and (self.level_separator or self.level != "full"):
            raise ValueError(_("level_separator and level apply to 'column', which is not given"))
        if self.level != "full" and not self.level_separator:
            raise ValueError(_LEVEL_NEEDS_SEPARATOR.format(level=self.level))
        for name in [*self.always, *self.rename.values()]:
            if "--" in name:
                raise ValueError(
                    _("group name {name} contains '--', the API's group separator").format(name=repr(name))
                )
        return self

    def sources(self) -> list[GroupColumn]:
        """Every column that names groups, ``column`` first, each with how to split it."""
        found = []
        if self.column is not None:
            found.append(GroupColumn(column=self.column, separator=self.separator, **self._levels()))
        found.extend(GroupColumn(column=c) if isinstance(c, str) else c for c in self.columns)
        return found

    def _levels(self) -> dict[str, Any]:
        return {"level_separator": self.level_separator, "level": self.level}


def _entry_problem(err: Any) -> Text:
    """One problem of a ``groups.columns`` entry, in the words :func:`_describe` uses."""
    key = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        hint = difflib.get_close_matches(key, list(GroupColumn.model_fields), n=1)
        if hint:
            return _("unknown key {key}; did you mean {hint}?").format(key=repr(key), hint=repr(hint[0]))
        return _("unknown key {key}").format(key=repr(key))
    if err["type"] == "missing":
        return _("{where}: required key is missing").format(where=key)
    reason = _reason(err)
    return _("{where}: {problem}").format(where=key, problem=reason) if key else reason


#: Cells a ``{column: X, is: true}`` filter reads as yes, and as no, compared without
#: case: Excel's TRUE/FALSE, French and English words, 1/0, a cross in a checkbox column.
#: An empty cell is no; any other value is neither (a warning, and the rule does not hold).
TRUE_WORDS = frozenset({"true", "vrai", "oui", "o", "yes", "y", "1", "x", "✓", "✔"})
FALSE_WORDS = frozenset({"false", "faux", "non", "n", "no", "0", ""})


_ATTRIBUTE = {"in": "in_", "is": "is_"}  # operators that are Python keywords
_OPERATORS = ("equals", "not_equals", "in", "not_in", "empty", "not_empty", "matches", "is")


class FilterRule(_Strict):
    column: str
    equals: str | None = None
    not_equals: str | None = None
    in_: Annotated[list[str] | None, Field(alias="in")] = None
    not_in: list[str] | None = None
    empty: bool | None = None
    not_empty: bool | None = None
    matches: str | None = None
    is_: Annotated[bool | None, Field(alias="is", strict=False)] = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one_operator(self) -> FilterRule:
        given = [op for op in _OPERATORS if getattr(self, _ATTRIBUTE.get(op, op)) is not None]
        if len(given) != 1:
            raise ValueError(
                _("a filter rule needs exactly one of {operators} (found {found})").format(
                    operators=", ".join(_OPERATORS), found=given or _("none")
                )
            )
        if self.matches is not None:
            _check_pattern(self.matches)
        return self

    @property
    def operator(self) -> str:
        return next(op for op in _OPERATORS if getattr(self, _ATTRIBUTE.get(op, op)) is not None)


def _check_pattern(pattern: str) -> None:
    """Refuses a ``matches`` pattern the linear-time engine (RE2, through Arrow) cannot run.

    Look-arounds and back-references need Python's backtracking engine, where a pattern
    such as ``^(?=a)(a+)+$`` takes minutes on a 30-letter cell: they are refused, not run.
    """
    try:
        pc.match_substring_regex(pa.array([""], pa.string()), pattern)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        reason = printable(str(exc).split(":", 1)[-1].strip(), 200)
        raise ValueError(
            _(
                "'matches' pattern {pattern} cannot be run by the regular-expression engine "
                "(RE2: {reason}); look-ahead (?=…), look-behind (?<=…) and back-references (\\1) are not "
                "supported: rewrite the pattern without them, or use in/equals"
            ).format(pattern=repr(printable(pattern)), reason=reason)
        ) from None


class Mapping(_Strict):
    """A validated mapping file."""

    source: SourceOptions = Field(default_factory=SourceOptions)
    phone: PhoneOptions = Field(default_factory=PhoneOptions)
    identity: str | None = None
    # One contact per entry, each with its own phone column (a school list's mother and
    # father); declared before ``fields`` so that validating ``fields`` can see it.
    contacts: list[Fields] | None = None
    fields: Fields | None = Field(default=None, validate_default=True)
    groups: Groups
    filter: list[FilterRule] = Field(default_factory=list)
    mode: Literal["mirror", "upsert"] = "mirror"
    account: Literal["shared", "exclusive"] = "shared"

    @field_validator("contacts")
    @classmethod
    def _distinct_people(cls, value: list[Fields] | None) -> list[Fields] | None:
        if value is None:
            return value
        if not value:
            raise ValueError(_("give at least one entry, each with its own numero column"))
        seen: set[str] = set()
        for person in value:
            if person.phone_column in seen:
                raise ValueError(
                    _(
                        "two entries read the phone column {column}; each entry is one person "
                        "with a phone column of its own"
                    ).format(column=repr(person.phone_column))
                )
            seen.add(person.phone_column)
        return value

    @field_validator("fields")
    @classmethod
    def _fields_or_contacts(cls, value: Fields | None, info: ValidationInfo) -> Fields | None:
        """Exactly one of ``fields`` (one contact per row) and ``contacts`` (one per entry)."""
        if "contacts" not in info.data:  # given but invalid: its own error says why
            return value
        if value is None and info.data["contacts"] is None:
            raise ValueError(
                _(
                    "required key is missing: give 'fields' (one contact per row), or 'contacts' "
                    "(a list, one contact per phone column)"
                )
            )
        if value is not None and info.data["contacts"] is not None:
            raise ValueError(
                _(
                    "give 'fields' or 'contacts', not both; with 'contacts', each entry holds all of its "
                    "person's fields (a YAML anchor, &parent then <<: *parent, shares the common ones)"
                )
            )
        return value

    @property
    def people(self) -> list[Fields]:
        """The contacts each row makes: ``fields`` alone, or each entry of ``contacts``."""
        if self.contacts is not None:
            return list(self.contacts)
        return [self.fields] if self.fields is not None else []  # one of them is set: _fields_or_contacts

    def columns_used(self) -> dict[str, str]:
        """Every column the mapping reads, with where it is used."""
        used: dict[str, str] = {}
        where = ["fields"] if self.contacts is None else [f"contacts[{i}]" for i in range(len(self.contacts))]
        for place, person in zip(where, self.people, strict=True):
            if isinstance(person.numero, PhoneColumns):
                for j, column in enumerate(person.numero.columns):
                    used.setdefault(column, f"{place}.numero.columns[{j}]")
            else:
                used.setdefault(person.phone_column, f"{place}.numero")
        if self.identity:
            used.setdefault(self.identity, "identity")
        for place, person in zip(where, self.people, strict=True):
            for column, field in person.field_columns().items():
                used.setdefault(column, f"{place}.{field}")
        if self.groups.column:
            used.setdefault(self.groups.column, "groups.column")
        for i, entry in enumerate(self.groups.columns):
            used.setdefault(entry if isinstance(entry, str) else entry.column, f"groups.columns[{i}]")
        for i, rule in enumerate(self.filter):
            used.setdefault(rule.column, f"filter[{i}].column")
        return used


def load_mapping(path: Path | str) -> Mapping:
    """Reads and validates a mapping file; all problems are reported together."""
    path = require_file(path, "mapping")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MappingError(str(path), [_("cannot read the file: {reason}").format(reason=exc.strerror)]) from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise MappingError(str(path), [_("the file is saved as UTF-16; save the mapping as UTF-8")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise MappingError(
            str(path),
            [
                _(
                    "line {line}: byte {byte} is not UTF-8 (the file was saved as Latin-1 or "
                    "Windows-1252?); save the mapping as UTF-8"
                ).format(line=line, byte=f"0x{data[exc.start]:02x}")
            ],
        ) from None
    return parse_mapping(text, str(path))


def parse_mapping(text: str, name: str = "<mapping>") -> Mapping:
    """Validates mapping text; ``name`` is used in messages."""
    try:
        _check_shape(text, name)
        tree = yaml.compose(text)
        _check_duplicate_keys(tree, name)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = printable(str(getattr(exc, "problem", None) or exc), 300)
        if mark is not None:
            said = _("line {line}: not valid YAML ({problem})").format(line=mark.line + 1, problem=problem)
        else:
            said = _("not valid YAML ({problem})").format(problem=problem)
        raise MappingError(name, [said]) from None
    except RecursionError:  # a shape _check_shape did not foresee: refused all the same
        raise MappingError(
            name, [_("nested too deeply (a mapping needs at most {n} levels)").format(n=MAX_DEPTH)]
        ) from None
    if not isinstance(data, dict):
        raise MappingError(name, [_("the mapping must be a YAML mapping with at least 'fields' and 'groups'")])
    try:
        return Mapping.model_validate(data)
    except ValidationError as exc:
        raise SchemaError(name, _describe_all(exc.errors(), tree), data) from None


class SchemaError(MappingError):
    """The YAML was read but does not fit the schema; ``data`` is what was read, so the
    columns it names can still be checked against the export and reported with it."""

    def __init__(self, path: str, problems: list[Text], data: dict[str, Any]) -> None:
        super().__init__(path, problems)
        self.data = data


def _check_shape(text: str, name: str) -> None:
    """Refuses nesting deeper than MAX_DEPTH and more than MAX_ALIASES aliases, reading the
    YAML as a flat stream of events (the parser keeps its own stack; the builder recurses)."""
    depth = aliases = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        line = event.start_mark.line + 1 if event.start_mark is not None else 0
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise MappingError(
                    name,
                    [
                        _("line {line}: nested more than {n} levels deep; a mapping needs four at most").format(
                            line=line, n=MAX_DEPTH
                        )
                    ],
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise MappingError(
                    name,
                    [
                        _("line {line}: more than {n} aliases (*name); write values out").format(
                            line=line, n=MAX_ALIASES
                        )
                    ],
                )


def _check_duplicate_keys(tree: yaml.Node | None, name: str) -> None:
    """A key given twice in one YAML mapping: YAML keeps the last silently; we refuse."""
    problems: list[tuple[int, Text]] = []
    pending = [tree] if tree is not None else []
    seen: set[int] = set()  # an alias is the same node again: visit it once, or a bomb explodes here
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first_line: dict[str, int] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                    line = key.start_mark.line + 1
                    if key.value in first_line:
                        said = _(
                            "line {line}: key {key} appears twice in one mapping (first on line {first}); keep one"
                        )
                        problems.append(
                            (line, said.format(line=line, key=repr(printable(key.value)), first=first_line[key.value]))
                        )
                    first_line.setdefault(key.value, line)
                pending.append(value)
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)
    if problems:
        ordered = sorted(problems, key=lambda p: p[0])
        raise MappingError(name, [text for _line, text in ordered])


def _describe_all(errors: list[Any], tree: yaml.Node | None) -> list[Text]:
    """One message per place in the file: a value of the wrong type fails every member of
    a union, and pydantic reports each by its class name; the user gets one line saying
    what the key takes."""
    by_place: dict[str, list[Any]] = {}
    for err in errors:
        by_place.setdefault(_where(err), []).append(err)
    messages: list[Text] = []
    for place_errors in by_place.values():
        wrong_type = [e for e in place_errors if _expected(e) is not None]
        others = [_describe(err, tree) for err in place_errors if err not in wrong_type]
        if wrong_type:
            expected = list({_english(t): t for e in wrong_type if (t := _expected(e)) is not None}.values())
            first = wrong_type[0]
            said = _("Input should be {expected}; got {value}").format(
                expected=_either(expected), value=_shown(first.get("input"))
            )
            messages.append(_placed(first, tree, said))
        messages.extend(others)
    return messages


def _english(text: Text) -> str:
    return text.in_language("en")


def _either(choices: list[Text]) -> Text:
    """``a``, ``a or b``, ``a, b or c``: the "or" in the reader's language."""
    if len(choices) == 1:
        return choices[0]
    first = Joined(", ", choices[:-1])
    return _("{first} or {second}").format(first=first, second=choices[-1])


#: What a key takes, by the type of pydantic's error when the value has the wrong type:
#: our words in both languages, not pydantic's English.
_TAKES: dict[str, Text] = {
    "string_type": _("a valid string"),
    "dict_type": _("a table of keys ({key: value})"),
    "model_type": _("a table of keys ({key: value})"),
    "model_attributes_type": _("a table of keys ({key: value})"),
    "list_type": _("a list"),
    "bool_type": _("a valid boolean"),
    "bool_parsing": _("a valid boolean"),
    "int_type": _("a whole number"),
    "int_parsing": _("a whole number"),
    "int_from_float": _("a whole number"),
    "float_type": _("a number"),
    "float_parsing": _("a number"),
}


def _expected(err: Any) -> Text | None:
    """What a key takes when pydantic's error says its value has the wrong type, else None."""
    kind = err["type"]
    if kind == "literal_error":
        # pydantic's ctx says "'a', 'b' or 'c'": the values are ours, the "or" is the reader's.
        values = re.findall(r"'((?:[^'\\]|\\.)*)'", str((err.get("ctx") or {}).get("expected", "")))
        if values:
            return _either([Text("{value}").format(value=repr(v)) for v in values])
    return _TAKES.get(kind)


def _where(err: Any) -> str:
    loc = [part for part in err["loc"] if not _is_type_tag(part)]
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".") or "(top)"


def _shown(value: object) -> Text:
    """The offending value, short, or its kind when it is a list or table (a YAML bomb
    expands to millions of items: never written out)."""
    if isinstance(value, dict):
        return _("a table of keys")
    if isinstance(value, list):
        return _("a list")
    return Text("{value}").format(value=printable(repr(value), 60))


def _reason(err: Any) -> Text:
    """Why a value was refused: the sentence our validator raised, in the reader's language,
    our words for a type pydantic checked, else pydantic's message (types we never meet)."""
    raised = (err.get("ctx") or {}).get("error")
    if isinstance(raised, ValueError) and raised.args and hasattr(raised.args[0], "in_language"):
        return Text("{reason}").format(reason=raised.args[0])
    expected = _expected(err)
    if expected is not None:
        return _("Input should be {expected}; got {value}").format(expected=expected, value=_shown(err.get("input")))
    return Text("{reason}").format(reason=str(err["msg"]).removeprefix("Value error, "))


def _placed(err: Any, tree: yaml.Node | None, problem: Text) -> Text:
    """``problem`` after the key's place, and its line in the file when found."""
    loc = [part for part in err["loc"] if not _is_type_tag(part)]
    said = _("{where}: {problem}").format(where=_where(err), problem=problem)
    line = _line_of(tree, loc)
    return _("line {line}: {problem}").format(line=line, problem=said) if line else said


def _describe(err: Any, tree: yaml.Node | None) -> Text:
    loc = [part for part in err["loc"] if not _is_type_tag(part)]
    if err["type"] == "extra_forbidden":
        parent_model = _model_at(loc[:-1])
        options = list(parent_model.model_fields) if parent_model else []
        options = [o.removesuffix("_") for o in options]
        hint = difflib.get_close_matches(str(loc[-1]), options, n=1)
        if hint:
            said = _("unknown key {key}; did you mean {hint}?").format(key=repr(_where(err)), hint=repr(hint[0]))
        else:
            said = _("unknown key {key}; known keys: {known}").format(key=repr(_where(err)), known=", ".join(options))
        line = _line_of(tree, loc)
        return _("line {line}: {problem}").format(line=line, problem=said) if line else said
    if err["type"] == "missing":
        return _placed(err, tree, _("required key is missing"))
    return _placed(err, tree, _reason(err))


def _is_type_tag(part: object) -> bool:
    """Pydantic puts union member names in error paths; they are not YAML keys."""
    return isinstance(part, str) and (
        part
        in ("str", "int", "bool", "list[str]", "FromColumn", "FromTemplate", "FromValue", "GroupColumn", "PhoneColumns")
        or part.startswith(("function-", "literal["))
    )


def _model_at(loc: list[Any]) -> type[BaseModel] | None:
    model: type[BaseModel] | None = Mapping
    for part in loc:
        if model is None or isinstance(part, int):
            continue
        info = model.model_fields.get(str(part)) or model.model_fields.get(f"{part}_")
        if info is None:
            return None
        ann = info.annotation
        model = next(
            (a for a in getattr(ann, "__args__", (ann,)) if isinstance(a, type) and issubclass(a, BaseModel)), None
        )
        if model is None:
            inner = [a for a in getattr(ann, "__args__", ()) for a in getattr(a, "__args__", (a,))]
            model = next((a for a in inner if isinstance(a, type) and issubclass(a, BaseModel)), None)
    return model


def _line_of(node: yaml.Node | None, loc: list[Any]) -> int | None:
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == str(part)), None)
            key = next((k for k, v in node.value if k.value == str(part)), None)
            if match is None:
                return line
            line = key.start_mark.line + 1 if key is not None else line
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def check_columns(mapping: Mapping, columns: list[str], source: str, mapping_name: str) -> None:
    """Raises MappingError naming every column the mapping reads that the file lacks."""
    problems = column_problems(mapping.columns_used(), columns, source)
    if problems:
        raise MappingError(mapping_name, problems)


def column_problems(used: dict[str, str], columns: list[str], source: str) -> list[Text]:
    """A message for each column in ``used`` (column → where the mapping uses it) that
    ``columns`` lacks, with the closest name the file has."""
    problems = []
    close = False
    has = ", ".join(map(repr, columns))
    for column, used_by in used.items():
        if column in columns:
            continue
        hint = difflib.get_close_matches(column, columns, n=1, cutoff=0.6)
        close = close or bool(hint)
        if hint:
            said = _("{where}: column {column} is not in {source}; did you mean {hint}? the file has: {columns}")
        else:
            said = _("{where}: column {column} is not in {source}; the file has: {columns}")
        problems.append(
            said.format(
                where=used_by, column=repr(column), source=source, hint=repr(hint[0]) if hint else "", columns=has
            )
        )
    if problems and len(problems) == len(used) and not close:
        problems.append(
            _(
                "none of the mapping's columns is in {source}: if the column names are not on the row "
                "found as the header, give their row as source.header_row"
            ).format(source=source)
        )
    return problems


def with_column_problems(
    error: MappingError, source: str, columns: Callable[[SourceOptions], list[str]]
) -> MappingError:
    """``error`` with the columns its mapping names that the export lacks, so one report
    holds both (a wrong ``mode`` no longer hides a wrong column name until the next try).

    ``columns`` reads the export's header with the mapping's ``source`` options; when the
    mapping could not be read as YAML, or the export cannot be read, ``error`` is returned
    alone: the export's own error comes once the mapping is fixed.
    """
    if not isinstance(error, SchemaError):
        return error
    try:
        options = SourceOptions.model_validate(error.data.get("source") or {})
    except ValidationError:
        options = SourceOptions()
    try:
        found = columns(options)
    except InputError:
        return error
    problems = column_problems(_named_columns(error.data), found, source)
    return MappingError(error.path, [*error.texts, *problems]) if problems else error


def _named_columns(data: dict[str, Any]) -> dict[str, str]:
    """The columns a mapping that failed validation names, where they are well-formed: the
    keys of :meth:`Mapping.columns_used`, read from the raw YAML."""
    used: dict[str, str] = {}

    def add(value: object, where: str) -> None:
        if isinstance(value, str) and value:
            used.setdefault(value, where)

    fields = data.get("fields")
    for name, src in fields.items() if isinstance(fields, dict) else []:
        if isinstance(src, dict) and isinstance(src.get("template"), str):
            try:
                for column in FromTemplate(template=src["template"]).columns():
                    add(column, f"fields.{name}.template")
            except ValidationError:
                pass  # reported by the schema
        elif isinstance(src, dict):
            add(src.get("column"), f"fields.{name}.column")
        else:
            add(src, f"fields.{name}")
    add(data.get("identity"), "identity")
    groups = data.get("groups")
    if isinstance(groups, dict):
        add(groups.get("column"), "groups.column")
        entries = groups.get("columns")
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            add(entry.get("column") if isinstance(entry, dict) else entry, f"groups.columns[{i}]")
    rules = data.get("filter")
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        if isinstance(rule, dict):
            add(rule.get("column"), f"filter[{i}].column")
    return used
