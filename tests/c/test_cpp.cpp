// C++17 test: the header compiles as C++, and the RAII wrapper
// (examples/cpp/moq.hpp) works end to end.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "moq.hpp"

static int failures, checks;
#define CHECK(c)                                                                    \
    do {                                                                            \
        checks++;                                                                   \
        if (!(c)) {                                                                 \
            failures++;                                                             \
            std::fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #c);       \
        }                                                                           \
    } while (0)

static_assert(sizeof(MoqResult) == 2 * sizeof(void*), "MoqResult layout");
static_assert(MOQ_ERROR_BUFFER_TOO_SMALL == 7 && MOQ_STATE_FAILED == 3 && MOQ_DELIVERY_STREAM == 1, "enum values");

struct Inbox {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::string> items;
    void push(std::string s) {
        std::lock_guard<std::mutex> lk(mu);
        items.push_back(std::move(s));
        cv.notify_all();
    }
    bool wait(size_t n, double secs) {
        std::unique_lock<std::mutex> lk(mu);
        return cv.wait_for(lk, std::chrono::duration<double>(secs), [&] { return items.size() >= n; });
    }
    size_t size() {
        std::lock_guard<std::mutex> lk(mu);
        return items.size();
    }
};

int main() {
    const char* url = std::getenv("MOQ_TEST_URL");
    if (!url) {
        std::fprintf(stderr, "MOQ_TEST_URL not set\n");
        return 2;
    }
    double slow = std::getenv("MOQ_TEST_SLOW") ? std::atof(std::getenv("MOQ_TEST_SLOW")) : 1.0;
    std::string ns = "cpp-" + std::to_string(::getpid());
    {
        // Errors become exceptions with the code.
        moq::Client c;
        bool threw = false;
        try {
            c.connect("http://nope/");
        } catch (const moq::Error& e) {
            threw = e.code() == MOQ_ERROR_INVALID_ARGUMENT;
        }
        CHECK(threw);
        threw = false;
        try {
            c.announce("x");
        } catch (const moq::Error& e) {
            threw = e.code() == MOQ_ERROR_NOT_CONNECTED;
        }
        CHECK(threw);
    }
    {
        // Issue 15, item 2: a connect refused as "already connected" keeps
        // the earlier state function alive (the library still calls it);
        // before the fix the wrapper freed it and disconnect() called freed
        // memory (ASan: heap-use-after-free).
        moq::Client c;
        std::vector<MoqConnectionState> first, second;
        std::mutex mu;
        auto log_into = [&mu](std::vector<MoqConnectionState>& v) {
            // A heap-owning capture, so that a freed function is noticed.
            auto tag = std::make_shared<std::string>("state log");
            return [&mu, &v, tag](MoqConnectionState st) {
                std::lock_guard<std::mutex> lk(mu);
                if (!tag->empty()) v.push_back(st);
            };
        };
        c.connect(url, log_into(first));
        bool refused = false;
        try {
            c.connect(url, log_into(second));
        } catch (const moq::InvalidArgument& e) {
            refused = e.code() == MOQ_ERROR_INVALID_ARGUMENT;
        }
        CHECK(refused);
        try {
            c.connect("moqt://user@127.0.0.1:1/", log_into(second));  // refused before anything: kept too
        } catch (const moq::InvalidArgument&) {
        }
        c.disconnect();
        {
            std::lock_guard<std::mutex> lk(mu);
            CHECK(first.size() == 3 && first.back() == MOQ_STATE_DISCONNECTED);
            CHECK(second.empty());
        }
        // Reconnecting afterwards replaces the function (no leak: ASan's
        // leak check runs at exit).
        c.connect(url, log_into(second));
        c.disconnect();
        {
            std::lock_guard<std::mutex> lk(mu);
            CHECK(first.size() == 3 && second.size() == 3);
        }
        // Codes are mapped, not all reported as INVALID_ARGUMENT: without a
        // session, making a publisher or a subscriber is NOT_CONNECTED.
        int not_connected = 0;
        try {
            c.publisher(ns, "t");
        } catch (const moq::NotConnected& e) {
            not_connected += e.code() == MOQ_ERROR_NOT_CONNECTED;
        } catch (const moq::Error& e) {
            std::fprintf(stderr, "publisher: code %d: %s\n", e.code(), e.what());
        }
        try {
            c.subscribe(ns, "t", [](const uint8_t*, size_t) {});
        } catch (const moq::NotConnected& e) {
            not_connected += e.code() == MOQ_ERROR_NOT_CONNECTED;
        } catch (const moq::Error& e) {
            std::fprintf(stderr, "subscribe: code %d: %s\n", e.code(), e.what());
        }
        CHECK(not_connected == 2);
        CHECK(moq_last_error_code() == MOQ_ERROR_NOT_CONNECTED);
        // Every code has its own type.
        const MoqResultCode codes[] = {MOQ_ERROR_INVALID_ARGUMENT, MOQ_ERROR_CONNECTION_FAILED,
                                       MOQ_ERROR_NOT_CONNECTED,    MOQ_ERROR_TIMEOUT,
                                       MOQ_ERROR_INTERNAL,         MOQ_ERROR_UNSUPPORTED,
                                       MOQ_ERROR_BUFFER_TOO_SMALL, MOQ_ERROR_WOULD_BLOCK};
        int typed = 0;
        for (MoqResultCode code : codes) {
            try {
                moq::throw_error(code, "x");
            } catch (const moq::InvalidArgument&) {
                typed += code == MOQ_ERROR_INVALID_ARGUMENT;
            } catch (const moq::ConnectionFailed&) {
                typed += code == MOQ_ERROR_CONNECTION_FAILED;
            } catch (const moq::NotConnected&) {
                typed += code == MOQ_ERROR_NOT_CONNECTED;
            } catch (const moq::Timeout&) {
                typed += code == MOQ_ERROR_TIMEOUT;
            } catch (const moq::Internal&) {
                typed += code == MOQ_ERROR_INTERNAL;
            } catch (const moq::Unsupported&) {
                typed += code == MOQ_ERROR_UNSUPPORTED;
            } catch (const moq::BufferTooSmall&) {
                typed += code == MOQ_ERROR_BUFFER_TOO_SMALL;
            } catch (const moq::WouldBlock&) {
                typed += code == MOQ_ERROR_WOULD_BLOCK;
            }
        }
        CHECK(typed == 8);
    }
    {
        moq::Client pub, sub;
        std::atomic<int> states{0};
        pub.connect(url, [&](MoqConnectionState) { states++; });
        CHECK(states == 2);
        sub.connect(url);
        CHECK(pub.connected() && sub.connected());
        pub.announce(ns);
        moq::Publisher p = pub.publisher(ns, "t");
        moq::Publisher cat = pub.publisher(ns, "catalog");
        Inbox in;
        moq::Subscriber s = sub.subscribe(ns, "t", [&](const uint8_t* d, size_t n) {
            in.push(std::string(reinterpret_cast<const char*>(d), n));
        });
        for (int i = 0; i < 1000 && in.size() == 0; i++) {
            p.publish("probe");
            in.wait(1, 0.05);
        }
        CHECK(in.size() > 0);
        size_t base = in.size();
        p.publish(std::string());
        p.publish("a");
        p.publish("bc");
        CHECK(in.wait(base + 3, 10 * slow));
        {
            std::lock_guard<std::mutex> lk(in.mu);
            size_t k = in.items.size() - 3;
            CHECK(in.items[k].empty() && in.items[k + 1] == "a" && in.items[k + 2] == "bc");
        }
        // Reliable mode through the wrapper: an idle queue takes the object
        // (try_publish true), and the track's stats count it.
        {
            MoqPublisherStats before = p.stats();
            CHECK(p.try_publish("r", 1, MOQ_DELIVERY_STREAM_RELIABLE));
            CHECK(in.wait(base + 4, 10 * slow));
            MoqPublisherStats after = p.stats();
            CHECK(after.objects == before.objects + 1 && after.would_block == 0);
        }
        // Issue 15, item 7: on_subscribed says when the subscription is
        // live; one object published then arrives (no probes).
        {
            Inbox live, got;
            moq::Subscriber s2 = sub.subscribe(
                ns, "t", [&](const uint8_t* d, size_t n) { got.push(std::string(reinterpret_cast<const char*>(d), n)); },
                [&](MoqResultCode code, const std::string& msg) {
                    live.push(std::to_string(static_cast<int>(code)) + " " + msg);
                });
            CHECK(live.wait(1, 10 * slow));
            {
                std::lock_guard<std::mutex> lk(live.mu);
                CHECK(!live.items.empty() && live.items[0].rfind("0 subscribed to ", 0) == 0);
            }
            p.publish("after-ok");
            CHECK(got.wait(1, 10 * slow));
            {
                std::lock_guard<std::mutex> lk(got.mu);
                CHECK(!got.items.empty() && got.items.back() == "after-ok");
            }
        }
        // Moving a subscriber keeps it working; reset stops it.
        moq::Subscriber moved = std::move(s);
        CHECK(moved.subscribed() && !s.subscribed());
        moved.reset();
        size_t after = in.size();
        p.publish("late");
        CHECK(in.size() == after);
        // Catalog through the wrapper.
        Inbox cats;
        moq::Subscriber cs = sub.subscribe_catalog(ns, "catalog", [&](const std::vector<moq::Track>& t) {
            cats.push(t.empty() ? "" : t[0].name + ":" + t[0].codec + ":" + std::to_string(t[0].width));
        });
        const std::string json = R"({"version":1,"tracks":[{"name":"v","codec":"vp8","width":320}]})";
        for (int i = 0; i < 1000 && cats.size() == 0; i++) {
            cat.publish(json);
            cats.wait(1, 0.05);
        }
        CHECK(cats.size() > 0 && cats.items[0] == "v:vp8:320");
        // Publishers and subscribers die with the session.
        pub.disconnect();
        CHECK(!pub.connected());
        bool threw = false;
        try {
            p.publish("x");
        } catch (const moq::Error& e) {
            threw = e.code() == MOQ_ERROR_NOT_CONNECTED;
        }
        CHECK(threw);
    }
    std::fprintf(stderr, "test_cpp: %d checks, %d failures\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
