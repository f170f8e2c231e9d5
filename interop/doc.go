// Package interop holds interoperability tests that run this module's MoQT
// sessions (package moq) against independent MoQT implementations over
// loopback raw QUIC and WebTransport. It has no non-test code; the other
// implementations are test-only dependencies.
package interop
