// Shared command-line plumbing of the kfk tool: option parsing, -X config,
// exit codes and error printing. Each mode (one file each) declares its
// options, parses with parse_args() and returns an exit code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kfk/config.h"
#include "kfk/error.h"

namespace kfk::tool {

// Exit codes: 0 success, 1 the operation failed (a record not delivered, a
// per-topic error), 2 bad usage or bad configuration.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

struct OptionSpec {
  char short_name = 0;     // 'b' for -b; 0 when only a long form exists
  const char* long_name;   // "brokers" for --brokers; nullptr when only short
  bool takes_value = false;
  bool repeatable = false;
};

struct ParsedOption {
  std::string name;  // the long name when the option has one, else the short letter
  std::string value;
};

struct ParsedArgs {
  std::vector<ParsedOption> options;
  std::vector<std::string> positional;

  bool has(std::string_view name) const;
  // The last value given for `name`.
  std::optional<std::string> get(std::string_view name) const;
  // Every value given for a repeatable option, in order.
  std::vector<std::string> all(std::string_view name) const;
};

// Parses argv[first..] against `specs`: "-b x", "-bx", "--brokers x",
// "--brokers=x", grouped flags ("-LJ"), "--" ends the options. On an
// unknown option, a missing value or a non-repeatable option given twice,
// prints "kfk: <problem>" and `usage` to stderr and returns false.
bool parse_args(int argc, char** argv, int first, const std::vector<OptionSpec>& specs, const std::string& usage,
                ParsedArgs* out);

// Prints "kfk: <message>" and the usage line to stderr; returns kExitUsage.
int usage_error(const std::string& message, const std::string& usage);

// Builds a client Config from -b and every -X key=value. A malformed -X
// (no '=') prints an error and returns false.
bool build_config(const ParsedArgs& args, const std::string& usage, Config* out);

// What every `kfk perf` mode takes: -b BROKERS, -t TOPIC and --num-records N
// (both required), -X key=value, --json and --help.
struct PerfArgs {
  ParsedArgs args;  // everything given, for the mode's own options
  std::string topic;
  int64_t num_records = 0;
  bool json = false;
  Config config;  // from -b and -X; has bootstrap.servers
};
// Parses the shared options plus the mode's `extra` ones and checks the
// shared part. Returns nullopt to go on, else the exit code to return
// (kExitOk after printing `help`, kExitUsage after a usage error).
std::optional<int> parse_perf_args(int argc, char** argv, int first, const std::vector<OptionSpec>& extra,
                                   const std::string& usage, const std::string& help, PerfArgs* out);

// Prints a client creation error: config problems name the key. Returns
// kExitUsage for config errors, kExitFailed otherwise.
int creation_error(const Error& err);

// Parses a whole decimal integer in [lo, hi]; false otherwise.
bool parse_int(std::string_view s, int64_t lo, int64_t hi, int64_t* out);

// Minimal JSON string escaping (for -J / --json output).
std::string json_escape(std::string_view s);

// Applies the "\n", "\t", "\r", "\0" and "\\" escapes, as kcat does for -f, -K and -D.
std::string unescape(const std::string& s);

}  // namespace kfk::tool
