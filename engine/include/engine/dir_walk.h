#pragma once
// Listing the files of an input folder without trusting the filesystem: each folder is entered
// once (by device and inode), so a symlink cycle (`up -> ..`, `me -> .`) neither loops nor
// repeats files; only regular files (or symlinks to them) are returned, so a FIFO named
// `x.png` cannot block a reader; entries that cannot be examined (dangling or self-looping
// symlinks, over-long names, no permission) are skipped. Every skip is reported through `warn`
// as one line naming the entry. Used by the SARGAN and LSRF image listings and the training scan.
#include <functional>
#include <string>
#include <vector>

namespace engine {

using WarnFn = std::function<void(const std::string& line)>;  // one line, no "warning: " prefix

struct DirWalkOptions {
  bool recursive = true;     // enter sub-folders (and symlinks to folders)
  bool skip_hidden = true;   // ignore names starting with '.' (files and folders)
  std::function<bool(const std::string& name)> want;  // files to return (all when empty)
};

// The paths (root/.../name) of the wanted regular files under the folder `root`, sorted by
// path. Throws engine::Error when `root` itself cannot be read as a folder.
std::vector<std::string> list_regular_files(const std::string& root, const DirWalkOptions& options,
                                            const WarnFn& warn);

}  // namespace engine
