#!/usr/bin/python3
"""Installs the build into a temporary DESTDIR and uses it as a user would.

    check_install.py MESON BUILD_DIR PREFIX CXX [CXX args...]

- `meson install --destdir` installs kfk's headers, libkfk, kfk.pc and, as
  a library of its own, broker-ref's header, libkfk-broker-ref and
  kfk-broker-ref.pc; broker-ref's header is not among the client's
  (include/kfk);
- a small program, compiled and linked with nothing but
  `pkg-config --cflags --libs kfk kfk-broker-ref` against that tree, starts
  an embedded broker-ref, produces a record with kfk's producer, reads it
  back with kfk's consumer and exits 0.
Exits non-zero naming every failed check.
"""
import glob
import os
import subprocess
import sys
import tempfile

PROGRAM = r'''
#include <kfk-broker-ref/broker_ref.h>
#include <kfk/consumer.h>
#include <kfk/producer.h>
#include <kfk/version.h>

#include <chrono>
#include <cstdio>
#include <string>

int main() {
  std::string error;
  auto broker = kfk::testing::BrokerRef::start({}, &error);
  if (!broker) { std::fprintf(stderr, "BrokerRef::start: %s\n", error.c_str()); return 1; }
  std::unique_ptr<kfk::Producer> producer;
  kfk::Error e = kfk::Producer::create({{"bootstrap.servers", broker->bootstrap_servers()}}, &producer);
  if (!e.ok()) { std::fprintf(stderr, "Producer::create: %s\n", e.to_string().c_str()); return 1; }
  kfk::DeliveryResult sent = producer->send(kfk::ProducerRecord("installed", "k", "hello")).get();
  if (!sent.error.ok()) { std::fprintf(stderr, "send: %s\n", sent.error.to_string().c_str()); return 1; }
  if (producer->metrics().records_sent != 1) { std::fprintf(stderr, "records_sent != 1\n"); return 1; }
  producer->close();

  std::unique_ptr<kfk::Consumer> consumer;
  e = kfk::Consumer::create({{"bootstrap.servers", broker->bootstrap_servers()}, {"group.id", "installed"},
                             {"auto.offset.reset", "earliest"}}, &consumer);
  if (!e.ok()) { std::fprintf(stderr, "Consumer::create: %s\n", e.to_string().c_str()); return 1; }
  e = consumer->subscribe({"installed"});
  if (!e.ok()) { std::fprintf(stderr, "subscribe: %s\n", e.to_string().c_str()); return 1; }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    kfk::ConsumerRecords records = consumer->poll(std::chrono::milliseconds(200));
    if (!records.error().ok()) { std::fprintf(stderr, "poll: %s\n", records.error().to_string().c_str()); return 1; }
    for (const kfk::ConsumerRecord& r : records) {
      if (r.value_view() == "hello") {
        std::printf("kfk %s (headers %s): produced and consumed through the installed libraries\n",
                    kfk::version(), KFK_VERSION_STRING);
        consumer->close();
        return 0;
      }
    }
  }
  std::fprintf(stderr, "the record did not come back\n");
  return 1;
}
'''


def main(argv):
    meson, build_dir, prefix, cxx = argv[0], argv[1], argv[2], argv[3:]
    failures = []

    def check(cond, what, detail=""):
        print(("ok: " if cond else "FAIL: ") + what + ("" if cond or not detail else "\n" + detail))
        if not cond:
            failures.append(what)
        return cond

    with tempfile.TemporaryDirectory(prefix="kfk-install-") as tmp:
        dest = os.path.join(tmp, "dest")
        p = subprocess.run([meson, "install", "-C", build_dir, "--destdir", dest, "--no-rebuild", "--quiet"],
                           capture_output=True, text=True)
        if not check(p.returncode == 0, "meson install --destdir", p.stdout + p.stderr):
            return 1
        root = dest + prefix
        pcs = {os.path.basename(f): os.path.dirname(f) for f in glob.glob(root + "/**/*.pc", recursive=True)}
        check("kfk.pc" in pcs and "kfk-broker-ref.pc" in pcs, "kfk.pc and kfk-broker-ref.pc installed", str(pcs))
        inc = os.path.join(root, "include")
        check(os.path.exists(os.path.join(inc, "kfk-broker-ref", "broker_ref.h")),
              "kfk-broker-ref/broker_ref.h installed")
        check(not os.path.exists(os.path.join(inc, "kfk", "broker_ref.h")),
              "broker-ref's header is not among the client's (kfk/)")
        if failures:
            return 1
        env = dict(os.environ, PKG_CONFIG_PATH=os.pathsep.join(sorted(set(pcs.values()))))
        p = subprocess.run(["pkg-config", f"--define-variable=prefix={root}", "--cflags", "--libs", "kfk",
                            "kfk-broker-ref"], capture_output=True, text=True, env=env)
        if not check(p.returncode == 0, "pkg-config --cflags --libs kfk kfk-broker-ref", p.stderr):
            return 1
        flags = p.stdout.split()
        src = os.path.join(tmp, "user.cc")
        with open(src, "w") as f:
            f.write(PROGRAM)
        exe = os.path.join(tmp, "user")
        p = subprocess.run(cxx + [src, "-o", exe] + flags, capture_output=True, text=True)
        if not check(p.returncode == 0, "a program compiles and links with pkg-config's flags only",
                     " ".join(cxx + [src, "-o", exe] + flags) + "\n" + p.stderr[-4000:]):
            return 1
        libdirs = [f[2:] for f in flags if f.startswith("-L")]
        run_env = dict(os.environ, LD_LIBRARY_PATH=os.pathsep.join(libdirs))
        p = subprocess.run([exe], capture_output=True, text=True, env=run_env, timeout=240)
        print(p.stdout, end="")
        check(p.returncode == 0, "it runs: embedded broker-ref, a record produced and consumed", p.stderr)
        # It ran against the installed libraries, not the build tree's.
        p = subprocess.run(["ldd", exe], capture_output=True, text=True, env=run_env)
        check(all(root in line for line in p.stdout.splitlines() if "libkfk" in line) and "libkfk.so" in p.stdout
              and "libkfk-broker-ref.so" in p.stdout, "linked to the installed libkfk and libkfk-broker-ref",
              p.stdout)
    if failures:
        print(f"{len(failures)} failed: " + "; ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
