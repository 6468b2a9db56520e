// kfk::version(): the library's version, from the generated kfk/version.h.
#include "kfk/version.h"

namespace kfk {

const char* version() { return KFK_VERSION_STRING; }

}  // namespace kfk
