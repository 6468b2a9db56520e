// The request versions kfk's client sends, per API: an explicit table (as
// broker-ref's handler table is of what it serves), so that extending a
// schema for the broker's sake (a newer version broker-ref serves) never
// silently changes what the client sends. Raising a version here is a
// client decision, made together with the client code that fills and reads
// the new version's fields. franz-go caps the same way (MaxVersions),
// librdkafka per request.
//
// send_request() negotiates within this range (intersected with the
// broker's); an API missing here does not compile as a client request.
#pragma once

#include <cstdint>

#include "protocol/messages.h"

namespace kfk::net {

template <class Req>
struct ClientVersions;  // no definition: the client does not send Req

#define KFK_CLIENT_SENDS_(Name, lo, hi)                                                                 \
  template <>                                                                                           \
  struct ClientVersions<proto::Name##Request> {                                                         \
    static constexpr int16_t kMin = lo;                                                                 \
    static constexpr int16_t kMax = hi;                                                                 \
    static_assert(lo <= hi && lo >= proto::Name##Request::kMinVersion &&                                \
                      hi <= proto::Name##Request::kMaxVersion,                                          \
                  "client versions of " #Name " must lie within the codec's schema range");             \
  };

// API, lowest and highest version the client sends.
KFK_CLIENT_SENDS_(Produce, 0, 11)
KFK_CLIENT_SENDS_(Fetch, 0, 17)
KFK_CLIENT_SENDS_(ListOffsets, 0, 10)
KFK_CLIENT_SENDS_(Metadata, 0, 12)
KFK_CLIENT_SENDS_(OffsetCommit, 0, 9)
KFK_CLIENT_SENDS_(OffsetFetch, 0, 9)
KFK_CLIENT_SENDS_(FindCoordinator, 0, 6)
KFK_CLIENT_SENDS_(JoinGroup, 0, 9)
KFK_CLIENT_SENDS_(Heartbeat, 0, 4)
KFK_CLIENT_SENDS_(LeaveGroup, 0, 5)
KFK_CLIENT_SENDS_(SyncGroup, 0, 5)
KFK_CLIENT_SENDS_(DescribeGroups, 0, 5)
KFK_CLIENT_SENDS_(ListGroups, 0, 5)
KFK_CLIENT_SENDS_(ApiVersions, 0, 4)
KFK_CLIENT_SENDS_(CreateTopics, 0, 7)
KFK_CLIENT_SENDS_(DeleteTopics, 0, 6)
KFK_CLIENT_SENDS_(DeleteRecords, 0, 2)
KFK_CLIENT_SENDS_(InitProducerId, 0, 5)
KFK_CLIENT_SENDS_(DescribeConfigs, 0, 4)
KFK_CLIENT_SENDS_(AlterConfigs, 0, 2)
KFK_CLIENT_SENDS_(CreatePartitions, 0, 3)
KFK_CLIENT_SENDS_(DeleteGroups, 0, 2)
KFK_CLIENT_SENDS_(IncrementalAlterConfigs, 0, 1)
KFK_CLIENT_SENDS_(OffsetDelete, 0, 0)

#undef KFK_CLIENT_SENDS_

}  // namespace kfk::net
