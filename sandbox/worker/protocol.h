// The wire format between the host and a sandbox worker process: one request
// frame in, one result frame out, over a Unix stream socket. Internal to the
// sandbox module.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sandbox/engine/runner.h"

namespace sandbox::worker {

// The worker's end of the socket pair.
constexpr int kWorkerFd = 3;

// A frame is: magic (4 bytes), type (4 bytes), payload length (8 bytes), payload.
constexpr std::uint32_t kMagic = 0x53445057;  // "SDPW"
constexpr std::uint32_t kRequestFrame = 1;
constexpr std::uint32_t kResultFrame = 2;
constexpr std::size_t kHeaderSize = 16;

std::string encode_request(const engine::RunRequest& request);
// The same from its parts, without first copying the page into a RunRequest.
std::string encode_request(std::string_view script_name, std::string_view script, const Page& page,
                           const Limits& limits);
std::optional<engine::RunRequest> decode_request(std::string_view payload);
std::string encode_result(const engine::RawResult& result);
std::optional<engine::RawResult> decode_result(std::string_view payload);

// Frame header helpers.
std::string frame_header(std::uint32_t type, std::uint64_t length);
// Reads a header; false when the magic or type is wrong.
bool parse_frame_header(const char* header, std::uint32_t expected_type, std::uint64_t& length);

// Blocking I/O on a socket that retries on EINTR; false on EOF or error.
bool write_all(int fd, std::string_view data);
bool read_exact(int fd, char* out, std::size_t n);

}  // namespace sandbox::worker
