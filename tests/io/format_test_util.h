#pragma once
// Helpers shared by the file-format tests (zip, torch_checkpoint, safetensors): scratch files,
// byte patching, and running /usr/bin/python3 (for the PyTorch cross-checks) when it exists.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace format_test {

// Where scratch files go: /dev/shm (memory) when present, since the fuzz-style tests write a
// thousand small files and a busy disk would make them slow; else the temp directory.
inline std::filesystem::path scratch_root() {
  std::error_code error;
  if (std::filesystem::is_directory("/dev/shm", error)) return "/dev/shm";
  return std::filesystem::temp_directory_path();
}

// A fresh directory per test case, removed at the end of the case.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name)
      : path_(scratch_root() / ("engine_io_" + name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  // Names of the files in the directory (to check no temporary file is left behind).
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(path_)) names.push_back(entry.path().filename().string());
    return names;
  }

 private:
  std::filesystem::path path_;
};

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

inline std::vector<uint8_t> bytes_of(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }

inline uint32_t get32(const std::vector<uint8_t>& b, size_t at) {
  return b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (static_cast<uint32_t>(b[at + 3]) << 24);
}
inline uint16_t get16(const std::vector<uint8_t>& b, size_t at) { return static_cast<uint16_t>(b[at] | (b[at + 1] << 8)); }
inline void put32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

// Runs /usr/bin/python3 -c `code` args... (no single quotes in code or args); returns whether it
// exited with status 0, with its stdout and stderr in `output`.
inline bool run_python(const std::string& code, const std::vector<std::string>& args, std::string& output) {
  std::string command = "/usr/bin/python3 -c '" + code + "'";
  for (const std::string& arg : args) command += " '" + arg + "'";
  command += " 2>&1";
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return false;
  output.clear();
  char buffer[4096];
  size_t got;
  while ((got = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, got);
  return ::pclose(pipe) == 0;
}

// Whether /usr/bin/python3 exists and can import `module`: cross-checks skip (with a WARN) when not.
inline bool python_has(const std::string& module) {
  std::string output;
  return std::filesystem::exists("/usr/bin/python3") && run_python("import " + module, {}, output);
}

}  // namespace format_test
