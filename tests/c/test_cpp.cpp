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
