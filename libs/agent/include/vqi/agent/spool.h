// The agent's durable outbound spool (docs/design/ipc.md "Spool"): cloud publishes and file
// uploads of components, kept on disk until the broker acknowledged them (QoS 1 PUBACK), sent
// in order. One file per message in <root>/spool/; bounded in messages and bytes; when full a
// new message is refused (ResourceExhausted to the publisher), nothing stored is dropped.
//
// Thread-safety: every method may be called from any thread (one mutex).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/status.h"

namespace vqi::agent {

struct SpoolOptions {
  std::string dir;                        // made if missing (0700)
  size_t max_messages = 10000;            // messages waiting for a PUBACK
  uint64_t max_bytes = 64ull << 20;       // their payload bytes on disk (headers included)
  size_t max_message_bytes = 512u << 10;  // one message (the MQTT payload)
  bool sync = true;                       // fsync each message before Append returns (tests of
                                          // throughput may turn it off; never on a device)
};

struct SpoolMessage {
  uint64_t seq = 0;       // order of Append; file name
  std::string id;         // unique message id, also inside the payload ("vqiMessageId")
  std::string topic;      // MQTT topic
  std::string component;  // the publisher
  std::string payload;    // the MQTT payload as sent (a JSON object)
};

struct SpoolStats {
  size_t messages = 0;    // waiting now
  uint64_t bytes = 0;     // their file bytes now
  uint64_t appended = 0;  // since Open
  uint64_t removed = 0;   // acknowledged since Open
  uint64_t refused = 0;   // refused since Open (full or too big)
};

// {"messages": N, "bytes": B} of the spool folder `dir` as it is on disk now (read-only; safe
// while an agent runs on it; {0, 0} when it does not exist): for `vqi-agent status`.
Json SpoolSummary(const std::string& dir);

class Spool {
 public:
  // Opens (or creates) the spool: removes temporary files of an interrupted Append, indexes the
  // messages left by an earlier run (they are sent again, same ids). DataLoss naming the file
  // for a message file that cannot be read back.
  static Result<std::unique_ptr<Spool>> Open(const SpoolOptions& options);

  // Adds `body` (a JSON object; its "vqiMessageId" is set to a new unique id) for `topic`.
  // Returns the id once the message is durable (written, fsynced, renamed, folder fsynced).
  // ResourceExhausted when the spool is full (max_messages / max_bytes) or the message is
  // larger than max_message_bytes — the message is not stored; InvalidArgument for a body that
  // is not an object; Unavailable for a write failure (nothing stored).
  Result<std::string> Append(const std::string& topic, const std::string& component, Json body);

  // Up to `n` waiting messages with seq > after_seq, oldest first (read from disk).
  std::vector<SpoolMessage> After(uint64_t after_seq, size_t n) const;

  // The message was acknowledged by the broker: its file is deleted (not synced: after a power
  // cut it may be sent once more, with the same id). Unknown seq: OK (already removed).
  Status Remove(uint64_t seq);

  SpoolStats Stats() const;
  const SpoolOptions& options() const { return o_; }

 private:
  explicit Spool(SpoolOptions o) : o_(std::move(o)) {}
  std::string PathOf(uint64_t seq) const;
  Result<SpoolMessage> Load(uint64_t seq) const;

  const SpoolOptions o_;
  mutable std::mutex mu_;
  std::map<uint64_t, uint64_t> index_;  // seq -> file bytes (GUARDED_BY mu_)
  uint64_t next_seq_ = 1;
  std::string instance_;  // random per Open: ids = <instance>-<seq>
  SpoolStats stats_;
};

}  // namespace vqi::agent
