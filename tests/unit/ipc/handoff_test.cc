// A front's Handoff of several connections in one message, and the channel that carries
// their fds: what a worker accepts, and what makes it drop the front.
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include <gtest/gtest.h>

#include "ipc/channel.h"
#include "ipc/messages.h"

namespace itkd {
namespace {

ipc::ConnectionRef ref_for(uint64_t id) {
  ipc::ConnectionRef ref{};
  ref.connection_id = id;
  ref.vhost = static_cast<uint32_t>(id % 7);
  ref.flags = ipc::kHandoffNoDelay;
  return ref;
}

TEST(Handoff, SeveralConnectionsRoundTripInOrder) {
  std::vector<ipc::Handoff> sent{{ref_for(1), "GET / HTTP/1.1\r\nHost: a\r\n\r\n"},
                                 {ref_for(2), ""},
                                 {ref_for(3), "GET /x HTTP/1.1\r\n"}};
  std::string message = ipc::encode_handoffs(ipc::MessageType::Handoff, sent);
  EXPECT_EQ(message.size(), ipc::handoff_message_size(3, sent[0].bytes.size() + sent[2].bytes.size()));
  EXPECT_EQ(ipc::message_type(message), ipc::MessageType::Handoff);
  auto got = ipc::decode_handoffs(message);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*got)[i].ref.connection_id, sent[i].ref.connection_id);
    EXPECT_EQ((*got)[i].ref.vhost, sent[i].ref.vhost);
    EXPECT_EQ((*got)[i].ref.flags, sent[i].ref.flags);
    EXPECT_EQ((*got)[i].bytes, sent[i].bytes);
  }
}

TEST(Handoff, MalformedMessagesAreRefused) {
  std::string good = ipc::encode_handoffs(ipc::MessageType::Handoff, {{ref_for(1), "abc"}, {ref_for(2), "de"}});
  ASSERT_TRUE(ipc::decode_handoffs(good));
  // Cut short, or with bytes no entry accounts for.
  EXPECT_FALSE(ipc::decode_handoffs(good.substr(0, good.size() - 1)));
  EXPECT_FALSE(ipc::decode_handoffs(good + "x"));
  EXPECT_FALSE(ipc::decode_handoffs(good.substr(0, ipc::handoff_message_size(1, 0))));
  // A count of zero, or above the limit.
  auto with_count = [&](uint32_t count) {
    std::string m = good;
    std::memcpy(m.data() + sizeof(ipc::MsgHeader), &count, sizeof count);
    return m;
  };
  EXPECT_FALSE(ipc::decode_handoffs(with_count(0)));
  EXPECT_FALSE(ipc::decode_handoffs(with_count(ipc::kMaxHandoffs + 1)));
  EXPECT_FALSE(ipc::decode_handoffs(with_count(3)));
  // An entry claiming more bytes than the message holds.
  std::string m = good;
  uint32_t huge = 0xffffffffu;
  std::memcpy(m.data() + sizeof(ipc::MsgHeader) + sizeof(ipc::HandoffCount) + sizeof(ipc::ConnectionRef), &huge,
              sizeof huge);
  EXPECT_FALSE(ipc::decode_handoffs(m));
}

TEST(Handback, HasTheHandoffFormUnderItsOwnType) {
  std::vector<ipc::Handoff> sent{{ref_for(4), "GET / HTTP/1.1\r\nHost: b\r\n\r\n"}, {ref_for(5), "GE"}};
  std::string message = ipc::encode_handoffs(ipc::MessageType::Handback, sent);
  EXPECT_EQ(ipc::message_type(message), ipc::MessageType::Handback);
  auto got = ipc::decode_handoffs(message);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].ref.connection_id, 4u);
  EXPECT_EQ((*got)[1].bytes, "GE");
}

TEST(ConnectionsDone, ExactListsOnly) {
  const uint64_t ids[] = {7, 9, 11};
  std::string good = ipc::encode_done(ids, 3);
  std::vector<uint64_t> got;
  ASSERT_TRUE(ipc::decode_done(good, &got));
  EXPECT_EQ(got, (std::vector<uint64_t>{7, 9, 11}));
  EXPECT_FALSE(ipc::decode_done(good.substr(0, good.size() - 1), &got));
  EXPECT_FALSE(ipc::decode_done(good + "x", &got));
  std::string reserved = good;
  reserved[sizeof(ipc::MsgHeader) + 4] = 1;
  EXPECT_FALSE(ipc::decode_done(reserved, &got));
  std::string too_many = good;
  uint32_t count = ipc::DoneList::kMax + 1;
  std::memcpy(too_many.data() + sizeof(ipc::MsgHeader), &count, sizeof count);
  EXPECT_FALSE(ipc::decode_done(too_many, &got));
}

// An fd's identity: which file it is.
ino_t inode_of(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? st.st_ino : 0;
}

TEST(Channel, SeveralFdsArriveInOrderWhereTheReceiverAllowsThem) {
  auto channel = make_channel(true);
  ASSERT_TRUE(channel) << channel.error().message;
  int pipes[3][2];
  std::vector<int> fds;
  for (auto& p : pipes) {
    ASSERT_EQ(::pipe(p), 0);
    fds.push_back(p[0]);
  }
  std::string error;
  ASSERT_EQ(send_message(channel->first.get(), "three", fds, &error), ChannelStatus::Ok) << error;
  ReceivedMessage msg;
  ASSERT_EQ(receive_message(channel->second.get(), msg, &error, 3), ChannelStatus::Ok) << error;
  EXPECT_EQ(msg.bytes, "three");
  ASSERT_EQ(msg.fd_count(), 3u);
  EXPECT_EQ(inode_of(msg.fd.get()), inode_of(pipes[0][0]));
  EXPECT_EQ(inode_of(msg.more_fds[0].get()), inode_of(pipes[1][0]));
  EXPECT_EQ(inode_of(msg.more_fds[1].get()), inode_of(pipes[2][0]));
  EXPECT_EQ(msg.uid, ::getuid());
  for (auto& p : pipes) {
    ::close(p[0]);
    ::close(p[1]);
  }
}

TEST(Channel, MoreFdsThanTheReceiverAllowsIsAViolation) {
  auto channel = make_channel(true);
  ASSERT_TRUE(channel);
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  int two[2] = {p[0], p[1]};
  std::string error;
  ASSERT_EQ(send_message(channel->first.get(), "x", std::span<const int>(two, 2), &error), ChannelStatus::Ok);
  ReceivedMessage msg;
  EXPECT_EQ(receive_message(channel->second.get(), msg, &error), ChannelStatus::Failed);
  EXPECT_EQ(msg.fd_count(), 0u);  // nothing of it is kept
  EXPECT_NE(error.find("extra fds"), std::string::npos) << error;
  // A sender can't exceed the per-message limit either.
  std::vector<int> many(kMaxFdsPerMessage + 1, p[0]);
  EXPECT_EQ(send_message(channel->first.get(), "x", many, &error), ChannelStatus::Failed);
  ::close(p[0]);
  ::close(p[1]);
}

}  // namespace
}  // namespace itkd
