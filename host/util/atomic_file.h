// Writing a file so that readers see the old content or the whole new one,
// never a part: a temporary file beside the target, fsync, rename, fsync of
// the directory. The SHA-256 of what was written is computed on the way.
#pragma once

#include <array>
#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <string_view>

namespace host::util {

class AtomicFile {
 public:
  // Creates the temporary file beside `path`. The error names the path and
  // the reason (missing directory, permission, full disk).
  static std::expected<AtomicFile, std::string> create(const std::string& path);

  // Appends; buffered. Errors are reported by commit().
  void write(std::string_view data);

  // Flushes, fsyncs and renames over the target. Until then (or if this
  // fails, or the object is destroyed first) the target is untouched and the
  // temporary file is removed.
  std::expected<void, std::string> commit();

  // Lower-case hex SHA-256 of everything written.
  std::string sha256_hex() const;
  std::uint64_t bytes_written() const { return bytes_; }

  AtomicFile(AtomicFile&&) noexcept;
  AtomicFile& operator=(AtomicFile&&) noexcept;
  ~AtomicFile();

 private:
  struct Impl;
  explicit AtomicFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::uint64_t bytes_ = 0;
};

// Writes `content` to `path` atomically.
std::expected<void, std::string> write_file_atomically(const std::string& path,
                                                       std::string_view content);

}  // namespace host::util
