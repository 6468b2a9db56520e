// Factories for the built-in assignors (see include/kfk/assignor.h).
#pragma once

#include <memory>

#include "kfk/assignor.h"

namespace kfk::assignors {

std::unique_ptr<PartitionAssignor> make_range();
std::unique_ptr<PartitionAssignor> make_roundrobin();
std::unique_ptr<PartitionAssignor> make_sticky();
std::unique_ptr<PartitionAssignor> make_cooperative_sticky();

}  // namespace kfk::assignors
