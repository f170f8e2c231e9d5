package wire

import "testing"

func benchSubscribe(d Draft) *Subscribe {
	m := &Subscribe{RequestID: 42, Namespace: Tuple{"example.com", "meeting=123"}, Name: "video",
		SubscriberPriority: 0x80, GroupOrder: GroupOrderAscending, FilterType: FilterAbsoluteStart, Start: Location{100, 0}}
	if d.Is07() {
		m.TrackAlias = 7
		m.Params = Params{IntParam(Param07DeliveryTimeout, 5000)}
	} else if d == Draft16 {
		m.Forward = true
		m.Params = Params{IntParam(Param16DeliveryTimeout, 5000)}
	} else if d.vi64() {
		m.Forward = true
		m.Params = Params{IntParam(Param18ObjectDeliveryTimeout, 5000)}
		if d == Draft20 { // the same filter as a LOCATION_FILTER
			m.FilterType, m.Start, m.Location = 0, Location{}, LocationFilter{Fields: 2, StartGroup: 100}
		}
	} else {
		m.Forward = true
		m.Params = Params{IntParam(Param14DeliveryTimeout, 5000)}
	}
	return m
}

func BenchmarkSubscribeEncode(b *testing.B) {
	for _, d := range []Draft{Draft07, Draft14, Draft16, Draft18, Draft20} {
		b.Run(d.String(), func(b *testing.B) {
			m := benchSubscribe(d)
			buf := make([]byte, 0, 256)
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if buf, err = AppendMessage(buf[:0], d, m); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

func BenchmarkSubscribeDecode(b *testing.B) {
	for _, d := range []Draft{Draft07, Draft14, Draft16, Draft18, Draft20} {
		b.Run(d.String(), func(b *testing.B) {
			enc, err := AppendMessage(nil, d, benchSubscribe(d))
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(enc)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := ParseMessage(enc, d, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
