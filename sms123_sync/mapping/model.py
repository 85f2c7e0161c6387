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
            raise ValueError("types needs at least one number type, e.g. [mobile]")
        for name in value:
            if name not in PHONE_TYPE_NAMES:
                hint = difflib.get_close_matches(name, PHONE_TYPE_NAMES, n=1)
                suggestion = f"did you mean {hint[0]!r}? " if hint else ""
                raise ValueError(
                    f"unknown number type {name!r}; {suggestion}known types: {', '.join(PHONE_TYPE_NAMES)}"
                )
        return list(dict.fromkeys(value))

    @property
    def accepted(self) -> frozenset[str]:
        return frozenset(self.types)

    @field_validator("region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        import phonenumbers

        if value.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown region {value!r}; use an ISO code such as FR, BE, CH")
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
                f"{value!r}: {exc}; write a column between single braces ({{Ville}}), and {{{{ or }}}} "
                "for a brace of your own"
            ) from None
        literal_runs = "".join(literal + ("\0" if name is not None else "") for literal, name, _, _ in parts)
        doubled = re.search(r"\{([^{}\0]+)\}", literal_runs)
        if doubled:  # "{{x}}" reads as the text "{x}": surely meant as the column x
            inner = doubled.group(1)
            raise ValueError(
                f"{value!r}: double braces give the literal text {{{inner}}}, not the column {inner!r}; "
                f"write a column between single braces: {{{inner}}}"
            )
        for _literal, name, spec, conversion in parts:
            if name == "":
                raise ValueError(f"{value!r}: empty braces {{}}; put a column name between them: {{Ville}}")
            if conversion or spec:
                shown = name or ""
                raise ValueError(
                    f"{value!r}: {{{shown}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}} "
                    f"has a format or conversion, which templates do not take; write {{{shown}}}"
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
            raise ValueError("list at least one phone column, e.g. columns: [Mobile, Téléphone]")
        repeated = [name for name, count in Counter(value).items() if count > 1]
        if repeated:
            raise ValueError(f"column {repeated[0]!r} is listed twice; list each phone column once")
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
            raise ValueError("several phone columns are written {columns: [Mobile, Téléphone]}")
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
        suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
        shapes = ", ".join(f"{{{key}: ...}}" for key in kinds)
        raise ValueError(f"a field is a column name, or one of {shapes}; got {unknown}{suggestion}")

    def sources(self) -> dict[str, FieldSource]:
        """The contact fields (``numero`` excluded) that the mapping fills."""
        return {name: src for name in FIELD_NAMES if (src := getattr(self, name)) is not None}

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
            raise ValueError(f"level: {self.level} needs a level_separator (the text between levels, such as '/')")
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
        problems: list[str] = []
        for i, entry in enumerate(value):
            if isinstance(entry, str):
                entries.append(entry)
            elif not isinstance(entry, dict):
                problems.append(f"[{i}] is {_shown(entry)}; give a column name or {{column: …, separator: …}}")
            else:
                try:
                    entries.append(GroupColumn.model_validate(entry))
                except ValidationError as exc:
                    problems.extend(f"[{i}]: {_entry_problem(err)}" for err in exc.errors())
        if problems:
            raise ValueError("; ".join(problems))
        return entries

    @model_validator(mode="after")
    def _some_group(self) -> Groups:
        if self.column is None and not self.columns and not self.always:
            raise ValueError("groups needs a column, a 'columns' list, an 'always' list, or some of these")
        if self.column is None and (self.level_separator or self.level != "full"):
            raise ValueError("level_separator and level apply to 'column', which is not given")
        if self.level != "full" and not self.level_separator:
            raise ValueError(f"level: {self.level} needs a level_separator (the text between levels, such as '/')")
        for name in [*self.always, *self.rename.values()]:
            if "--" in name:
                raise ValueError(f"group name {name!r} contains '--', the API's group separator")
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


def _entry_problem(err: Any) -> str:
    """One problem of a ``groups.columns`` entry, in the words :func:`_describe` uses."""
    key = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        hint = difflib.get_close_matches(key, list(GroupColumn.model_fields), n=1)
        return f"unknown key {key!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")
    if err["type"] == "missing":
        return f"{key}: required key is missing"
    return f"{key + ': ' if key else ''}{str(err['msg']).removeprefix('Value error, ')}"


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
            raise ValueError(f"a filter rule needs exactly one of {', '.join(_OPERATORS)} (found {given or 'none'})")
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
            f"'matches' pattern {printable(pattern)!r} cannot be run by the regular-expression engine "
            f"(RE2: {reason}); look-ahead (?=…), look-behind (?<=…) and back-references (\\1) are not "
            "supported: rewrite the pattern without them, or use in/equals"
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
            raise ValueError("give at least one entry, each with its own numero column")
        seen: set[str] = set()
        for person in value:
            if person.phone_column in seen:
                raise ValueError(
                    f"two entries read the phone column {person.phone_column!r}; each entry is one person "
                    "with a phone column of its own"
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
                "required key is missing: give 'fields' (one contact per row), or 'contacts' "
                "(a list, one contact per phone column)"
            )
        if value is not None and info.data["contacts"] is not None:
            raise ValueError(
                "give 'fields' or 'contacts', not both; with 'contacts', each entry holds all of its "
                "person's fields (a YAML anchor, &parent then <<: *parent, shares the common ones)"
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
            for name, src in person.sources().items():
                if isinstance(src, str):
                    used.setdefault(src, f"{place}.{name}")
                elif isinstance(src, FromColumn):
                    used.setdefault(src.column, f"{place}.{name}.column")
                elif isinstance(src, FromTemplate):
                    for col in src.columns():
                        used.setdefault(col, f"{place}.{name}.template")
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

    def __init__(self, path: str, problems: list[str], data: dict[str, Any]) -> None:
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
                    name, [f"line {line}: nested more than {MAX_DEPTH} levels deep; a mapping needs four at most"]
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise MappingError(name, [f"line {line}: more than {MAX_ALIASES} aliases (*name); write values out"])


def _check_duplicate_keys(tree: yaml.Node | None, name: str) -> None:
    """A key given twice in one YAML mapping: YAML keeps the last silently; we refuse."""
    problems = []
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
                        problems.append(
                            f"line {line}: key {printable(key.value)!r} appears twice in one mapping "
                            f"(first on line {first_line[key.value]}); keep one"
                        )
                    first_line.setdefault(key.value, line)
                pending.append(value)
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)
    if problems:
        ordered = sorted(problems, key=lambda p: int(p.split(":")[0].removeprefix("line ")))
        raise MappingError(name, ordered)


def _describe_all(errors: list[Any], tree: yaml.Node | None) -> list[str]:
    """One message per place in the file: a value of the wrong type fails every member of
    a union, and pydantic reports each by its class name; the user gets one line saying
    what the key takes."""
    by_place: dict[str, list[Any]] = {}
    for err in errors:
        by_place.setdefault(_where(err), []).append(err)
    messages: list[str] = []
    for place_errors in by_place.values():
        wrong_type = [e for e in place_errors if str(e["msg"]).startswith("Input should be")]
        if len(wrong_type) > 1:
            expected = dict.fromkeys(_expected(e) for e in wrong_type)
            first = wrong_type[0]
            merged = {**first, "msg": "Input should be " + " or ".join(expected)}
            place_errors = [merged, *(e for e in place_errors if e not in wrong_type)]
        messages.extend(_describe(err, tree) for err in place_errors)
    return messages


def _expected(err: Any) -> str:
    """What pydantic says a value should be, without the model's class name."""
    text = str(err["msg"]).removeprefix("Input should be ")
    text = re.sub(r" or instance of \w+", "", text).split(", unable to")[0]
    return text.replace("a valid dictionary", "a table of keys ({key: value})")


def _where(err: Any) -> str:
    loc = [part for part in err["loc"] if not _is_type_tag(part)]
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".") or "(top)"


def _shown(value: object) -> str:
    """The offending value, short, or its kind when it is a list or table (a YAML bomb
    expands to millions of items: never written out)."""
    if isinstance(value, dict):
        return "a table of keys"
    if isinstance(value, list):
        return "a list"
    return printable(repr(value), 60)


def _describe(err: Any, tree: yaml.Node | None) -> str:
    loc = [part for part in err["loc"] if not _is_type_tag(part)]
    where = _where(err)
    line = _line_of(tree, loc)
    prefix = f"line {line}: " if line else ""
    if err["type"] == "extra_forbidden":
        parent_model = _model_at(loc[:-1])
        options = list(parent_model.model_fields) if parent_model else []
        options = [o.removesuffix("_") for o in options]
        hint = difflib.get_close_matches(str(loc[-1]), options, n=1)
        suggestion = f"; did you mean {hint[0]!r}?" if hint else f"; known keys: {', '.join(options)}"
        return f"{prefix}unknown key {where!r}{suggestion}"
    if err["type"] == "missing":
        return f"{prefix}{where}: required key is missing"
    message = str(err["msg"]).removeprefix("Value error, ")
    if message.startswith("Input should be"):
        message = f"Input should be {_expected({'msg': message})}; got {_shown(err.get('input'))}"
    return f"{prefix}{where}: {message}"


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


def column_problems(used: dict[str, str], columns: list[str], source: str) -> list[str]:
    """A message for each column in ``used`` (column → where the mapping uses it) that
    ``columns`` lacks, with the closest name the file has."""
    problems = []
    close = False
    for column, used_by in used.items():
        if column in columns:
            continue
        hint = difflib.get_close_matches(column, columns, n=1, cutoff=0.6)
        close = close or bool(hint)
        suggestion = f"did you mean {hint[0]!r}? " if hint else ""
        problems.append(
            f"{used_by}: column {column!r} is not in {source}; {suggestion}"
            f"the file has: {', '.join(map(repr, columns))}"
        )
    if problems and len(problems) == len(used) and not close:
        problems.append(
            f"none of the mapping's columns is in {source}: if the column names are not on the row "
            "found as the header, give their row as source.header_row"
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
