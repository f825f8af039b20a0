// LSRF/OMP weight files: SciPy's save_npz output read here (committed fixture), ours read by SciPy's
// load_npz (when /usr/bin/python3 has scipy), the file search, and the bad-input messages.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>

#include "engine/check.h"
#include "engine/npy.h"
#include "models/lsrf/weights.h"

namespace fs = std::filesystem;
using models::lsrf::CsrWeights;

namespace {

const std::string fixtures = std::string(ENGINE_SOURCE_DIR) + "/tests/fixtures/npz/";

fs::path temp_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("lsrf_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// The matrix tools/fixtures/make_npz_fixtures.py saves with scipy.sparse.save_npz.
const std::vector<std::vector<double>> fixture_dense = {
    {1.5, 0, 0, 0, -2.0}, {0, 0, 0, 0, 0}, {0, 0.25, 0, 3.0, 0}, {0, 0, 0, 0, 7.0}};

std::vector<std::vector<double>> densify(const CsrWeights& w) {
  std::vector<std::vector<double>> d(size_t(w.rows), std::vector<double>(size_t(w.cols), 0.0));
  for (int64_t r = 0; r < w.rows; ++r)
    for (int32_t k = w.indptr[r]; k < w.indptr[r + 1]; ++k) d[r][w.indices[k]] += w.data[k];
  return d;
}

CsrWeights small_weights(int size) {  // identity plus a bias of 0.5, [S², S²+1]
  CsrWeights w;
  w.rows = int64_t(size) * size;
  w.cols = w.rows + 1;
  w.indptr.push_back(0);
  for (int32_t r = 0; r < w.rows; ++r) {
    w.indices.insert(w.indices.end(), {r, int32_t(w.rows)});
    w.data.insert(w.data.end(), {1.0, 0.5});
    w.indptr.push_back(int32_t(w.indices.size()));
  }
  return w;
}

bool python_has(const std::string& modules) {
  const std::string command = "/usr/bin/python3 -c 'import " + modules + "' >/dev/null 2>&1";
  return fs::exists("/usr/bin/python3") && std::system(command.c_str()) == 0;
}

}  // namespace

TEST_CASE("lsrf weights: SciPy's save_npz file (deflated) is read", "[lsrf]") {
  const CsrWeights w = models::lsrf::load_csr_npz(fixtures + "scipy_csr.npz");
  CHECK(w.rows == 4);
  CHECK(w.cols == 5);
  CHECK(densify(w) == fixture_dense);
}

TEST_CASE("lsrf weights: our save_npz layout round-trips and SciPy loads it", "[lsrf]") {
  const fs::path dir = temp_dir("save");
  const std::string path = (dir / "w.npz").string();
  const CsrWeights w = models::lsrf::load_csr_npz(fixtures + "scipy_csr.npz");
  models::lsrf::save_csr_npz(path, w);
  CHECK(densify(models::lsrf::load_csr_npz(path)) == fixture_dense);
  if (!python_has("scipy.sparse")) {
    WARN("skipped: /usr/bin/python3 with scipy not found, our .npz not checked by scipy.sparse.load_npz");
  } else {
    const std::string check = "/usr/bin/python3 -c \"import numpy as np, scipy.sparse as sp; m = sp.load_npz('" + path +
                              "'); assert m.format == 'csr' and m.shape == (4, 5); assert (m.toarray() == np.array(" +
                              "[[1.5,0,0,0,-2],[0,0,0,0,0],[0,0.25,0,3,0],[0,0,0,0,7]])).all()\"";
    CHECK(std::system(check.c_str()) == 0);
  }
  fs::remove_all(dir);
}

TEST_CASE("lsrf weights: the file is found ignoring case; a missing one lists the folder", "[lsrf]") {
  const fs::path dir = temp_dir("find");
  CHECK(models::lsrf::weights_file_name("LSRF", 1, 128) == "lsrf_weights_N2HAS_f-1_img-size_128.npz");
  models::lsrf::save_csr_npz((dir / "LSRF_Weights_n2has_F-1_img-size_4.npz").string(), small_weights(4));
  std::ofstream(dir / "notes.txt") << "x";
  CHECK(models::lsrf::find_weights_file(dir.string(), "lsrf", 1, 4) == (dir / "LSRF_Weights_n2has_F-1_img-size_4.npz").string());
  CHECK_THROWS_WITH(models::lsrf::find_weights_file(dir.string(), "OMP", 5, 80),
                    Catch::Contains("omp_weights_N2HAS_f-5_img-size_80.npz") &&
                        Catch::Contains("LSRF_Weights_n2has_F-1_img-size_4.npz, notes.txt"));
  CHECK_THROWS_WITH(models::lsrf::find_weights_file((dir / "nope").string(), "OMP", 5, 80),
                    Catch::Contains("does not exist") && Catch::Contains("omp_weights_N2HAS_f-5_img-size_80.npz"));
  fs::remove_all(dir);
}

TEST_CASE("lsrf weights: wrong shape for --image_size and malformed files are refused", "[lsrf]") {
  const fs::path dir = temp_dir("bad");
  const CsrWeights w = small_weights(4);
  CHECK_NOTHROW(models::lsrf::check_weights_shape(w, 4, "w.npz"));
  CHECK_THROWS_WITH(models::lsrf::check_weights_shape(w, 8, "w.npz"),
                    Catch::Contains("[16, 17]") && Catch::Contains("--image_size 8") && Catch::Contains("--image_size 4"));

  auto save_with = [&](const std::string& name, auto edit) {
    std::map<std::string, engine::NpyArray> arrays;
    arrays["data"] = engine::NpyArray::from_f64(w.data, {int64_t(w.data.size())});
    arrays["indices"] = engine::NpyArray::from_i32(w.indices, {int64_t(w.indices.size())});
    arrays["indptr"] = engine::NpyArray::from_i32(w.indptr, {int64_t(w.indptr.size())});
    arrays["shape"] = engine::NpyArray::from_i64({w.rows, w.cols}, {2});
    arrays["format"] = engine::NpyArray::from_bytes_scalar("csr");
    edit(arrays);
    const std::string path = (dir / name).string();
    engine::save_npz(path, arrays);
    return path;
  };
  using Arrays = std::map<std::string, engine::NpyArray>;
  CHECK_NOTHROW(models::lsrf::load_csr_npz(save_with("ok.npz", [](Arrays&) {})));
  struct Case {
    std::string name, reason;
    std::function<void(Arrays&)> edit;
  };
  std::vector<Case> cases = {
      {"csc.npz", "must be 'csr'", [](Arrays& a) { a["format"] = engine::NpyArray::from_bytes_scalar("csc"); }},
      {"no_data.npz", "no 'data.npy'", [](Arrays& a) { a.erase("data"); }},
      {"short_indptr.npz", "'indptr' has", [](Arrays& a) { a["indptr"] = engine::NpyArray::from_i32({0, 2}, {2}); }},
      {"bad_index.npz", "out of range",
       [&](Arrays& a) {
         std::vector<int32_t> idx = w.indices;
         idx[3] = 99;
         a["indices"] = engine::NpyArray::from_i32(idx, {int64_t(idx.size())});
       }},
      {"decreasing.npz", "decreases",
       [&](Arrays& a) {
         std::vector<int32_t> ptr = w.indptr;
         std::swap(ptr[2], ptr[3]);
         a["indptr"] = engine::NpyArray::from_i32(ptr, {int64_t(ptr.size())});
       }},
      {"int_data.npz", "'data' must be", [](Arrays& a) { a["data"] = engine::NpyArray::from_i32({1}, {1}); }},
  };
  // Issue 14 case 5: one NaN, infinity or value beyond float range (used as float, 1e300 becomes
  // an infinity) in the weights gave black images and exit 0; each is refused naming its element.
  for (const double bad : {std::nan(""), HUGE_VAL, -HUGE_VAL, 1e300})
    cases.push_back({"nonfinite.npz", "not a finite float", [&, bad](Arrays& a) {
                       std::vector<double> data = w.data;
                       data[2] = bad;
                       a["data"] = engine::NpyArray::from_f64(data, {int64_t(data.size())});
                     }});
  for (const Case& c : cases) {
    INFO(c.name);
    const std::string path = save_with(c.name, c.edit);
    CHECK_THROWS_WITH(models::lsrf::load_csr_npz(path), Catch::Contains(path) && Catch::Contains(c.reason));
  }
  CHECK_THROWS_WITH(models::lsrf::load_csr_npz((dir / "nonfinite.npz").string()), Catch::Contains("at element 2"));
  const fs::path junk = dir / "junk.npz";
  std::ofstream(junk) << "this is not a zip archive at all";
  CHECK_THROWS_WITH(models::lsrf::load_csr_npz(junk.string()), Catch::Contains("junk.npz"));
  fs::remove_all(dir);
}
