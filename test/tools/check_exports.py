#!/usr/bin/python3
"""Checks what the shared libraries export (their ABI).

    check_exports.py SRC_INCLUDE LIBKFK_SO LIBKFK_BROKER_REF_SO

- libkfk.so: every exported kfk:: symbol belongs to a type the public
  headers declare or a function they mark KFK_EXPORT (nothing of kfk::proto, kfk::net, kfk::core,
  kfk::producer, kfk::consumer, kfk::admin, ...); nothing else is exported
  but C++ standard library template instantiations over public types (no
  libuv, codec, compression or other C symbols); the entry points
  (Producer/Consumer/Admin::create, Error, version()) are there.
- libkfk-broker-ref.so: kfk::testing::BrokerRef only, likewise.
Exits non-zero naming every failed check.
"""
import glob
import os
import re
import subprocess
import sys

# Linker-defined symbols some binutils list as defined.
LINKER = {"_init", "_fini", "_edata", "_end", "__bss_start"}
PREFIX = re.compile(r"^(?:vtable for |typeinfo for |typeinfo name for |VTT for |guard variable for |"
                    r"non-virtual thunk to |virtual thunk to |construction vtable for )")


def exported(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", "-C", lib], check=True, capture_output=True,
                         text=True).stdout
    names = []
    for line in out.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3:
            names.append(parts[2])
    return names


def public_names(src_include):
    """kfk::<Name> for each class, struct or enum the headers declare and each
    function they mark KFK_EXPORT."""
    names = set()
    for path in glob.glob(os.path.join(src_include, "kfk", "*.h")) + \
            glob.glob(os.path.join(src_include, "kfk", "*.h.in")):
        text = open(path).read()
        names.update(re.findall(r"^(?:class|struct|enum class) (?:KFK_EXPORT |\[\[[^\]]*\]\] )?(\w+)", text, re.M))
        names.update(re.findall(r"^KFK_EXPORT [^(]*?\b(\w+)\(", text, re.M))
    return names


def check_lib(lib, allowed_kfk, required, failures):
    names = exported(lib)
    bad = []
    for full in names:
        name = PREFIX.sub("", full)
        if name in LINKER:
            continue
        if "kfk::" in name:
            # kfk's own, or a standard template instantiated over kfk types:
            # every kfk name in it public.
            if not all(allowed_kfk(m) for m in re.findall(r"kfk::[\w:]+", name)):
                bad.append(full)
        elif "std::" not in name and "__gnu_cxx::" not in name:
            # Neither kfk's nor a standard template instantiation (libuv,
            # the codec's C helpers, compression libraries, ...).
            bad.append(full)
    what = f"{os.path.basename(lib)}: {len(names)} exported symbols, all public API"
    print(("ok: " if not bad else "FAIL: ") + what)
    if bad:
        print("  not public API:\n    " + "\n    ".join(sorted(bad)[:60]) +
              (f"\n    ... and {len(bad) - 60} more" if len(bad) > 60 else ""))
        failures.append(what)
    plain = [PREFIX.sub("", n) for n in names]
    for r in required:
        ok = any(n == r or n.startswith(r + "(") or n.startswith(r + "[") for n in plain) or r in names
        print(("ok: " if ok else "FAIL: ") + f"{os.path.basename(lib)} exports {r}")
        if not ok:
            failures.append(f"{os.path.basename(lib)} exports {r}")


def main(argv):
    src_include, libkfk, libbroker = argv
    failures = []
    public = public_names(src_include)
    if len(public) < 10:
        failures.append(f"found the KFK_EXPORT declarations ({sorted(public)})")
    # kfk::Name or kfk::Name::member..., Name exported by a header.
    def kfk_public(name):
        m = re.match(r"kfk::(\w+)", name)
        return m is not None and m.group(1) in public
    check_lib(libkfk, kfk_public,
              ["kfk::Producer::create", "kfk::Consumer::create", "kfk::Admin::create", "kfk::Error::to_string",
               "kfk::version", "kfk::register_partitioner", "typeinfo for kfk::Partitioner"], failures)
    check_lib(libbroker, lambda n: n.startswith("kfk::testing::BrokerRef"),
              ["kfk::testing::BrokerRef::start", "kfk::testing::BrokerRef::stop"], failures)
    if failures:
        print(f"{len(failures)} failed: " + "; ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
