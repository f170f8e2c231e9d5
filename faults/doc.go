// Package faults holds the fault, load and soak suites of moq-ffi-go: the
// session engine and the relay over impaired networks (network namespaces
// and tc netem made by the tests themselves), a thousand concurrent
// sessions on one relay, and a long run of C clients through a relay that
// is restarted every minute. The package has no API; see docs/faults.md
// and `make test-faults`, `make netem`, `make load`, `make soak`.
package faults
