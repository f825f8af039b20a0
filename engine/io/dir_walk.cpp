// The guarded folder walk (see engine/dir_walk.h). POSIX calls rather than
// std::filesystem::recursive_directory_iterator: that iterator follows symlink cycles until
// ELOOP, then throws out of the whole listing, and cannot tell a FIFO from a file before use.
#include "engine/dir_walk.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <utility>

#include "engine/check.h"

namespace engine {

namespace {

const char* kind_of(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  return "not a regular file";
}

}  // namespace

std::vector<std::string> list_regular_files(const std::string& root, const DirWalkOptions& options,
                                            const WarnFn& warn_fn) {
  auto warn = [&](const std::string& line) {
    if (warn_fn) warn_fn(line);
  };
  struct stat st;
  if (::stat(root.c_str(), &st) != 0)
    ENGINE_FAIL("cannot read the folder '", printable(root, 4096), "': ", std::strerror(errno));
  if (!S_ISDIR(st.st_mode)) ENGINE_FAIL("'", printable(root, 4096), "' is not a folder");
  std::set<std::pair<dev_t, ino_t>> visited{{st.st_dev, st.st_ino}};
  std::vector<std::string> folders{root}, files;
  while (!folders.empty()) {
    const std::string folder = std::move(folders.back());
    folders.pop_back();
    DIR* dir = ::opendir(folder.c_str());
    if (!dir) {
      if (folder == root) ENGINE_FAIL("cannot read the folder '", printable(root, 4096), "': ", std::strerror(errno));
      warn("skipping the folder '" + printable(folder, 4096) + "': " + std::strerror(errno));
      continue;
    }
    std::vector<std::string> names;
    while (const dirent* entry = ::readdir(dir)) names.emplace_back(entry->d_name);
    ::closedir(dir);
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      if (name == "." || name == ".." || (options.skip_hidden && name[0] == '.')) continue;
      const std::string path = folder + (folder.back() == '/' ? "" : "/") + name;
      if (::stat(path.c_str(), &st) != 0) {  // dangling, self-looping, name too long, no access
        warn("skipping '" + printable(path, 4096) + "': " + std::strerror(errno));
        continue;
      }
      if (S_ISDIR(st.st_mode)) {
        if (!options.recursive) continue;
        if (!visited.insert({st.st_dev, st.st_ino}).second) {
          warn("skipping '" + printable(path, 4096) + "': a folder already listed (a symlink cycle or a second link)");
          continue;
        }
        folders.push_back(path);
      } else if (!S_ISREG(st.st_mode)) {
        if (!options.want || options.want(name))
          warn("skipping '" + printable(path, 4096) + "': " + kind_of(st.st_mode) + ", not a regular file");
      } else if (!options.want || options.want(name)) {
        files.push_back(path);
      }
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace engine
