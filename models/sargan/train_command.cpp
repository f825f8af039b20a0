// `sargan --mode train`: the flags' TrainConfig, its folders, image size and device filled in (contract in commands.h).
#include <iomanip>
#include <optional>
#include <ostream>

#include "engine/check.h"
#include "engine/communicator.h"

#include "models/sargan/commands.h"
#include "models/sargan/save_dir_lock.h"
#include "models/sargan/trainer.h"

namespace models::sargan {

int run_train(const CommonOptions& common, const Options& o, std::ostream& log, std::ostream& out) {
  TrainConfig config = o.config;
  config.image_dir = !o.image_dir.empty() ? o.image_dir : common.train_dataset_dir;
  if (!o.model_save_dir.empty()) config.model_save_dir = o.model_save_dir;
  else if (!common.weights_dir.empty()) config.model_save_dir = common.weights_dir;
  config.result_dir = common.results_dir;
  config.image_size = common.image_size;
  config.device = common.device;
  // Rank 0 alone writes checkpoints (docs/distributed.md), so it alone holds the folder's lock.
  std::optional<SaveDirLock> lock;
  if (engine::launched_rank() == 0) lock.emplace(config.model_save_dir, log);
  const TrainReport report = train(config, log);
  if (report.last_step <= report.first_step)
    ENGINE_FAIL("nothing was trained: the run resumed at step ", report.first_step, " and --num_iters is ",
                config.num_iters, " (raise --num_iters to train further)");
  if (report.rank != 0) return 0;  // rank 0 reports for all
  out << "sargan: trained iterations " << report.first_step + 1 << ".." << report.last_step << " in " << std::fixed
      << std::setprecision(1) << report.seconds << " s" << std::defaultfloat;
  if (report.skipped_files) out << " (" << report.skipped_files << " unreadable files skipped)";
  if (report.ranks > 1)
    out << " on " << report.ranks << " ranks (" << std::fixed << std::setprecision(1) << report.seconds_averaging
        << std::defaultfloat << " s averaging gradients)";
  out << "; checkpoints in " << config.model_save_dir << "\n";
  return 0;
}

}  // namespace models::sargan
