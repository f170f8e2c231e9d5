package relay

import (
	"os"
	"sync"

	"github.com/moq-ffi/moq-ffi-go/moq"
	"github.com/prometheus/client_golang/prometheus"
)

var stderr = os.Stderr

// Metrics are the relay's Prometheus metrics: sessions by draft and
// transport, tracks, announced namespaces, and objects and bytes in and out
// and dropped (live: summed over active tracks at scrape time, plus the
// totals of ended tracks). A nil *Metrics records nothing.
type Metrics struct {
	sessions    *prometheus.GaugeVec
	sessionsAll *prometheus.CounterVec
	tracks      prometheus.Gauge
	announces   prometheus.Gauge

	mu     sync.Mutex
	ended  moq.TrackStats
	active func() []moq.TrackStats
	peers  func() []PeerStats

	objectsIn, bytesIn, objectsOut, bytesOut, drops *prometheus.Desc
	// Per peer relay link (cluster).
	peerUp, peerConnects, peerFailures, peerReroutes, peerTracks, peerObjectsIn, peerBytesIn *prometheus.Desc
}

// NewMetrics creates the relay's metrics and registers them with reg. Pass
// the result in Config.Metrics.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		sessions: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "moq_relay_sessions",
			Help: "Open sessions, by draft and transport."}, []string{"draft", "transport"}),
		sessionsAll: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "moq_relay_sessions_total",
			Help: "Sessions accepted, by draft and transport."}, []string{"draft", "transport"}),
		tracks: prometheus.NewGauge(prometheus.GaugeOpts{Name: "moq_relay_tracks",
			Help: "Tracks with an active upstream subscription."}),
		announces: prometheus.NewGauge(prometheus.GaugeOpts{Name: "moq_relay_announced_namespaces",
			Help: "Namespaces announced by publishers."}),
		objectsIn:  prometheus.NewDesc("moq_relay_objects_in_total", "Objects received from publishers.", nil, nil),
		bytesIn:    prometheus.NewDesc("moq_relay_bytes_in_total", "Payload bytes received from publishers.", nil, nil),
		objectsOut: prometheus.NewDesc("moq_relay_objects_out_total", "Objects queued to subscribers.", nil, nil),
		bytesOut:   prometheus.NewDesc("moq_relay_bytes_out_total", "Payload bytes queued to subscribers.", nil, nil),
		drops:      prometheus.NewDesc("moq_relay_dropped_objects_total", "Objects dropped because a subscriber fell behind.", nil, nil),

		peerUp:        prometheus.NewDesc("moq_relay_peer_up", "1 while a session to the peer relay is open (cluster).", []string{"peer"}, nil),
		peerConnects:  prometheus.NewDesc("moq_relay_peer_connects_total", "Sessions opened to the peer relay.", []string{"peer"}, nil),
		peerFailures:  prometheus.NewDesc("moq_relay_peer_dial_failures_total", "Failed dials to the peer relay.", []string{"peer"}, nil),
		peerReroutes:  prometheus.NewDesc("moq_relay_peer_reroutes_total", "Tracks moved to the peer relay after their origin relay was lost.", []string{"peer"}, nil),
		peerTracks:    prometheus.NewDesc("moq_relay_peer_tracks", "Tracks subscribed through the peer relay now.", []string{"peer"}, nil),
		peerObjectsIn: prometheus.NewDesc("moq_relay_peer_objects_in_total", "Objects received from the peer relay.", []string{"peer"}, nil),
		peerBytesIn:   prometheus.NewDesc("moq_relay_peer_bytes_in_total", "Payload bytes received from the peer relay.", []string{"peer"}, nil),
	}
	reg.MustRegister(m.sessions, m.sessionsAll, m.tracks, m.announces, m)
	return m
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.objectsIn
	ch <- m.bytesIn
	ch <- m.objectsOut
	ch <- m.bytesOut
	ch <- m.drops
	ch <- m.peerUp
	ch <- m.peerConnects
	ch <- m.peerFailures
	ch <- m.peerReroutes
	ch <- m.peerTracks
	ch <- m.peerObjectsIn
	ch <- m.peerBytesIn
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	sum := m.ended
	active := m.active
	peers := m.peers
	m.mu.Unlock()
	if peers != nil {
		for _, p := range peers() {
			up := 0.0
			if p.Up {
				up = 1
			}
			ch <- prometheus.MustNewConstMetric(m.peerUp, prometheus.GaugeValue, up, p.Relay)
			ch <- prometheus.MustNewConstMetric(m.peerConnects, prometheus.CounterValue, float64(p.Connects), p.Relay)
			ch <- prometheus.MustNewConstMetric(m.peerFailures, prometheus.CounterValue, float64(p.Failures), p.Relay)
			ch <- prometheus.MustNewConstMetric(m.peerReroutes, prometheus.CounterValue, float64(p.Reroutes), p.Relay)
			ch <- prometheus.MustNewConstMetric(m.peerTracks, prometheus.GaugeValue, float64(p.Tracks), p.Relay)
			ch <- prometheus.MustNewConstMetric(m.peerObjectsIn, prometheus.CounterValue, float64(p.ObjectsIn), p.Relay)
			ch <- prometheus.MustNewConstMetric(m.peerBytesIn, prometheus.CounterValue, float64(p.BytesIn), p.Relay)
		}
	}
	if active != nil {
		for _, st := range active() {
			sum.ObjectsIn += st.ObjectsIn
			sum.BytesIn += st.BytesIn
			sum.ObjectsOut += st.ObjectsOut
			sum.BytesOut += st.BytesOut
			sum.Dropped += st.Dropped
		}
	}
	ch <- prometheus.MustNewConstMetric(m.objectsIn, prometheus.CounterValue, float64(sum.ObjectsIn))
	ch <- prometheus.MustNewConstMetric(m.bytesIn, prometheus.CounterValue, float64(sum.BytesIn))
	ch <- prometheus.MustNewConstMetric(m.objectsOut, prometheus.CounterValue, float64(sum.ObjectsOut))
	ch <- prometheus.MustNewConstMetric(m.bytesOut, prometheus.CounterValue, float64(sum.BytesOut))
	ch <- prometheus.MustNewConstMetric(m.drops, prometheus.CounterValue, float64(sum.Dropped))
}

func (m *Metrics) bind(active func() []moq.TrackStats) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.active = active
	m.mu.Unlock()
}

func (m *Metrics) bindPeers(peers func() []PeerStats) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.peers = peers
	m.mu.Unlock()
}

func (m *Metrics) sessionOpened(s *moq.Session) {
	if m == nil {
		return
	}
	m.sessions.WithLabelValues(s.Draft().String(), s.Protocol()).Inc()
	m.sessionsAll.WithLabelValues(s.Draft().String(), s.Protocol()).Inc()
}

func (m *Metrics) sessionClosed(s *moq.Session) {
	if m == nil {
		return
	}
	m.sessions.WithLabelValues(s.Draft().String(), s.Protocol()).Dec()
}

func (m *Metrics) trackChanged(d float64) {
	if m != nil {
		m.tracks.Add(d)
	}
}

func (m *Metrics) announceChanged(d float64) {
	if m != nil {
		m.announces.Add(d)
	}
}

// addTrackStats adds an ended track's counters to the totals.
func (m *Metrics) addTrackStats(st moq.TrackStats) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.ended.ObjectsIn += st.ObjectsIn
	m.ended.BytesIn += st.BytesIn
	m.ended.ObjectsOut += st.ObjectsOut
	m.ended.BytesOut += st.BytesOut
	m.ended.Dropped += st.Dropped
	m.mu.Unlock()
}
