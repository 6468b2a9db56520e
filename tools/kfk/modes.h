// The kfk tool's modes, one file each. Every mode gets the whole command
// line (argv[first] is its first own argument) and returns the exit code.
// The consumer side (-C, -G, groups ..., perf consume) slots in here the
// same way.
#pragma once

namespace kfk::tool {

// kfk -L: cluster metadata, kcat's layout (mode_metadata.cc).
int run_metadata(int argc, char** argv, int first);
// kfk -P: produce stdin lines (mode_produce.cc).
int run_produce(int argc, char** argv, int first);
// kfk topics create|delete|list|describe (mode_topics.cc).
int run_topics(int argc, char** argv, int first);
// kfk perf produce (mode_perf_produce.cc).
int run_perf_produce(int argc, char** argv, int first);
// kfk -C / kfk -G: consume records, kcat's format (mode_consume.cc).
int run_consume(int argc, char** argv, int first);
// kfk perf consume (mode_perf_consume.cc).
int run_perf_consume(int argc, char** argv, int first);
// kfk groups list|describe|reset-offsets|delete (mode_groups.cc).
int run_groups(int argc, char** argv, int first);

}  // namespace kfk::tool
