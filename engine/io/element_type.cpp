// Element-type conversion to float32 for the file readers (see element_type.h).
#include "element_type.h"

#include <cmath>
#include <cstring>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "element conversion assumes a little-endian host");

namespace engine::io {
namespace {

float bits_to_float(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, 4);
  return value;
}

// IEEE binary16 -> binary32, exact (every half value is a float).
float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exponent = (h >> 10) & 0x1f;
  const uint32_t mantissa = h & 0x3ff;
  if (exponent == 0)  // zero and subnormals: mantissa * 2^-24
    return std::copysign(std::ldexp(static_cast<float>(mantissa), -24), sign ? -1.f : 1.f);
  if (exponent == 31) return bits_to_float(sign | 0x7f800000 | (mantissa << 13));  // inf, NaN
  return bits_to_float(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

template <class T>
T load(const uint8_t* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}

}  // namespace

size_t element_size(ElementType type) {
  switch (type) {
    case ElementType::float64:
    case ElementType::int64: return 8;
    case ElementType::float32:
    case ElementType::int32: return 4;
    case ElementType::float16:
    case ElementType::bfloat16:
    case ElementType::int16: return 2;
    case ElementType::int8:
    case ElementType::uint8:
    case ElementType::boolean: return 1;
  }
  return 1;
}

std::vector<float> to_float32(const uint8_t* data, ElementType type, size_t numel) {
  std::vector<float> out(numel);
  const size_t size = element_size(type);
  for (size_t i = 0; i < numel; ++i) {
    const uint8_t* p = data + i * size;
    switch (type) {
      case ElementType::float32: out[i] = load<float>(p); break;
      case ElementType::float64: out[i] = static_cast<float>(load<double>(p)); break;
      case ElementType::float16: out[i] = half_to_float(load<uint16_t>(p)); break;
      case ElementType::bfloat16: out[i] = bits_to_float(static_cast<uint32_t>(load<uint16_t>(p)) << 16); break;
      case ElementType::int64: out[i] = static_cast<float>(load<int64_t>(p)); break;
      case ElementType::int32: out[i] = static_cast<float>(load<int32_t>(p)); break;
      case ElementType::int16: out[i] = static_cast<float>(load<int16_t>(p)); break;
      case ElementType::int8: out[i] = static_cast<float>(load<int8_t>(p)); break;
      case ElementType::uint8: out[i] = static_cast<float>(*p); break;
      case ElementType::boolean: out[i] = *p ? 1.f : 0.f; break;
    }
  }
  return out;
}

}  // namespace engine::io
