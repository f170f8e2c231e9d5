// Command pubsub shows the Go API: it starts a relay on loopback, publishes a
// track through it from one session and reads it from another.
//
//	go run ./examples/go/pubsub
package main

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/moq-ffi/moq-ffi-go/moq"
	"github.com/moq-ffi/moq-ffi-go/relay"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// A relay on loopback; with no certificate given it makes a self-signed
	// one, which clients pin by its SHA-256 fingerprint.
	r, err := relay.New(relay.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	opts := &moq.Options{TLS: moq.TLSConfig{PinSHA256: [][32]byte{r.Fingerprint()}}}
	url := "moqt://" + r.Addr().String() + "/" // or https://... for WebTransport

	// Publisher: announce a namespace, publish a track.
	pub, err := moq.Dial(ctx, url, opts)
	if err != nil {
		log.Fatal(err)
	}
	defer pub.Close()
	ns := moq.Namespace{"example", "room"}
	track, err := pub.Publish(ns, "chat", moq.TrackOptions{})
	if err != nil {
		log.Fatal(err)
	}
	if err := pub.Announce(ctx, ns); err != nil {
		log.Fatal(err)
	}

	// Subscriber: subscribe, then read objects in order.
	sub, err := moq.Dial(ctx, url, opts)
	if err != nil {
		log.Fatal(err)
	}
	defer sub.Close()
	s, err := sub.Subscribe(ctx, ns, "chat", moq.SubscribeOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := track.Write([]byte(fmt.Sprintf("hello %d", i))); err != nil {
			log.Fatal(err)
		}
	}
	for i := 0; i < 3; i++ {
		o, err := s.ReadObject(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("group %d object %d: %s\n", o.Group, o.ID, o.Payload)
	}
}
