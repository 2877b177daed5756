// Issue 9 item 11: secrets are wiped when freed.
#include "comsec/base/secret.h"

#include <gtest/gtest.h>

#include <cstring>
#include <new>

namespace comsec {
namespace {

TEST(SecretArray, IsAnArrayAndWipesItselfWhenDestroyed) {
  alignas(SecretArray<16>) unsigned char storage[sizeof(SecretArray<16>)];
  auto* s = new (storage) SecretArray<16>{};
  for (size_t i = 0; i < s->size(); ++i) (*s)[i] = static_cast<uint8_t>(0xa0 + i);
  std::array<uint8_t, 16>& plain = *s;  // usable wherever std::array is
  EXPECT_EQ(plain[3], 0xa3);
  s->~SecretArray<16>();
  // The storage outlives the object: its bytes must now be zero.
  unsigned char zero[16] = {};
  EXPECT_EQ(std::memcmp(storage, zero, 16), 0);
}

TEST(SecretString, WipesItsBufferWhenDestroyed) {
  alignas(SecretString) unsigned char storage[sizeof(SecretString)];
  auto* s = new (storage) SecretString("correct horse battery staple");
  const char* buffer = s->view().data();
  EXPECT_EQ(s->view(), "correct horse battery staple");
  // Read the heap buffer through a copy of its pointer before the wipe; the
  // buffer is freed by the destructor, so check it just before that point
  // by replacing the value (which wipes the old contents in place).
  *s = SecretString("x");
  EXPECT_EQ(s->view(), "x");
  EXPECT_EQ(buffer, s->view().data());  // reserved up front: no reallocation
  EXPECT_EQ(std::memcmp(buffer + 1, "\0\0\0\0", 4), 0);
  s->~SecretString();
}

}  // namespace
}  // namespace comsec
