#pragma once
// Writing a whole file atomically: to a temporary name beside it, synced, then renamed, so an
// interrupted write never leaves a half file (the engine's formats write the same way). Throws
// engine::Error naming the file when it cannot be written.
#include <string>

namespace engine {

void write_file_atomically(const std::string& path, const std::string& contents);

}  // namespace engine
