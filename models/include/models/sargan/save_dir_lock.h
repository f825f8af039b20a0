#pragma once
// One training per --model_save_dir. Two runs writing step files into one folder would
// interleave them into a mixed set, so a run holds an exclusive lock on the folder while it
// trains: flock(2) on `<dir>/.sargan.lock`, which also records the owner's pid and host for
// the refusal message. The kernel drops a flock when its process dies, so a lock left by a
// killed run is stale by construction and is simply taken over (said in one line). Under the
// lock, temporaries that an interrupted atomic write of ours left behind
// (`<step>-{G,D,state}.safetensors.tmp-<pid>`, `checkpoint.tmp-<pid>`, `config.json.tmp-<pid>`)
// are removed, and the count is logged. Local filesystems only: flock over NFS is not reliable.
#include <ostream>
#include <string>

namespace models::sargan {

class SaveDirLock {
 public:
  // Creates `dir` if needed; throws engine::Error naming the owner when another live process
  // holds the lock.
  SaveDirLock(const std::string& dir, std::ostream& log);
  ~SaveDirLock();
  SaveDirLock(const SaveDirLock&) = delete;
  SaveDirLock& operator=(const SaveDirLock&) = delete;

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace models::sargan
