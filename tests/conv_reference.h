#pragma once
// The convolution by its definition in double, and the comparison of a float result with it
// against a tolerance scaled per element: the reference of the conv tests (conv2d_test.cpp, the
// Winograd kernels' conv2d_winograd_test.cpp, conv2d_winograd_stride2_test.cpp and the CUDA
// conv2d_kernel_test.cpp).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "conv_shape.h"
#include "kernels/conv2d.h"

namespace test {

// y = conv2d(x, w) by its definition, y[n,co,oh,ow] = sum x[n,ci,oh*s-p+kh,ow*s-p+kw] w[co,ci,kh,kw],
// and for an upstream dy the gradients dx = d<y,dy>/dx and dw = d<y,dy>/dw from the same terms,
// in double.
struct ConvReference {
  std::vector<double> y, dx, dw;
};

inline ConvReference direct_conv(const kernels::Conv2dShape& s, const std::vector<float>& x,
                                 const std::vector<float>& w, const std::vector<float>& dy) {
  ConvReference r{std::vector<double>(dy.size()), std::vector<double>(x.size()), std::vector<double>(w.size())};
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t co = 0; co < s.c_out; ++co)
      for (int64_t oh = 0; oh < s.h_out; ++oh)
        for (int64_t ow = 0; ow < s.w_out; ++ow)
          for (int64_t ci = 0; ci < s.c_in; ++ci)
            for (int64_t kh = 0; kh < s.k_h; ++kh)
              for (int64_t kw = 0; kw < s.k_w; ++kw) {
                const int64_t ih = oh * s.stride - s.pad + kh, iw = ow * s.stride - s.pad + kw;
                if (ih < 0 || ih >= s.h_in || iw < 0 || iw >= s.w_in) continue;
                const int64_t ix = ((n * s.c_in + ci) * s.h_in + ih) * s.w_in + iw;
                const int64_t iy = ((n * s.c_out + co) * s.h_out + oh) * s.w_out + ow;
                const int64_t iw_tap = ((co * s.c_in + ci) * s.k_h + kh) * s.k_w + kw;
                const double tap = w[iw_tap];
                r.y[iy] += x[ix] * tap;
                r.dx[ix] += dy[iy] * tap;
                r.dw[iw_tap] += double(dy[iy]) * x[ix];
              }
  return r;
}

// Checks |actual - expected| <= tolerance * magnitude element by element; on failure reports the
// worst element, its error as a share of its magnitude and the share of the tolerance it used.
// NaN (an output left unwritten, or scratch read before it was written) fails.
inline void expect_within_magnitude(const std::vector<float>& actual, const std::vector<double>& expected,
                                    const std::vector<double>& magnitude, double tolerance, const std::string& what) {
  INFO(what);
  REQUIRE(actual.size() == expected.size());
  REQUIRE(magnitude.size() == expected.size());
  double worst_share = 0;
  size_t worst = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    const double error = std::fabs(actual[i] - expected[i]);
    const double share = std::isnan(error) ? INFINITY : error / (tolerance * magnitude[i] + 1e-30);
    if (share > worst_share) {
      worst_share = share;
      worst = i;
    }
  }
  std::ostringstream report;
  report << what << ": worst element " << worst << " got " << actual[worst] << " expected " << expected[worst]
         << ", error " << std::fabs(actual[worst] - expected[worst]) / magnitude[worst] << " of its magnitude, "
         << 100 * worst_share << "% of the tolerance " << tolerance;
  INFO(report.str());
  CHECK(worst_share <= 1.0);
}

// The scale of the rounding error of an output of the conv s computed by F(tile x tile, 3x3):
// every output of a tile is a combination of the transforms of the tile's whole (tile + 2)^2
// input patch, so its error follows the patch, not its own terms (a corner output next to the
// padding has one small term, yet the error of its neighbours). Per output: sum over ci of max |x|
// over the tile's patch times sum |w[co,ci]| over the taps, with weight_abs[co * Ci + ci] that
// sum; it bounds the sum of |terms| of every output of the tile. (For the CPU's and the CUDA
// kernels' F(4x4, 3x3) and the CUDA kernels' F(6x6, 3x3), whose tiles start at output (0, 0).)
inline std::vector<double> winograd_tile_magnitude(const kernels::Conv2dShape& s, const std::vector<float>& x,
                                                   const std::vector<double>& weight_abs, int64_t tile = 4) {
  std::vector<double> m(s.n * s.c_out * s.h_out * s.w_out);
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t oh = 0; oh < s.h_out; ++oh)
      for (int64_t ow = 0; ow < s.w_out; ++ow)
        for (int64_t ci = 0; ci < s.c_in; ++ci) {
          double patch = 0;
          const int64_t ih0 = oh / tile * tile - s.pad, iw0 = ow / tile * tile - s.pad;
          for (int64_t ih = ih0; ih < ih0 + tile + 2; ++ih)
            for (int64_t iw = iw0; iw < iw0 + tile + 2; ++iw)
              if (ih >= 0 && ih < s.h_in && iw >= 0 && iw < s.w_in)
                patch = std::max(patch, double(std::fabs(x[((n * s.c_in + ci) * s.h_in + ih) * s.w_in + iw])));
          for (int64_t co = 0; co < s.c_out; ++co)
            m[((n * s.c_out + co) * s.h_out + oh) * s.w_out + ow] += patch * weight_abs[co * s.c_in + ci];
        }
  return m;
}

// weight_abs for the magnitudes: sum |w[co,ci]| over the taps of the conv `forward`'s w, as
// [co][ci]; with `transposed`, as [ci][co], for its input gradient.
inline std::vector<double> winograd_weight_abs(const kernels::Conv2dShape& forward, const std::vector<float>& w,
                                               bool transposed) {
  const int64_t taps = forward.k_h * forward.k_w;
  std::vector<double> sums(forward.c_out * forward.c_in);
  for (int64_t co = 0; co < forward.c_out; ++co)
    for (int64_t ci = 0; ci < forward.c_in; ++ci)
      for (int64_t k = 0; k < taps; ++k) {
        const double tap = std::fabs(w[(co * forward.c_in + ci) * taps + k]);
        sums[transposed ? ci * forward.c_out + co : co * forward.c_in + ci] += tap;
      }
  return sums;
}

// The same scale for the 4x4 stride-2 Winograd kernels (CPU and CUDA), whose tiles gather phases
// of a larger patch: bounded per (image, output channel o) by sum over the input channels i of
// max |in| over the image's channel i times sum |w| over the taps joining i and o. `in` is the
// forward's x, or with `backward` the input gradient's dy (o then runs over the forward's Ci).
inline std::vector<double> winograd_channel_magnitude(const kernels::Conv2dShape& forward,
                                                      const std::vector<float>& in, const std::vector<float>& w,
                                                      bool backward) {
  const int64_t c_in = backward ? forward.c_out : forward.c_in, c_out = backward ? forward.c_in : forward.c_out;
  const int64_t in_plane = backward ? forward.h_out * forward.w_out : forward.h_in * forward.w_in;
  const int64_t out_plane = backward ? forward.h_in * forward.w_in : forward.h_out * forward.w_out;
  const std::vector<double> weight_abs = winograd_weight_abs(forward, w, backward);  // [o][i]
  std::vector<double> m(forward.n * c_out * out_plane);
  for (int64_t b = 0; b < forward.n; ++b)
    for (int64_t i = 0; i < c_in; ++i) {
      double peak = 0;
      for (int64_t k = 0; k < in_plane; ++k)
        peak = std::max(peak, double(std::fabs(in[(b * c_in + i) * in_plane + k])));
      for (int64_t o = 0; o < c_out; ++o)
        for (int64_t k = 0; k < out_plane; ++k) m[(b * c_out + o) * out_plane + k] += peak * weight_abs[o * c_in + i];
    }
  return m;
}

// The scale of the rounding error of a weight gradient by Winograd (the CUDA kernels': dU summed
// over the tiles of each image's transforms of x and dy): per (co, ci) and tap, sum over the
// images of sum |dy[n,co]| times max |x[n,ci]|.
inline std::vector<double> winograd_weight_grad_magnitude(const kernels::Conv2dShape& s, const std::vector<float>& x,
                                                          const std::vector<float>& dy) {
  const int64_t in_plane = s.h_in * s.w_in, out_plane = s.h_out * s.w_out, taps = s.k_h * s.k_w;
  std::vector<double> m(s.c_out * s.c_in * taps);
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t co = 0; co < s.c_out; ++co) {
      double dy_sum = 0;
      for (int64_t k = 0; k < out_plane; ++k) dy_sum += std::fabs(dy[(n * s.c_out + co) * out_plane + k]);
      for (int64_t ci = 0; ci < s.c_in; ++ci) {
        double peak = 0;
        for (int64_t k = 0; k < in_plane; ++k)
          peak = std::max(peak, double(std::fabs(x[(n * s.c_in + ci) * in_plane + k])));
        for (int64_t k = 0; k < taps; ++k) m[(co * s.c_in + ci) * taps + k] += dy_sum * peak;
      }
    }
  return m;
}

}  // namespace test
