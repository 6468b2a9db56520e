#!/usr/bin/env python3
"""kfkgen: turns kfk's compact message schemas (lib/protocol/schema/*.kfs)
into C++ structs whose encode() and decode() come from one description.

Usage: kfkgen.py --out DIR schema.kfs...

For each schema `x.kfs` it writes `x.h` (structs), `x.cc` (encode/decode)
and `x_testing.cc` (fill(): non-default values for every field a version
has, used by the round-trip tests). It also writes `messages.h` (includes
every header), `messages_testing.h` and `api_list.h` (an X-macro over every
API, used by broker-ref's handler table and by the tests).
"""

import argparse
import os
import re
import sys
import zlib

PRIMITIVES = {
    # name: (C++ type, writer call, reader call, min encoded size)
    "int8": ("int8_t", "i8", "i8", 1),
    "int16": ("int16_t", "i16", "i16", 2),
    "int32": ("int32_t", "i32", "i32", 4),
    "int64": ("int64_t", "i64", "i64", 8),
    "uint16": ("uint16_t", "u16", "u16", 2),
    "uint32": ("uint32_t", "u32", "u32", 4),
    "float64": ("double", "f64", "f64", 8),
    "bool": ("bool", "boolean", "boolean", 1),
    "uuid": ("Uuid", "uuid", "uuid", 16),
    "string": ("std::string", None, None, 1),
    "bytes": ("Bytes", None, None, 1),
    "records": ("Records", None, None, 1),
}

CPP_KEYWORDS = {
    "default", "delete", "new", "class", "operator", "template", "register",
    "union", "namespace", "private", "public", "protected", "this", "throw",
    "try", "catch", "virtual", "friend", "export", "auto", "int", "long",
    "short", "char", "float", "double", "signed", "unsigned", "bool", "true",
    "false", "const", "static", "struct", "enum", "switch", "case", "break",
    "continue", "return", "goto", "do", "while", "for", "if", "else",
}


class SchemaError(Exception):
    pass


class Range:
    """A version range: lo..hi inclusive, hi None = open, empty if lo None."""

    def __init__(self, text):
        text = text.strip()
        if text == "none":
            self.lo, self.hi = None, None
        elif text.endswith("+"):
            self.lo, self.hi = int(text[:-1]), None
        elif "-" in text:
            a, b = text.split("-")
            self.lo, self.hi = int(a), int(b)
        else:
            self.lo = self.hi = int(text)
        self.text = text

    def empty(self):
        return self.lo is None

    def contains(self, v):
        return self.lo is not None and v >= self.lo and (self.hi is None or v <= self.hi)

    def covers(self, lo, hi):
        """True if every version in [lo, hi] is inside this range."""
        return all(self.contains(v) for v in range(lo, hi + 1))

    def cond(self, var="v", within=None):
        """A C++ condition for `var` in range, simplified against `within`
        (the versions the enclosing message exists in)."""
        if self.empty():
            return "false"
        if within is not None and self.covers(*within):
            return "true"
        parts = []
        if self.lo > (within[0] if within else 0):
            parts.append(f"{var} >= {self.lo}")
        if self.hi is not None and (within is None or self.hi < within[1]):
            parts.append(f"{var} <= {self.hi}")
        return " && ".join(parts) if parts else "true"


def snake(name):
    s = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    s = re.sub(r"(?<=[A-Z])([A-Z][a-z])", r"_\1", s)
    s = s.lower()
    return s + "_" if s in CPP_KEYWORDS else s


def name_hash(name):
    return zlib.crc32(name.encode()) & 0xFFFFFFFF


class Field:
    def __init__(self, name, type_text, versions, line):
        self.name = name
        self.member = snake(name)
        self.is_array = type_text.startswith("[]")
        self.base = type_text[2:] if self.is_array else type_text
        self.versions = Range(versions)
        self.nullable = Range("none")
        self.tag = None
        self.default = None
        self.compact_never = False
        self.struct = None  # StructDef for struct-typed fields
        self.line = line

    @property
    def is_struct(self):
        return self.base not in PRIMITIVES


class StructDef:
    def __init__(self, name):
        self.name = name
        self.fields = []


class Message:
    def __init__(self, kind, name, api_key, versions, flexible):
        self.kind = kind
        self.schema_name = name
        self.cpp_name = name + {"request": "Request", "response": "Response", "data": ""}[kind]
        self.api_key = api_key
        self.versions = Range(versions)
        self.flexible = Range(flexible)
        self.root = StructDef(self.cpp_name)
        self.structs = {}  # name -> StructDef (nested and common)
        self.order = []    # dependency order for emission

    @property
    def vrange(self):
        return (self.versions.lo, self.versions.hi)


def parse(path):
    messages = []
    current = None
    # Stack of (indent, StructDef) for attaching nested fields.
    stack = []
    with open(path) as f:
        lines = f.readlines()
    for lineno, raw in enumerate(lines, 1):
        text = raw.split("#", 1)[0].rstrip()
        if not text.strip():
            continue
        indent = len(text) - len(text.lstrip(" "))
        if indent % 2:
            raise SchemaError(f"{path}:{lineno}: indentation must be a multiple of two spaces")
        depth = indent // 2
        tok = text.split()
        where = f"{path}:{lineno}"
        if depth == 0:
            kind = tok[0]
            if kind not in ("request", "response", "data"):
                raise SchemaError(f"{where}: expected request/response/data, got {kind!r}")
            opts = dict(zip(tok[2::2], tok[3::2]))
            api_key = int(opts["key"]) if "key" in opts else None
            if kind != "data" and api_key is None:
                raise SchemaError(f"{where}: {kind} needs a key")
            current = Message(kind, tok[1], api_key, opts["versions"], opts.get("flexible", "none"))
            messages.append(current)
            stack = [(0, current.root)]
            continue
        if current is None:
            raise SchemaError(f"{where}: field outside a message")
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if not stack:
            raise SchemaError(f"{where}: bad indentation")
        parent = stack[-1][1]
        if tok[0] == "struct":
            sd = StructDef(tok[1])
            if sd.name in current.structs:
                raise SchemaError(f"{where}: struct {sd.name} defined twice")
            current.structs[sd.name] = sd
            stack.append((depth, sd))
            continue
        if len(tok) < 3:
            raise SchemaError(f"{where}: a field needs a name, a type and versions")
        fld = Field(tok[0], tok[1], tok[2], where)
        rest = tok[3:]
        i = 0
        while i < len(rest):
            key = rest[i]
            if key == "nullable":
                fld.nullable = Range(rest[i + 1])
            elif key == "tag":
                fld.tag = int(rest[i + 1])
            elif key == "default":
                fld.default = rest[i + 1]
            elif key == "compact" and rest[i + 1] == "never":
                fld.compact_never = True
            else:
                raise SchemaError(f"{where}: unknown option {key!r}")
            i += 2
        parent.fields.append(fld)
        if fld.is_struct:
            # Indented lines right below (not a `struct` block) define the type.
            nxt = next((l for l in lines[lineno:] if l.split("#", 1)[0].strip()), "")
            nindent = len(nxt) - len(nxt.lstrip(" "))
            if nxt and nindent == indent + 2 and nxt.split()[0] != "struct":
                if fld.base in current.structs:
                    raise SchemaError(f"{where}: struct {fld.base} defined twice")
                sd = StructDef(fld.base)
                current.structs[fld.base] = sd
                stack.append((depth, sd))
    for m in messages:
        resolve(m)
    return messages


def resolve(m):
    seen = set()

    def visit(sd, path):
        if sd.name in path:
            raise SchemaError(f"{m.cpp_name}: struct {sd.name} contains itself")
        for f in sd.fields:
            if f.is_struct:
                if f.base not in m.structs:
                    raise SchemaError(f"{f.line}: unknown type {f.base}")
                f.struct = m.structs[f.base]
                if f.struct.name not in seen:
                    visit(f.struct, path | {sd.name})
            if f.tag is not None and m.flexible.empty():
                raise SchemaError(f"{f.line}: tagged field in a message without flexible versions")
        if sd is not m.root and sd.name not in seen:
            seen.add(sd.name)
            m.order.append(sd)

    visit(m.root, set())
    for name, sd in m.structs.items():
        if name not in seen:
            raise SchemaError(f"{m.cpp_name}: struct {name} is never used")


# ---------------------------------------------------------------- C++ types

def elem_type(f):
    return f.base if f.is_struct else PRIMITIVES[f.base][0]


def cpp_type(f):
    t = elem_type(f)
    if f.is_array:
        t = f"std::vector<{t}>"
    # Records carry their own null state; everything else nullable is optional.
    if not f.nullable.empty() and f.base != "records" and (f.is_array or f.is_struct or f.base in ("string", "bytes")):
        t = f"std::optional<{t}>"
    return t


def is_optional(f):
    return cpp_type(f).startswith("std::optional<")


def cpp_default(f):
    """The member initializer (with its ' = '), or '' for value-initialization."""
    if is_optional(f):
        if f.default == "null":
            return ""
        # Kafka's default for a nullable string/array is empty, not null.
        return f" = {cpp_type(f)[len('std::optional<'):-1]}()"
    if f.is_array or f.is_struct or f.base in ("string", "bytes", "records", "uuid"):
        return ""
    if f.base == "bool":
        return " = true" if f.default == "true" else " = false"
    d = f.default or "0"
    if d == "-2147483648":
        return " = INT32_MIN"
    return f" = {d}"


def default_expr(f):
    """A C++ expression equal to the field's default value."""
    d = cpp_default(f)
    return f"{cpp_type(f)}{{{d[3:]}}}"


# ---------------------------------------------------------------- emission

def flex_expr(m, f):
    return "false" if f.compact_never or m.flexible.empty() else "flex"


def write_value(m, f, expr, p, w):
    fx = flex_expr(m, f)
    if f.is_struct:
        return [f"{p}{expr}.encode({w}, v);"]
    if f.base in ("string", "bytes", "records"):
        return [f"{p}{w}.{f.base}({expr}, {fx});"]
    return [f"{p}{w}.{PRIMITIVES[f.base][1]}({expr});"]


def read_value(m, f, expr, p, r):
    fx = flex_expr(m, f)
    if f.is_struct:
        return [f"{p}{expr}.decode({r}, v);"]
    if f.base in ("string", "bytes", "records"):
        return [f"{p}{expr} = {r}.{f.base}({fx});"]
    return [f"{p}{expr} = {r}.{PRIMITIVES[f.base][2]}();"]


def min_size(f):
    return 1 if f.is_struct else PRIMITIVES[f.base][3]


def field_range(m, f):
    """The versions of m in which f exists, as (lo, hi)."""
    lo = max(m.versions.lo, f.versions.lo)
    hi = m.versions.hi if f.versions.hi is None else min(m.versions.hi, f.versions.hi)
    return (lo, hi)


def encode_field(m, f, indent, w="w"):
    """Lines writing field f of the struct being encoded (`this`)."""
    p = " " * indent
    fx = flex_expr(m, f)
    mem = f.member
    ncond = f.nullable.cond("v", field_range(m, f))
    out = []
    if f.is_array:
        seq = mem
        q = p
        if is_optional(f):
            # Null where the version cannot say null is written as empty.
            out.append(f"{p}if (!{mem}) {{")
            out.append(f"{p}  {w}.array_length({'-1' if ncond == 'true' else f'({ncond}) ? -1 : 0'}, {fx});")
            out.append(f"{p}}} else {{")
            seq, q = f"(*{mem})", p + "  "
        out.append(f"{q}{w}.array_length(static_cast<int32_t>({seq}.size()), {fx});")
        out.append(f"{q}for (const auto& e : {seq}) {{")
        out += write_value(m, f, "e", q + "  ", w)
        out.append(f"{q}}}")
        if is_optional(f):
            out.append(f"{p}}}")
        return out
    if f.is_struct:
        if is_optional(f):
            out.append(f"{p}if (!{mem}) {{")
            out.append(f"{p}  {w}.i8(-1);")
            out.append(f"{p}}} else {{")
            out.append(f"{p}  {w}.i8(1);")
            out.append(f"{p}  {mem}->encode({w}, v);")
            out.append(f"{p}}}")
            return out
        return [f"{p}{mem}.encode({w}, v);"]
    if is_optional(f):
        kind = f.base  # string or bytes
        if ncond == "true":
            return [f"{p}{w}.nullable_{kind}({mem}, {fx});"]
        view = "std::string_view" if kind == "string" else "std::span<const uint8_t>"
        out.append(f"{p}if ({ncond}) {w}.nullable_{kind}({mem}, {fx});")
        out.append(f"{p}else {w}.{kind}({mem} ? {view}(*{mem}) : {view}(), {fx});")
        return out
    return write_value(m, f, mem, p, w)


def decode_field(m, f, indent, r="r"):
    p = " " * indent
    fx = flex_expr(m, f)
    mem = f.member
    ncond = f.nullable.cond("v", field_range(m, f))
    out = []
    if f.is_array:
        out.append(f"{p}{{")
        out.append(f"{p}  const int32_t n = {r}.array_length({fx}, {min_size(f)});")
        out.append(f"{p}  if (n < 0) {{")
        if is_optional(f):
            out.append(f"{p}    {mem}.reset();")
            if ncond != "true":
                out.append(f"{p}    if ({r}.ok() && !({ncond})) {r}.fail(\"null array in a version where it is not nullable\");")
        else:
            out.append(f"{p}    {mem}.clear();")
            out.append(f"{p}    if ({r}.ok()) {r}.fail(\"null array where an array is required\");")
        out.append(f"{p}  }} else {{")
        out.append(f"{p}    auto& a = {mem + '.emplace()' if is_optional(f) else mem};")
        out.append(f"{p}    a.clear();")
        out.append(f"{p}    a.resize(static_cast<size_t>(n));")
        out.append(f"{p}    for (auto& e : a) {{")
        out += read_value(m, f, "e", p + "      ", r)
        out.append(f"{p}    }}")
        out.append(f"{p}  }}")
        out.append(f"{p}}}")
        return out
    if f.is_struct:
        if is_optional(f):
            out.append(f"{p}if ({r}.i8() < 0) {{")
            out.append(f"{p}  {mem}.reset();")
            out.append(f"{p}}} else {{")
            out.append(f"{p}  {mem}.emplace().decode({r}, v);")
            out.append(f"{p}}}")
            return out
        return [f"{p}{mem}.decode({r}, v);"]
    if is_optional(f):
        kind = f.base
        if ncond == "true":
            return [f"{p}{mem} = {r}.nullable_{kind}({fx});"]
        out.append(f"{p}if ({ncond}) {mem} = {r}.nullable_{kind}({fx});")
        out.append(f"{p}else {mem} = {r}.{kind}({fx});")
        return out
    return read_value(m, f, mem, p, r)


def present_in_message(m, f):
    return f.versions.cond("v", m.vrange)


def emit_struct_decl(m, sd, out, indent, top=False):
    p = " " * indent
    out.append(f"{p}struct {sd.name} {{")
    if top:
        if m.api_key is not None:
            out.append(f"{p}  static constexpr int16_t kApiKey = {m.api_key};")
        out.append(f"{p}  static constexpr int16_t kMinVersion = {m.versions.lo};")
        out.append(f"{p}  static constexpr int16_t kMaxVersion = {m.versions.hi};")
        out.append(f"{p}  static constexpr int16_t kFlexibleVersion = {m.flexible.lo if not m.flexible.empty() else -1};")
        out.append(f"{p}  static constexpr const char* kName = \"{m.cpp_name}\";")
        out.append("")
        for s in m.order:
            emit_struct_decl(m, s, out, indent + 2)
            out.append("")
    for f in sd.fields:
        note = f"  // v{f.versions.text}"
        if not f.nullable.empty():
            note += f", nullable v{f.nullable.text}"
        if f.tag is not None:
            note += f", tag {f.tag}"
        out.append(f"{p}  {cpp_type(f)} {f.member}{cpp_default(f)};{note}")
    out.append(f"{p}  TaggedFields unknown_tagged_fields;")
    out.append("")
    out.append(f"{p}  void encode(Writer& w, int16_t v) const;")
    out.append(f"{p}  // Decodes version v; check r.ok() afterwards.")
    out.append(f"{p}  void decode(Reader& r, int16_t v);")
    out.append(f"{p}  bool operator==(const {sd.name}&) const = default;")
    out.append(f"{p}}};")


def qual(m, sd):
    return m.cpp_name if sd is m.root else f"{m.cpp_name}::{sd.name}"


def emit_struct_codec(m, sd, out):
    q = qual(m, sd)
    flexible = not m.flexible.empty()
    regular = [f for f in sd.fields if f.tag is None]
    tagged = [f for f in sd.fields if f.tag is not None]

    # encode
    out.append(f"void {q}::encode(Writer& w, int16_t v) const {{")
    out.append("  (void)v;")
    if flexible:
        out.append(f"  const bool flex = {m.flexible.cond('v', m.vrange)};")
    for f in regular:
        cond = present_in_message(m, f)
        if cond == "false":
            continue
        if cond == "true":
            out += encode_field(m, f, 2)
        else:
            out.append(f"  if ({cond}) {{")
            out += encode_field(m, f, 4)
            out.append("  }")
    if flexible:
        out.append("  if (flex) {")
        if tagged:
            out.append("    TaggedFields known;")
            for f in tagged:
                cond = present_in_message(m, f)
                if f.is_array and not is_optional(f):
                    nd = f"!{f.member}.empty()"
                else:
                    nd = f"!({f.member} == {default_expr(f)})"
                out.append(f"    if (({cond}) && {nd}) {{")
                out.append("      Writer t;")
                out += encode_field(m, f, 6, w="t")
                out.append(f"      known.push_back(TaggedField{{{f.tag}, t.take()}});")
                out.append("    }")
            out.append("    write_tagged_fields(w, known, unknown_tagged_fields);")
        else:
            out.append("    write_tagged_fields(w, {}, unknown_tagged_fields);")
        out.append("  }")
    out.append("}")
    out.append("")

    # decode
    out.append(f"void {q}::decode(Reader& r, int16_t v) {{")
    out.append("  (void)v;")
    if flexible:
        out.append(f"  const bool flex = {m.flexible.cond('v', m.vrange)};")
    for f in regular:
        cond = present_in_message(m, f)
        if cond == "false":
            continue
        if cond == "true":
            out += decode_field(m, f, 2)
        else:
            out.append(f"  if ({cond}) {{")
            out += decode_field(m, f, 4)
            out.append("  }")
    if flexible and not tagged:
        out.append("  if (flex) read_tagged_fields(r, unknown_tagged_fields);")
    elif flexible:
        out.append("  if (flex) {")
        out.append("    unknown_tagged_fields.clear();")
        out.append("    const uint32_t count = r.uvarint();")
        out.append("    for (uint32_t i = 0; i < count && r.ok(); ++i) {")
        out.append("      const uint32_t tag = r.uvarint();")
        out.append("      Reader t = r.sub(r.uvarint());")
        chain = "      "
        for f in tagged:
            cond = present_in_message(m, f)
            out.append(f"{chain}if (tag == {f.tag} && ({cond})) {{")
            out += decode_field(m, f, 8, r="t")
            out.append("        if (!t.ok()) r.fail(t.error());")
            chain = "      } else "
        out.append("      } else {")
        out.append("        keep_unknown_tag(t, tag, unknown_tagged_fields);")
        out.append("      }")
        out.append("    }")
        out.append("  }")
    out.append("}")
    out.append("")


# ------------------------------------------------------------ test filling

def fill_value_lines(m, f, expr, h, indent):
    """Lines assigning a non-default value derived from hash expression h."""
    p = " " * indent
    base = f.base
    if f.is_struct:
        return [f"{p}fill({expr}, v, {h});"]
    if base == "bool":
        d = f.default == "true" and not f.is_array
        return [f"{p}{expr} = {'false' if d else 'true'};"]
    if base == "string":
        return [f"{p}{expr} = fill_string({h});"]
    if base == "bytes":
        return [f"{p}{expr} = fill_bytes({h});"]
    if base == "records":
        return [f"{p}{expr} = fill_records({h});"]
    if base == "uuid":
        return [f"{p}{expr} = fill_uuid({h});"]
    t = PRIMITIVES[base][0]
    d = f.default if (f.default and f.default != "null" and not f.is_array) else "0"
    if base == "float64":
        return [f"{p}{expr} = 0.5 + static_cast<double>({h} % 1000);"]
    # Non-default: default + 1 + (h % 97), wrapped to the type.
    return [f"{p}{expr} = fill_int<{t}>({h}, static_cast<int64_t>({'INT32_MIN' if d == '-2147483648' else d}));"]


def emit_fill(m, sd, out, forward):
    q = qual(m, sd)
    static = "" if sd is m.root else "static "
    if sd is not m.root:
        forward.append(f"static void fill({q}& m, int16_t v, uint64_t salt);")
    out.append(f"{static}void fill({q}& m, int16_t v, uint64_t salt) {{")
    out.append("  (void)v; (void)salt;")
    for f in sd.fields:
        cond = present_in_message(m, f)
        if cond == "false":
            continue
        h = f"mix(salt, {name_hash(f.name)}u)"
        out.append(f"  if ({cond}) {{")
        mem = f"m.{f.member}"
        if f.is_array:
            if is_optional(f):
                out.append(f"    if (!{mem}) {mem}.emplace();")
                out.append(f"    auto& a = *{mem};")
            else:
                out.append(f"    auto& a = {mem};")
            out.append("    a.resize(2);")
            out.append("    for (size_t i = 0; i < a.size(); ++i) {")
            elem = "a[i]"
            if f.is_struct or f.base not in ("bool",):
                out += fill_value_lines(m, f, elem, f"mix({h}, i + 1)", 6)
            else:
                out.append("      a[i] = (i % 2) == 0;")
            out.append("    }")
        elif f.is_struct:
            if is_optional(f):
                out.append(f"    if (!{mem}) {mem}.emplace();")
                out.append(f"    fill(*{mem}, v, {h});")
            else:
                out.append(f"    fill({mem}, v, {h});")
        elif is_optional(f):
            out.append(f"    if (!{mem}) {mem}.emplace();")
            out += fill_value_lines(m, f, f"*{mem}", h, 4)
        else:
            out += fill_value_lines(m, f, mem, h, 4)
        out.append("  }")
    out.append("}")
    out.append("")


# ------------------------------------------------------------------ files

HEADER_PRELUDE = """// Generated by lib/protocol/gen/kfkgen.py from lib/protocol/schema/{src}.
// Do not edit: change the schema instead.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "protocol/reader.h"
#include "protocol/types.h"
#include "protocol/writer.h"

namespace kfk::proto {{
"""


def generate(schema_path, messages, outdir):
    stem = os.path.splitext(os.path.basename(schema_path))[0]
    src = os.path.basename(schema_path)
    h = [HEADER_PRELUDE.format(src=src)]
    for m in messages:
        emit_struct_decl(m, m.root, h, 0, top=True)
        h.append("")
    h.append("}  // namespace kfk::proto")
    write(os.path.join(outdir, stem + ".h"), "\n".join(h) + "\n")

    cc = [f"// Generated by lib/protocol/gen/kfkgen.py from lib/protocol/schema/{src}.",
          f'#include "protocol/{stem}.h"', "",
          '#include "protocol/codec_support.h"', "",
          "namespace kfk::proto {", ""]
    for m in messages:
        for sd in m.order + [m.root]:
            emit_struct_codec(m, sd, cc)
    cc.append("}  // namespace kfk::proto")
    write(os.path.join(outdir, stem + ".cc"), "\n".join(cc) + "\n")

    body, forward = [], []
    for m in messages:
        for sd in m.order + [m.root]:
            emit_fill(m, sd, body, forward)
    tc = [f"// Generated by lib/protocol/gen/kfkgen.py from lib/protocol/schema/{src}.",
          '#include "protocol/messages_testing.h"', "",
          '#include "protocol/fill_support.h"', "",
          "namespace kfk::proto::testing {", ""] + forward + [""] + body + ["}  // namespace kfk::proto::testing"]
    write(os.path.join(outdir, stem + "_testing.cc"), "\n".join(tc) + "\n")


def write(path, text):
    # Leave unchanged files alone so that ninja does not rebuild them.
    try:
        with open(path) as f:
            if f.read() == text:
                return
    except OSError:
        pass
    with open(path, "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("schemas", nargs="+")
    args = ap.parse_args()
    all_msgs = []
    stems = []
    try:
        for path in args.schemas:
            msgs = parse(path)
            generate(path, msgs, args.out)
            all_msgs += msgs
            stems.append(os.path.splitext(os.path.basename(path))[0])
    except SchemaError as e:
        print(f"kfkgen: {e}", file=sys.stderr)
        return 1

    names = [m.cpp_name for m in all_msgs]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        print(f"kfkgen: messages defined twice: {sorted(dup)}", file=sys.stderr)
        return 1

    inc = "\n".join(f'#include "protocol/{s}.h"' for s in stems)
    write(os.path.join(args.out, "messages.h"),
          "// Generated by kfkgen: every message kfk speaks.\n#pragma once\n\n" + inc + "\n")

    fills = "\n".join(f"void fill({m.cpp_name}& m, int16_t v, uint64_t salt);" for m in all_msgs)
    write(os.path.join(args.out, "messages_testing.h"),
          "// Generated by kfkgen: test-only fillers.\n#pragma once\n\n#include \"protocol/messages.h\"\n\n"
          "namespace kfk::proto::testing {\n\n// Puts a non-default value, derived from `salt` and the field's name,\n"
          "// into every field version v has (so equal salts give equal values\n// for the fields two versions share).\n"
          + fills + "\n\n}  // namespace kfk::proto::testing\n")

    reqs = {m.api_key: m for m in all_msgs if m.kind == "request"}
    resps = {m.api_key: m for m in all_msgs if m.kind == "response"}
    for k in reqs:
        if k not in resps:
            print(f"kfkgen: api {k} has a request but no response", file=sys.stderr)
            return 1
        a, b = reqs[k], resps[k]
        if (a.versions.lo, a.versions.hi, a.flexible.lo) != (b.versions.lo, b.versions.hi, b.flexible.lo):
            print(f"kfkgen: {a.schema_name}: request and response versions differ", file=sys.stderr)
            return 1
    rows = []
    for k in sorted(reqs):
        m = reqs[k]
        fl = m.flexible.lo if not m.flexible.empty() else -1
        rows.append(f"  X({m.schema_name}, {k}, {m.versions.lo}, {m.versions.hi}, {fl}) \\")
    datas = [f"  X({m.cpp_name}) \\" for m in all_msgs if m.kind == "data"]
    api = ("// Generated by kfkgen: every API kfk's codec implements.\n#pragma once\n\n"
           "// X(Name, api_key, min_version, max_version, first_flexible_version or -1)\n"
           "// NameRequest / NameResponse are the message structs.\n"
           "#define KFK_PROTOCOL_APIS(X) \\\n" + "\n".join(rows) + "\n  /* end */\n\n"
           "// X(Name) for the non-API data formats.\n"
           "#define KFK_PROTOCOL_DATA(X) \\\n" + "\n".join(datas) + "\n  /* end */\n")
    write(os.path.join(args.out, "api_list.h"), api)
    return 0


if __name__ == "__main__":
    sys.exit(main())
