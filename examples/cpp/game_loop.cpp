// game_loop.cpp - a simulated 60 Hz game loop that polls a MoQ subscription
// on its own (main) thread, while a publisher thread sends player state.
//
//   game_loop URL [FRAMES]
//
// URL is a relay (moqt://host:port/ or https://host:port/); the relay's
// certificate fingerprint is taken from MOQ_FFI_PIN_SHA256 and passed through
// MoqClientConfig (unset: the system roots verify it). FRAMES defaults to
// 300 (5 s). Exits 0 after FRAMES frames if state updates arrived.
//
// The game thread never receives a callback for data: it subscribes in poll
// mode (moq_subscribe_ex with a NULL callback) and drains the queue with
// moq_subscriber_poll(timeout 0) once per frame into a reusable buffer that
// grows when an object does not fit. The subscription is persistent, so it
// does not matter whether the publisher thread has announced its track yet.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "moq_ffi.h"

namespace {

constexpr const char* kNamespace = "examples/game-loop";
constexpr const char* kTrack = "player-1";

// Prints a failed result and frees its message; true when it was MOQ_OK.
bool ok(MoqResult r, const char* what) {
    if (r.code == MOQ_OK) return true;
    std::fprintf(stderr, "%s: %s (code %d)\n", what, r.message ? r.message : "?", static_cast<int>(r.code));
    moq_free_str(r.message);
    return false;
}

// A connected client configured with the pin from the environment, or nullptr.
MoqClient* connect_client(const std::string& url) {
    MoqClient* c = moq_client_create();
    MoqClientConfig cfg;
    moq_client_config_init(&cfg);
    const char* pin = std::getenv("MOQ_FFI_PIN_SHA256");
    cfg.pin_sha256 = (pin && *pin) ? pin : nullptr;
    cfg.reconnect = true;  // survive a relay restart; announces and subscriptions come back
    if (!ok(moq_client_configure(c, &cfg), "configure") || !ok(moq_connect(c, url.c_str(), nullptr, nullptr), "connect")) {
        moq_client_destroy(c);
        return nullptr;
    }
    return c;
}

// The publisher thread: a simulated remote player sending its position at
// 30 Hz, one group per second (30 timestamped objects each).
void publish_player(MoqClient* client, const std::atomic<bool>& stop, std::atomic<long>& sent) {
    if (!ok(moq_announce_namespace(client, kNamespace), "announce")) return;
    MoqPublisher* pub = moq_create_publisher(client, kNamespace, kTrack);
    if (!pub) {
        std::fprintf(stderr, "publisher: %s\n", moq_last_error());
        return;
    }
    ok(moq_publisher_set_priority(pub, 32), "set priority");
    auto next = std::chrono::steady_clock::now();
    bool in_group = false;
    for (long tick = 0; !stop.load(); tick++) {
        next += std::chrono::milliseconds(33);
        if (!in_group || tick % 30 == 0) {
            if (in_group) ok(moq_group_end(pub), "group end");
            MoqResult r = moq_group_begin(pub, nullptr, nullptr);  // the next group ID
            in_group = r.code == MOQ_OK;
            if (r.code == MOQ_ERROR_NOT_CONNECTED) {  // reconnecting: try again next tick
                moq_free_str(r.message);
                std::this_thread::sleep_until(next);
                continue;
            }
            if (!ok(r, "group begin")) break;
        }
        double t = static_cast<double>(tick) / 30.0;
        char state[96];
        int n = std::snprintf(state, sizeof state, "tick=%ld x=%.3f y=%.3f heading=%.1f", tick, 10.0 * t,
                              2.0 * t * t, static_cast<double>(tick % 360));
        MoqResult r = moq_group_write_timestamped(pub, reinterpret_cast<const uint8_t*>(state),
                                                  static_cast<size_t>(n), 0, nullptr);  // 0: now
        if (r.code == MOQ_OK) {
            sent.fetch_add(1);
        } else {  // NOT_CONNECTED while reconnecting: drop this update, start a new group later
            moq_free_str(r.message);
            moq_free_str(moq_group_end(pub).message);
            in_group = false;
        }
        std::this_thread::sleep_until(next);
    }
    if (in_group) ok(moq_group_end(pub), "group end");
    moq_publisher_destroy(pub);
}

// Per-frame receive state, owned by the game thread.
struct Inbox {
    std::vector<uint8_t> buf = std::vector<uint8_t>(16);  // small on purpose: grows on demand
    int grown = 0;
    long received = 0;
    uint64_t last_latency_us = 0;
    std::string last_state;
};

// Drains the subscription without waiting. Returns false when it has ended.
bool poll_frame(MoqSubscriber* sub, Inbox& in) {
    for (;;) {
        MoqObject obj;
        size_t needed = 0;
        MoqResult r = moq_subscriber_poll(sub, &obj, in.buf.data(), in.buf.size(), &needed, 0);
        MoqResultCode code = r.code;
        if (code == MOQ_ERROR_TIMEOUT) {  // nothing more this frame
            moq_free_str(r.message);
            return true;
        }
        if (code == MOQ_ERROR_BUFFER_TOO_SMALL) {  // the object stays queued: grow and retry
            moq_free_str(r.message);
            in.buf.resize(std::max(needed, 2 * in.buf.size()));
            in.grown++;
            continue;
        }
        if (!ok(r, "poll")) return false;  // NOT_CONNECTED: the subscription ended
        in.received++;
        in.last_state.assign(reinterpret_cast<const char*>(obj.payload), obj.payload_len);
        uint64_t ts = 0;
        if (moq_object_timestamp(obj.extensions, obj.extensions_len, &ts) && obj.received_us >= ts) {
            in.last_latency_us = obj.received_us - ts;
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s URL [FRAMES]\n", argv[0]);
        return 2;
    }
    const std::string url = argv[1];
    const long frames = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 300;
    if (frames <= 0) {
        std::fprintf(stderr, "FRAMES must be positive\n");
        return 2;
    }
    std::printf("%s\n", moq_version());

    MoqClient* game = connect_client(url);
    MoqClient* remote = connect_client(url);
    if (!game || !remote) {
        moq_client_destroy(game);
        moq_client_destroy(remote);
        return 1;
    }

    // Poll mode (NULL callback), persistent: retried until the track exists.
    MoqSubscribeOptions opt;
    moq_subscribe_options_init(&opt);
    opt.persistent = true;
    opt.queue_objects = 256;
    MoqSubscriber* sub = moq_subscribe_ex(game, kNamespace, kTrack, &opt, nullptr, nullptr);
    if (!sub) {
        std::fprintf(stderr, "subscribe: %s\n", moq_last_error());
        moq_client_destroy(game);
        moq_client_destroy(remote);
        return 1;
    }

    std::atomic<bool> stop{false};
    std::atomic<long> sent{0};
    std::thread publisher(publish_player, remote, std::cref(stop), std::ref(sent));

    // The game loop: fixed 60 Hz steps on the main thread.
    Inbox in;
    const auto step = std::chrono::microseconds(16667);
    auto next = std::chrono::steady_clock::now();
    bool alive = true;
    for (long frame = 0; frame < frames && alive; frame++) {
        alive = poll_frame(sub, in);
        // ... simulate with in.last_state, render ...
        if (frame % 60 == 59) {
            std::printf("frame %ld: %ld updates, latency %" PRIu64 " us, last \"%s\"\n", frame + 1, in.received,
                        in.last_latency_us, in.last_state.c_str());
        }
        next += step;
        std::this_thread::sleep_until(next);
    }

    // Clean shutdown: stop and join the publisher, then destroy the handles
    // (no library call touches our memory after the destroys return).
    stop.store(true);
    publisher.join();
    MoqSubscriberStats st;
    std::memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    ok(moq_subscriber_stats(sub, &st), "subscriber stats");
    MoqClientStats cs;
    std::memset(&cs, 0, sizeof cs);
    cs.struct_size = sizeof cs;
    ok(moq_client_stats(game, &cs), "client stats");
    moq_subscriber_destroy(sub);
    moq_client_destroy(remote);
    moq_client_destroy(game);

    std::printf("sent %ld, received %ld (%" PRIu64 " dropped), buffer grown %d times to %zu bytes, rtt %" PRIu64
                " us\n",
                sent.load(), in.received, st.dropped, in.grown, in.buf.size(), cs.rtt_us);
    if (!alive || in.received == 0) {
        std::fprintf(stderr, "no state updates received\n");
        return 1;
    }
    return 0;
}
