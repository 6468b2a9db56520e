// The registry of every configuration key kfk knows: one table (in
// config_registry.cc) with each key's type, default, bounds, accepted words,
// the clients that read it and a one-line doc. validate() and the
// documentation test (include/kfk/config.h must document exactly these keys,
// with these defaults) both read it. Pure data; any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace kfk::core {

enum class ClientKind : uint8_t { kProducer = 1, kConsumer = 2, kAdmin = 4 };

const char* client_kind_name(ClientKind k);  // "producer", "consumer", "admin"

enum class ConfigType : uint8_t {
  kInt,     // int32, decimal
  kLong,    // int64, decimal
  kBool,    // true / false (any case)
  kString,  // free text
  kList,    // comma-separated; `choices` (if any) restrict the items
  kEnum,    // one of `choices`
};

const char* config_type_name(ConfigType t);

// Bitmask of ClientKind values.
inline constexpr uint8_t kProducerOnly = 1, kConsumerOnly = 2, kAdminOnly = 4;
inline constexpr uint8_t kAllClients = 7;

struct ConfigKeyInfo {
  const char* name;
  ConfigType type;
  const char* default_value;  // as the user would write it; "" for empty
  int64_t min;                // kInt / kLong bounds (inclusive)
  int64_t max;
  const char* choices;  // kEnum / kList: '|'-separated accepted words, else nullptr
  uint8_t clients;      // bitmask of ClientKind
  const char* doc;      // one line; config.h has the full text

  bool applies_to(ClientKind k) const { return (clients & static_cast<uint8_t>(k)) != 0; }
};

// Every key, in the order config.h documents them.
std::span<const ConfigKeyInfo> config_registry();
// nullptr for an unknown key.
const ConfigKeyInfo* find_config_key(std::string_view name);
// Index of `info` in config_registry().
size_t config_key_index(const ConfigKeyInfo* info);

}  // namespace kfk::core
