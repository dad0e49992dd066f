// A stand-in for sdp-worker that misbehaves on purpose, so the tests can
// show the host survives a worker that crashes, hangs, lies or vanishes.
// What it does is chosen by the script text of the request it receives.
#include <signal.h>
#include <unistd.h>

#include <string>

#include "sandbox/worker/protocol.h"

using namespace sandbox::worker;

int main() {
  char header[kHeaderSize];
  while (read_exact(kWorkerFd, header, sizeof header)) {
    std::uint64_t length = 0;
    if (!parse_frame_header(header, kRequestFrame, length)) return 1;
    std::string payload(length, '\0');
    if (!read_exact(kWorkerFd, payload.data(), length)) return 1;
    const auto request = decode_request(payload);
    const std::string mode = request ? request->script : "";
    if (mode == "segfault") {
      raise(SIGSEGV);
    } else if (mode == "abort") {
      abort();
    } else if (mode == "exit") {
      _exit(0);
    } else if (mode == "hang") {
      for (;;) pause();
    } else if (mode == "spin") {
      for (;;) asm volatile("");
    } else if (mode == "garbage") {
      write_all(kWorkerFd, "this is not a frame at all");
    } else if (mode == "huge") {
      write_all(kWorkerFd, frame_header(kResultFrame, 1ull << 40));
    } else {
      sandbox::engine::RawResult ok;
      ok.ok = true;
      ok.parser_json = R"({"name":"fake","schema":{"a":"string"}})";
      ok.records_json = R"([{"a":"alive"}])";
      // "records:TEXT" sends TEXT as the records, whatever it is.
      if (mode.rfind("records:", 0) == 0) ok.records_json = mode.substr(8);
      ok.record_count = 1;
      const std::string body = encode_result(ok);
      write_all(kWorkerFd, frame_header(kResultFrame, body.size()));
      write_all(kWorkerFd, body);
    }
  }
  return 0;
}
