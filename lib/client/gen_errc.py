#!/usr/bin/env python3
"""gen_errc: writes the public header kfk/errc.h, every error code kfk can
report as a named constant, from the two error tables.

Usage: gen_errc.py KAFKA_TABLE CLIENT_TABLE OUT

KAFKA_TABLE is lib/protocol/error_codes.h (KFK_PROTO_ERRORS: Kafka's codes)
and CLIENT_TABLE is lib/client/client_errors.h (KFK_CLIENT_ERRORS: kfk's
local codes). Each row `X(NAME, code, retriable, "text")` becomes
`inline constexpr int kName = code;`, the name derived from Kafka's
(UPPER_SNAKE to kUpperCamel: NOT_LEADER_OR_FOLLOWER -> kNotLeaderOrFollower),
with the table's text as its comment. The tables stay the one source; this
header is never edited by hand. Standard library only.
"""

import re
import sys

ROW = re.compile(r'^\s*X\(\s*([A-Z][A-Z0-9_]*)\s*,\s*(-?\d+)\s*,\s*(true|false)\s*,(.*?)\)\s*\\?\s*$', re.M)
STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


class TableError(Exception):
    pass


def macro_body(text, macro):
    """The lines of `#define macro(X) ...`, joined, with comments kept out."""
    m = re.search(r'^#define ' + re.escape(macro) + r'\(X\)[^\n]*\n((?:[^\n]*\\\n)*[^\n]*)', text, re.M)
    if not m:
        raise TableError(f"no #define {macro}(X)")
    return m.group(1)


def rows(path, macro):
    """[(NAME, code, retriable, text)] of one X-macro table, in table order."""
    with open(path, encoding="utf-8") as f:
        body = macro_body(f.read(), macro)
    # A row's text may continue on the next lines: join them first.
    joined = re.sub(r'"\s*\\\n\s*"', "", body)
    joined = re.sub(r',\s*\\\n\s*"', ', "', joined)
    out = []
    for m in ROW.finditer(joined):
        text = "".join(s.group(1) for s in STRING.finditer(m.group(4)))
        out.append((m.group(1), int(m.group(2)), m.group(3) == "true", text))
    expected = len(re.findall(r'^\s*X\(', joined, re.M))
    if not out or len(out) != expected:
        raise TableError(f"{path}: read {len(out)} of {expected} rows of {macro}")
    return out


# The one exception to the naming rule. Kafka's INVALID_CONFIG (40, a
# broker-side configuration the broker refused) is errc::kBrokerInvalidConfig,
# as it has been since kfk 0.1: errc::kInvalidConfig named the local
# INVALID_CLIENT_CONFIG (-100) until it became errc::kInvalidClientConfig, and
# giving the old name a new value would silently change what code compiled
# against the old one means; without the name it fails to compile instead.
NAME_EXCEPTIONS = {"INVALID_CONFIG": "kBrokerInvalidConfig"}


def camel(name):
    """UPPER_SNAKE -> kUpperCamel (NOT_LEADER_OR_FOLLOWER -> kNotLeaderOrFollower)."""
    if name in NAME_EXCEPTIONS:
        return NAME_EXCEPTIONS[name]
    return "k" + "".join(w[:1] + w[1:].lower() for w in name.split("_"))


def section(entries, with_text):
    """One constant per row; the comment names the code, says whether it is
    retriable, and (local codes) gives the table's text."""
    width = max(len(camel(n)) + len(str(c)) for n, c, _, _ in entries)
    lines = []
    for name, code, retriable, text in entries:
        decl = f"inline constexpr int {camel(name)} = {code};"
        pad = " " * (width - len(camel(name)) - len(str(code)) + 2)
        note = name
        if with_text and text:
            note += ": " + text.replace('\\"', '"')
        if retriable:
            note += " (retriable)"
        lines.append(decl + pad + "// " + note)
    return "\n".join(lines)


HEADER = """\
// kfk::errc: every error code a kfk::Error can carry, by name.
//
// Generated at build time by lib/client/gen_errc.py from kfk's two error
// tables (lib/protocol/error_codes.h for Kafka's codes,
// lib/client/client_errors.h for kfk's local ones). Do not edit.
//
// A constant's name is the code's Kafka-style name (Error::name()) in
// kUpperCamel: NOT_LEADER_OR_FOLLOWER is errc::kNotLeaderOrFollower, kfk's
// local INVALID_CLIENT_CONFIG is errc::kInvalidClientConfig. One exception:
// Kafka's INVALID_CONFIG (a broker refused a topic or broker configuration)
// is errc::kBrokerInvalidConfig, so that no errc::kInvalidConfig exists to be
// mistaken for the client's own configuration error.
//
//   if (err.code() == kfk::errc::kTopicAuthorizationFailed) {{ ... }}
//
// Kafka codes are -1 and 0..{max_kafka} (as the broker sends them; a newer broker
// may send a code this list does not have yet). Local codes are -100 and
// below: kfk raises them itself, no broker ever sends them. "(retriable)"
// marks codes for which Error::retriable() is true.
#pragma once

#include "kfk/internal/require_cxx20.h"
#if KFK_INTERNAL_CXX20

namespace kfk::errc {{

// --- Kafka protocol codes: {kafka_count} ------------------------------------------------
{kafka}

// --- Local (client-side) codes: {local_count} -------------------------------------------
{local}

}}  // namespace kfk::errc

#endif  // KFK_INTERNAL_CXX20
"""


def generate(kafka, local):
    names = [n for n, _, _, _ in kafka + local]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise TableError(f"names in both tables or twice: {dup}")
    camels = [camel(n) for n in names]
    dup = sorted({n for n in camels if camels.count(n) > 1})
    if dup:
        raise TableError(f"constant names derived twice: {dup}")
    bad = [n for n, c, _, _ in kafka if c < -1]
    if bad:
        raise TableError(f"Kafka codes below -1: {bad}")
    bad = [n for n, c, _, _ in local if c > -100]
    if bad:
        raise TableError(f"local codes above -100: {bad}")
    return HEADER.format(max_kafka=max(c for _, c, _, _ in kafka), kafka_count=len(kafka),
                         local_count=len(local), kafka=section(kafka, False), local=section(local, True))


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        text = generate(rows(argv[0], "KFK_PROTO_ERRORS"), rows(argv[1], "KFK_CLIENT_ERRORS"))
    except (TableError, OSError) as e:
        print(f"gen_errc: {e}", file=sys.stderr)
        return 1
    with open(argv[2], "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
