// moq.hpp - a small C++17 RAII wrapper over moq_ffi.h (header-only example).
//
// Client, Publisher and Subscriber own their handles (move-only; the
// destructor destroys). Errors throw moq::Error (one subclass per
// MoqResultCode: moq::NotConnected, moq::Timeout, ...). Callbacks are
// std::function objects owned by the wrapper; they run on library threads
// (see moq_ffi.h, CALLBACKS) and must not throw.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "moq_ffi.h"

namespace moq {

// Every failure throws a moq::Error carrying the library's MoqResultCode;
// each code has its own subclass, so callers can catch what they handle
// (catch (const moq::NotConnected&) { reconnect(); }).
class Error : public std::runtime_error {
public:
    Error(MoqResultCode code, const std::string& what) : std::runtime_error(what), code_(code) {}
    MoqResultCode code() const noexcept { return code_; }

private:
    MoqResultCode code_;
};

#define MOQ_HPP_ERROR(Name, Code)                                                   \
    struct Name : Error {                                                           \
        explicit Name(const std::string& what) : Error(Code, what) {}              \
    };
MOQ_HPP_ERROR(InvalidArgument, MOQ_ERROR_INVALID_ARGUMENT)
MOQ_HPP_ERROR(ConnectionFailed, MOQ_ERROR_CONNECTION_FAILED)
MOQ_HPP_ERROR(NotConnected, MOQ_ERROR_NOT_CONNECTED)
MOQ_HPP_ERROR(Timeout, MOQ_ERROR_TIMEOUT)
MOQ_HPP_ERROR(Internal, MOQ_ERROR_INTERNAL)
MOQ_HPP_ERROR(Unsupported, MOQ_ERROR_UNSUPPORTED)
MOQ_HPP_ERROR(BufferTooSmall, MOQ_ERROR_BUFFER_TOO_SMALL)
MOQ_HPP_ERROR(WouldBlock, MOQ_ERROR_WOULD_BLOCK)
#undef MOQ_HPP_ERROR

// throw_error throws the subclass of Error for code (a code this header does
// not know becomes a plain Error).
[[noreturn]] inline void throw_error(MoqResultCode code, const std::string& what) {
    switch (code) {
    case MOQ_ERROR_INVALID_ARGUMENT: throw InvalidArgument(what);
    case MOQ_ERROR_CONNECTION_FAILED: throw ConnectionFailed(what);
    case MOQ_ERROR_NOT_CONNECTED: throw NotConnected(what);
    case MOQ_ERROR_TIMEOUT: throw Timeout(what);
    case MOQ_ERROR_INTERNAL: throw Internal(what);
    case MOQ_ERROR_UNSUPPORTED: throw Unsupported(what);
    case MOQ_ERROR_BUFFER_TOO_SMALL: throw BufferTooSmall(what);
    case MOQ_ERROR_WOULD_BLOCK: throw WouldBlock(what);
    default: throw Error(code, what);
    }
}

// check throws for a failed MoqResult, freeing its message either way.
inline void check(MoqResult r, const char* what) {
    if (r.code == MOQ_OK) return;
    std::string msg = std::string(what) + ": " + (r.message ? r.message : "unknown error");
    moq_free_str(r.message);
    throw_error(r.code, msg);
}

inline std::string last_error() {
    const char* e = moq_last_error();
    return e ? e : "unknown error";
}

// throw_last throws for a function that returned NULL or false, with the
// calling thread's moq_last_error_code and moq_last_error.
[[noreturn]] inline void throw_last(const char* what) {
    MoqResultCode code = moq_last_error_code();
    throw_error(code == MOQ_OK ? MOQ_ERROR_INTERNAL : code, std::string(what) + ": " + last_error());
}

struct Track {
    std::string name, codec, mime_type, language;
    uint32_t width = 0, height = 0, bitrate = 0, sample_rate = 0;
};

using DataFn = std::function<void(const uint8_t*, size_t)>;
using CatalogFn = std::function<void(const std::vector<Track>&)>;
using StateFn = std::function<void(MoqConnectionState)>;
using AnnounceFn = std::function<void(const std::string&)>;
// The answer to a SUBSCRIBE (see MoqSubscribedCallback): MOQ_OK when the
// relay accepted it (publishing now reaches the subscriber), else the error.
using SubscribedFn = std::function<void(MoqResultCode, const std::string&)>;

class Subscriber {
public:
    Subscriber() = default;
    Subscriber(Subscriber&& o) noexcept { *this = std::move(o); }
    Subscriber& operator=(Subscriber&& o) noexcept {
        if (this != &o) {
            reset();
            h_ = std::exchange(o.h_, nullptr);
            data_ = std::move(o.data_);
            catalog_ = std::move(o.catalog_);
            ex_ = std::move(o.ex_);
        }
        return *this;
    }
    Subscriber(const Subscriber&) = delete;
    Subscriber& operator=(const Subscriber&) = delete;
    ~Subscriber() { reset(); }

    bool subscribed() const { return h_ && moq_is_subscribed(h_); }
    // Why the subscription ended (call after subscribed() returned false).
    std::string reason() const { return subscribed() ? "" : last_error(); }
    void unsubscribe() {
        if (h_) check(moq_unsubscribe(h_), "moq_unsubscribe");
    }
    // Destroys the handle; no callback runs after this returns.
    void reset() {
        if (h_) moq_subscriber_destroy(h_);
        h_ = nullptr;
    }

private:
    friend class Client;
    struct Ex {  // moq_subscribe_ex's user_data
        DataFn data;
        SubscribedFn subscribed;
    };
    MoqSubscriber* h_ = nullptr;
    std::unique_ptr<DataFn> data_;
    std::unique_ptr<CatalogFn> catalog_;
    std::unique_ptr<Ex> ex_;
};

class Publisher {
public:
    Publisher() = default;
    Publisher(Publisher&& o) noexcept : h_(std::exchange(o.h_, nullptr)), mode_(o.mode_) {}
    Publisher& operator=(Publisher&& o) noexcept {
        if (this != &o) {
            reset();
            h_ = std::exchange(o.h_, nullptr);
            mode_ = o.mode_;
        }
        return *this;
    }
    Publisher(const Publisher&) = delete;
    Publisher& operator=(const Publisher&) = delete;
    ~Publisher() { reset(); }

    void publish(const void* data, size_t n) { publish(data, n, mode_); }
    void publish(const void* data, size_t n, MoqDeliveryMode mode) {
        check(moq_publish_data(h_, static_cast<const uint8_t*>(data), n, mode), "moq_publish_data");
    }
    void publish(const std::string& s) { publish(s.data(), s.size()); }
    // try_publish: as publish, but in MOQ_DELIVERY_STREAM_RELIABLE mode a
    // full queue toward a subscriber returns false (nothing was published;
    // try again next frame) instead of throwing moq::WouldBlock.
    bool try_publish(const void* data, size_t n) { return try_publish(data, n, mode_); }
    bool try_publish(const void* data, size_t n, MoqDeliveryMode mode) {
        MoqResult r = moq_publish_data(h_, static_cast<const uint8_t*>(data), n, mode);
        if (r.code == MOQ_ERROR_WOULD_BLOCK) {
            moq_free_str(r.message);
            return false;
        }
        check(r, "moq_publish_data");
        return true;
    }
    // stats: the track's counters (objects, bytes, dropped, would_block).
    MoqPublisherStats stats() const {
        MoqPublisherStats st{};
        st.struct_size = sizeof st;
        check(moq_publisher_stats(h_, &st), "moq_publisher_stats");
        return st;
    }
    void reset() {
        if (h_) moq_publisher_destroy(h_);
        h_ = nullptr;
    }

private:
    friend class Client;
    MoqPublisher* h_ = nullptr;
    MoqDeliveryMode mode_ = MOQ_DELIVERY_STREAM;
};

class Client {
public:
    Client() : h_(moq_client_create()) {
        if (!h_) throw_last("moq_client_create");
    }
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;
    // Destroys the client; its publishers and subscribers die with it
    // (destroy them first if they are still in scope).
    ~Client() { moq_client_destroy(h_); }

    // Connects; on_state replaces the earlier state function, unless the
    // call fails with InvalidArgument (bad URL, already connected: the
    // library then keeps the earlier callback, so the wrapper keeps the
    // earlier function alive for it).
    void connect(const std::string& url, StateFn on_state = nullptr) {
        auto next = std::make_unique<StateFn>(std::move(on_state));
        MoqResult r = moq_connect(h_, url.c_str(), *next ? &Client::state_cb : nullptr, next.get());
        if (r.code != MOQ_ERROR_INVALID_ARGUMENT) {
            // The library now calls next (also after a failed connect);
            // the earlier function is no longer called.
            state_ = std::move(next);
        }
        check(r, "moq_connect");
    }
    void disconnect() { check(moq_disconnect(h_), "moq_disconnect"); }
    bool connected() const { return moq_is_connected(h_); }
    void announce(const std::string& ns) { check(moq_announce_namespace(h_, ns.c_str()), "moq_announce_namespace"); }

    Publisher publisher(const std::string& ns, const std::string& track, MoqDeliveryMode mode = MOQ_DELIVERY_STREAM) {
        Publisher p;
        p.h_ = moq_create_publisher_ex(h_, ns.c_str(), track.c_str(), mode);
        if (!p.h_) throw_last("moq_create_publisher_ex");
        p.mode_ = mode;
        return p;
    }

    Subscriber subscribe(const std::string& ns, const std::string& track, DataFn fn) {
        Subscriber s;
        s.data_ = std::make_unique<DataFn>(std::move(fn));
        s.h_ = moq_subscribe(h_, ns.c_str(), track.c_str(), &Client::data_cb, s.data_.get());
        if (!s.h_) throw_last("moq_subscribe");
        return s;
    }

    // Subscribes and tells on_subscribed the answer to each SUBSCRIBE: with
    // MOQ_OK once the relay accepted it (and after each resubscription),
    // so a publisher may start then instead of publishing probes.
    // persistent: keep subscribing while the track is missing or after it
    // ended (MoqSubscribeOptions.persistent).
    Subscriber subscribe(const std::string& ns, const std::string& track, DataFn fn, SubscribedFn on_subscribed,
                         bool persistent = false) {
        Subscriber s;
        s.ex_ = std::make_unique<Subscriber::Ex>(Subscriber::Ex{std::move(fn), std::move(on_subscribed)});
        MoqSubscribeOptions o;
        moq_subscribe_options_init(&o);
        o.persistent = persistent;
        o.on_subscribed = s.ex_->subscribed ? &Client::subscribed_cb : nullptr;
        s.h_ = moq_subscribe_ex(h_, ns.c_str(), track.c_str(), &o, &Client::object_cb, s.ex_.get());
        if (!s.h_) throw_last("moq_subscribe_ex");
        return s;
    }

    Subscriber subscribe_catalog(const std::string& ns, const std::string& track, CatalogFn fn) {
        Subscriber s;
        s.catalog_ = std::make_unique<CatalogFn>(std::move(fn));
        s.h_ = moq_subscribe_catalog(h_, ns.c_str(), track.c_str(), &Client::catalog_cb, s.catalog_.get());
        if (!s.h_) throw_last("moq_subscribe_catalog");
        return s;
    }

    // Replaces the announce listener (nullptr removes it).
    void on_announce(AnnounceFn fn) {
        auto next = fn ? std::make_unique<AnnounceFn>(std::move(fn)) : nullptr;
        check(moq_subscribe_announces(h_, next ? &Client::announce_cb : nullptr, next.get()), "moq_subscribe_announces");
        announce_ = std::move(next);  // the old function is no longer called
    }

private:
    static void state_cb(void* ud, MoqConnectionState st) { (*static_cast<StateFn*>(ud))(st); }
    static void data_cb(void* ud, const uint8_t* d, size_t n) {
        auto* fn = static_cast<DataFn*>(ud);
        if (*fn) (*fn)(d, n);
    }
    static void object_cb(void* ud, const MoqObject* o) {
        auto* ex = static_cast<Subscriber::Ex*>(ud);
        if (ex->data) ex->data(o->payload, o->payload_len);
    }
    static void subscribed_cb(void* ud, MoqSubscriber*, MoqResultCode code, const char* msg) {
        static_cast<Subscriber::Ex*>(ud)->subscribed(code, msg ? msg : "");
    }
    static void catalog_cb(void* ud, const MoqTrackInfo* t, size_t n) {
        std::vector<Track> v;
        v.reserve(n);
        for (size_t i = 0; i < n; i++) {
            Track x;
            x.name = t[i].name;
            x.codec = t[i].codec ? t[i].codec : "";
            x.mime_type = t[i].mime_type ? t[i].mime_type : "";
            x.language = t[i].language ? t[i].language : "";
            x.width = t[i].width;
            x.height = t[i].height;
            x.bitrate = t[i].bitrate;
            x.sample_rate = t[i].sample_rate;
            v.push_back(std::move(x));
        }
        auto* fn = static_cast<CatalogFn*>(ud);
        if (*fn) (*fn)(v);
    }
    static void announce_cb(void* ud, const char* ns, const char*) { (*static_cast<AnnounceFn*>(ud))(ns); }

    MoqClient* h_;
    std::unique_ptr<StateFn> state_;
    std::unique_ptr<AnnounceFn> announce_;
};

}  // namespace moq
