// The --model_save_dir lock and stale-temporary sweep (contract in save_dir_lock.h).
#include "models/sargan/save_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <regex>

#include "engine/check.h"

namespace fs = std::filesystem;

namespace models::sargan {

namespace {

std::string read_owner(int fd) {
  char text[256] = {};
  const ssize_t n = ::pread(fd, text, sizeof(text) - 1, 0);
  std::string owner(text, n > 0 ? size_t(n) : 0);
  while (!owner.empty() && owner.back() == '\n') owner.pop_back();
  return engine::printable(owner);
}

std::string this_owner() {
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  return "pid " + std::to_string(::getpid()) + " on host " + host;
}

int remove_stale_temporaries(const std::string& dir) {
  static const std::regex ours(R"(([0-9]+-(G|D|state)\.safetensors|checkpoint|config\.json)\.tmp-[0-9]+)");
  int removed = 0;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    std::error_code entry_ec;
    if (std::regex_match(name, ours) && entry.is_regular_file(entry_ec) && fs::remove(entry.path(), entry_ec)) ++removed;
  }
  return removed;
}

}  // namespace

SaveDirLock::SaveDirLock(const std::string& dir, std::ostream& log) : path_((fs::path(dir) / ".sargan.lock").string()) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!fs::is_directory(dir, ec))
    ENGINE_FAIL("cannot create --model_save_dir '", engine::printable(dir, 4096), "': ", ec.message());
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd_ < 0) ENGINE_FAIL("cannot open the lock file '", engine::printable(path_, 4096), "': ", std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    const std::string owner = read_owner(fd_);
    ::close(fd_);
    fd_ = -1;
    if (error == EWOULDBLOCK)
      ENGINE_FAIL("--model_save_dir '", engine::printable(dir, 4096), "' is in use by another training (",
                  owner.empty() ? "owner unknown" : owner, "; lock '", engine::printable(path_, 4096),
                  "'); wait for it to end or choose another folder");
    ENGINE_FAIL("cannot lock '", engine::printable(path_, 4096), "': ", std::strerror(error));
  }
  const std::string stale = read_owner(fd_);
  if (!stale.empty())
    log << "note: took over the stale lock of a training that ended without releasing it (" << stale << ")\n";
  const std::string owner = this_owner() + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, owner.data(), owner.size(), 0) != ssize_t(owner.size()))
    ENGINE_FAIL("cannot write the lock file '", engine::printable(path_, 4096), "': ", std::strerror(errno));
  if (const int removed = remove_stale_temporaries(dir))
    log << "note: removed " << removed << " temporary file" << (removed == 1 ? "" : "s")
        << " left by an interrupted checkpoint write in '" << engine::printable(dir, 4096) << "'\n";
}

SaveDirLock::~SaveDirLock() {
  if (fd_ < 0) return;
  // Emptied before unlocking: a lock file with an owner in it means a run that did not end cleanly.
  // (Failing to empty it is harmless: the flock, not the text, is what excludes.)
  const int emptied = ::ftruncate(fd_, 0);
  static_cast<void>(emptied);
  ::close(fd_);  // releases the flock
}

}  // namespace models::sargan
