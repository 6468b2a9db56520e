#include "cli.h"

#include <charconv>
#include <cstdio>
#include <iostream>

namespace kfk::tool {

bool ParsedArgs::has(std::string_view name) const {
  for (const auto& o : options)
    if (o.name == name) return true;
  return false;
}

std::optional<std::string> ParsedArgs::get(std::string_view name) const {
  std::optional<std::string> v;
  for (const auto& o : options)
    if (o.name == name) v = o.value;
  return v;
}

std::vector<std::string> ParsedArgs::all(std::string_view name) const {
  std::vector<std::string> v;
  for (const auto& o : options)
    if (o.name == name) v.push_back(o.value);
  return v;
}

int usage_error(const std::string& message, const std::string& usage) {
  std::cerr << "kfk: " << message << "\n" << usage << "\n";
  return kExitUsage;
}

namespace {

std::string display(const OptionSpec& s) {
  if (s.long_name) return std::string("--") + s.long_name;
  return std::string("-") + s.short_name;
}

std::string key_of(const OptionSpec& s) { return s.long_name ? std::string(s.long_name) : std::string(1, s.short_name); }

}  // namespace

bool parse_args(int argc, char** argv, int first, const std::vector<OptionSpec>& specs, const std::string& usage,
                ParsedArgs* out) {
  auto add = [&](const OptionSpec& s, std::string value) {
    if (!s.repeatable && out->has(key_of(s))) {
      usage_error(display(s) + " given more than once", usage);
      return false;
    }
    out->options.push_back({key_of(s), std::move(value)});
    return true;
  };
  bool only_positional = false;
  for (int i = first; i < argc; ++i) {
    std::string_view a = argv[i];
    if (only_positional || a.size() < 2 || a[0] != '-') {
      out->positional.emplace_back(a);
      continue;
    }
    if (a == "--") {
      only_positional = true;
      continue;
    }
    if (a.substr(0, 2) == "--") {
      std::string_view body = a.substr(2);
      std::optional<std::string> inline_value;
      if (auto eq = body.find('='); eq != std::string_view::npos) {
        inline_value = std::string(body.substr(eq + 1));
        body = body.substr(0, eq);
      }
      const OptionSpec* spec = nullptr;
      for (const auto& s : specs)
        if (s.long_name && body == s.long_name) spec = &s;
      if (!spec) return usage_error("unknown option --" + std::string(body), usage), false;
      std::string value;
      if (spec->takes_value) {
        if (inline_value) {
          value = *inline_value;
        } else if (i + 1 < argc) {
          value = argv[++i];
        } else {
          return usage_error(display(*spec) + " needs a value", usage), false;
        }
      } else if (inline_value) {
        return usage_error(display(*spec) + " takes no value", usage), false;
      }
      if (!add(*spec, std::move(value))) return false;
      continue;
    }
    // Short options, possibly grouped: -LJ, -b host, -bhost.
    for (size_t j = 1; j < a.size(); ++j) {
      const OptionSpec* spec = nullptr;
      for (const auto& s : specs)
        if (s.short_name == a[j]) spec = &s;
      if (!spec) return usage_error(std::string("unknown option -") + a[j], usage), false;
      if (!spec->takes_value) {
        if (!add(*spec, "")) return false;
        continue;
      }
      std::string value;
      if (j + 1 < a.size()) {
        value = std::string(a.substr(j + 1));
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return usage_error(display(*spec) + " needs a value", usage), false;
      }
      if (!add(*spec, std::move(value))) return false;
      break;
    }
  }
  return true;
}

bool build_config(const ParsedArgs& args, const std::string& usage, Config* out) {
  for (const auto& kv : args.all("X")) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      usage_error("-X expects key=value, got '" + kv + "'", usage);
      return false;
    }
    out->set(kv.substr(0, eq), kv.substr(eq + 1));
  }
  // -b wins over -X bootstrap.servers, as in kcat.
  if (auto b = args.get("brokers")) out->set("bootstrap.servers", *b);
  return true;
}

int creation_error(const Error& err) {
  std::cerr << "kfk: " << err.to_string() << "\n";
  return err.code() == errc::kInvalidClientConfig || err.code() == errc::kUnsupportedFeature ? kExitUsage : kExitFailed;
}

bool parse_int(std::string_view s, int64_t lo, int64_t hi, int64_t* out) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < lo || v > hi) return false;
  *out = v;
  return true;
}

std::string json_escape(std::string_view s) {
  std::string o;
  o.reserve(s.size() + 2);
  for (unsigned char c : s) {
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      case '\r': o += "\\r"; break;
      case '\t': o += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          o += buf;
        } else {
          o += static_cast<char>(c);
        }
    }
  }
  return o;
}

std::string unescape(const std::string& s) {
  std::string o;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      char c = s[++i];
      switch (c) {
        case 'n': o += '\n'; break;
        case 't': o += '\t'; break;
        case 'r': o += '\r'; break;
        case '0': o += '\0'; break;
        default: o += c;
      }
    } else {
      o += s[i];
    }
  }
  return o;
}

std::optional<int> parse_perf_args(int argc, char** argv, int first, const std::vector<OptionSpec>& extra,
                                   const std::string& usage, const std::string& help, PerfArgs* out) {
  std::vector<OptionSpec> specs = {{'b', "brokers", true}, {'t', "topic", true}, {0, "num-records", true},
                                   {'X', nullptr, true, true}, {0, "json"},      {'h', "help"}};
  specs.insert(specs.end(), extra.begin(), extra.end());
  ParsedArgs& args = out->args;
  if (!parse_args(argc, argv, first, specs, usage, &args)) return kExitUsage;
  if (args.has("help")) {
    std::cout << help;
    return kExitOk;
  }
  if (!args.positional.empty()) return usage_error("unexpected argument '" + args.positional[0] + "'", usage);
  auto topic = args.get("topic");
  if (!topic || topic->empty()) return usage_error("--topic is required", usage);
  out->topic = *topic;
  if (!args.get("num-records") || !parse_int(*args.get("num-records"), 1, INT64_MAX / 2, &out->num_records))
    return usage_error("--num-records N (a positive number) is required", usage);
  out->json = args.has("json");
  if (!build_config(args, usage, &out->config)) return kExitUsage;
  if (!out->config.contains("bootstrap.servers")) return usage_error("-b BROKERS is required", usage);
  return std::nullopt;
}

}  // namespace kfk::tool
