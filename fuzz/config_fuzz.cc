// libFuzzer target: arbitrary bytes as configuration text and as a snapshot. Neither may
// crash, hang or leak; both must return an Error for nonsense.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config_parser.h"
#include "config/config_source.h"
#include "config/vhost_router.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  itkd::ParseOptions options;
  options.resolve_identities = false;
  options.defines = {"FUZZ"};
  auto config = itkd::parse_config_text(text, "fuzz.conf", options);
  if (config.ok()) {
    (void)itkd::describe_config(*config);
    itkd::VhostRouter router(*config);
    (void)router.route("127.0.0.1", 80, "www.example.com");
    (void)router.route("::1", 8080, "");
  }
  auto snapshot = itkd::ConfigSnapshot::deserialize(text);
  if (snapshot.ok()) {
    itkd::SnapshotSource source(*snapshot);
    (void)itkd::parse_config(source, snapshot->main_file.empty() ? "/x" : snapshot->main_file,
                             options);
    (void)snapshot->serialize();
  }
  return 0;
}
