// Included first by every public kfk header: kfk's headers need C++20.
// Compiled as an older C++, the include gives one clear error and every kfk
// header skips its body (#if KFK_INTERNAL_CXX20), so that no unrelated
// errors follow. (201709L: GCC 10's -std=c++20 still reports C++2a.)
#pragma once

#if defined(__cplusplus) && (defined(_MSVC_LANG) ? _MSVC_LANG : __cplusplus) >= 201709L
#define KFK_INTERNAL_CXX20 1
#else
#define KFK_INTERNAL_CXX20 0
#error "kfk requires C++20 (compile with -std=c++20 or later)"
#endif
