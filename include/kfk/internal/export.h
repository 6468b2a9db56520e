// KFK_EXPORT marks what libkfk.so exports: the public API declared in these
// headers. libkfk is built with -fvisibility=hidden and
// -fvisibility-inlines-hidden, so everything else (the codec, the network
// layer, the producer's and consumer's internals) stays inside the library;
// test/tools/check_exports.py checks the exported symbol list.
#pragma once

#if defined(__GNUC__) || defined(__clang__)
#define KFK_EXPORT __attribute__((visibility("default")))
#else
#define KFK_EXPORT
#endif
