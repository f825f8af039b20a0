// A program built against the installed engine (find_package(SarganEngine)): loads a SARGAN
// generator from safetensors and translates one face into each of its expressions.
//   translate_one G.safetensors FACE.png OUT_PREFIX IMAGE_SIZE G_CONV_DIM
// writes OUT_PREFIX_<k>.png for each target k (one-hot index order).
#include <cstdlib>
#include <iostream>

#include "engine/image.h"
#include "engine/version.h"
#include "models/sargan/translator.h"
#include "models/sargan/weights.h"

int main(int argc, char** argv) {
  if (argc != 6) {
    std::cerr << "usage: translate_one G.safetensors FACE.png OUT_PREFIX IMAGE_SIZE G_CONV_DIM\n";
    return 2;
  }
  namespace sargan = models::sargan;
  engine::Philox rng(0);  // initial values, all replaced by the weights file
  sargan::Generator g({/*conv_dim=*/std::atoi(argv[5])}, rng);
  sargan::load_generator(g, argv[1]);
  sargan::Translator translator(g, engine::Device::cpu());
  const engine::Image face = sargan::prepare_image(engine::load_image(argv[2], 3), std::atoi(argv[4]),
                                                   sargan::Crop::centre);
  const auto outputs = translator.translate({face}).front();
  for (size_t k = 0; k < outputs.size(); ++k)
    engine::save_png(std::string(argv[3]) + "_" + std::to_string(k) + ".png", outputs[k]);
  std::cout << "engine " << ENGINE_VERSION << ": " << outputs.size() << " expressions written\n";
  return 0;
}
