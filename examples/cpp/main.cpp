// A small C++17 program using moq.hpp: publishes a few messages through a
// relay and prints what a subscriber receives.
//   chat <url> [namespace]
// e.g. MOQ_FFI_PIN_SHA256=<fingerprint> ./chat https://127.0.0.1:4443/
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>

#include "moq.hpp"

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s URL [NAMESPACE]\n", argv[0]);
        return 2;
    }
    std::string url = argv[1];
    std::string ns = argc > 2 ? argv[2] : "example/chat";
    try {
        moq::Client pub, sub;
        pub.connect(url, [](MoqConnectionState s) { std::fprintf(stderr, "publisher state %d\n", static_cast<int>(s)); });
        sub.connect(url);
        pub.announce(ns);
        moq::Publisher p = pub.publisher(ns, "messages");

        std::mutex mu;
        std::condition_variable cv;
        int got = 0, live = 0;  // live: 1 accepted, -1 failed
        moq::Subscriber s = sub.subscribe(
            ns, "messages",
            [&](const uint8_t* d, size_t n) {
                std::printf("received: %.*s\n", static_cast<int>(n), reinterpret_cast<const char*>(d));
                std::lock_guard<std::mutex> lk(mu);
                got++;
                cv.notify_all();
            },
            [&](MoqResultCode code, const std::string& msg) {
                std::fprintf(stderr, "subscriber: %s\n", msg.c_str());
                std::lock_guard<std::mutex> lk(mu);
                live = code == MOQ_OK ? 1 : -1;
                cv.notify_all();
            });
        // The subscription is live once the relay accepted it: publish then.
        std::unique_lock<std::mutex> lk(mu);
        if (!cv.wait_for(lk, std::chrono::seconds(10), [&] { return live != 0; }) || live != 1) return 1;
        int base = got;
        lk.unlock();
        for (int i = 0; i < 3; i++) p.publish("message " + std::to_string(i));
        lk.lock();
        bool ok = cv.wait_for(lk, std::chrono::seconds(10), [&] { return got >= base + 3; });
        lk.unlock();
        s.reset();
        return ok ? 0 : 1;
    } catch (const moq::Error& e) {
        std::fprintf(stderr, "error %d: %s\n", static_cast<int>(e.code()), e.what());
        return 1;
    }
}
