#pragma once
// The smallest SARGAN networks the trainer tests train: 32x32 images, G and D of width 4, D
// halving the image three times, an Hourglass of width 4. tests/fixtures/trainer/ (PyTorch) is
// made with these sizes (tools/fixtures/make_trainer_fixtures.py).
#include "models/sargan/train_config.h"

namespace test {

inline models::sargan::TrainConfig tiny_networks() {
  models::sargan::TrainConfig c;
  c.image_size = 32;
  c.g_conv_dim = 4;
  c.d_conv_dim = 4;
  c.d_repeat_num = 3;
  c.hourglass_dim = 4;
  return c;
}

}  // namespace test
