// Where configuration text comes from. The master reads files from disk (DiskSource) and
// records every file and glob expansion it used; children re-parse from that recording
// (SnapshotSource, handed over as a memfd), so every process parses the same bytes even if
// the admin edits a file meanwhile, and a chrooted front never needs to open a file.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "sandbox/privileges.h"

namespace itkd {

class ConfigSource {
 public:
  virtual ~ConfigSource() = default;
  // Whole contents of an absolute path.
  virtual Result<std::string> read_file(const std::string& path) = 0;
  // Sorted list of absolute paths matching a glob pattern (fnmatch rules, as glob(3)).
  // A directory given without wildcard lists the files in it (Apache's Include dir/).
  virtual Result<std::vector<std::string>> expand(const std::string& pattern) = 0;
  virtual bool is_directory(const std::string& path) = 0;
  // User/group names -> ids (resolve_identity). Recorded like the files, so a child in an
  // empty chroot, which can't read /etc/passwd, resolves exactly as the master did.
  virtual Result<Identity> resolve(const std::string& user, const std::string& group) {
    return resolve_identity(user, group);
  }
};

// The recorded inputs of one parse.
struct ConfigSnapshot {
  std::string main_file;
  std::vector<std::string> defines;                       // -D names
  std::map<std::string, std::string> files;               // path -> contents
  std::map<std::string, std::vector<std::string>> globs;  // pattern -> expansion
  std::vector<std::string> directories;                   // paths that were directories
  // (user, group) -> what resolve_identity answered: an Identity, or its error message.
  struct IdentityRecord {
    Identity identity;
    std::string error;  // non-empty: the lookup failed with this message
  };
  std::map<std::pair<std::string, std::string>, IdentityRecord> identities;

  std::string serialize() const;
  static Result<ConfigSnapshot> deserialize(const std::string& bytes);
};

class DiskSource : public ConfigSource {
 public:
  Result<std::string> read_file(const std::string& path) override;
  Result<std::vector<std::string>> expand(const std::string& pattern) override;
  bool is_directory(const std::string& path) override;
  Result<Identity> resolve(const std::string& user, const std::string& group) override;
  // Everything read so far, for handing to children.
  const ConfigSnapshot& recorded() const { return recorded_; }
  ConfigSnapshot& recorded() { return recorded_; }

 private:
  ConfigSnapshot recorded_;
};

class SnapshotSource : public ConfigSource {
 public:
  explicit SnapshotSource(const ConfigSnapshot& snapshot) : snapshot_(snapshot) {}
  Result<std::string> read_file(const std::string& path) override;
  Result<std::vector<std::string>> expand(const std::string& pattern) override;
  bool is_directory(const std::string& path) override;
  Result<Identity> resolve(const std::string& user, const std::string& group) override;

 private:
  const ConfigSnapshot& snapshot_;
};

}  // namespace itkd
