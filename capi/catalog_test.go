package main

import "testing"

func TestParseCatalog(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []trackInfo
		wantErr bool
	}{
		{name: "catalogformat-01 with common fields and string version",
			in: `{"version":"1","streamingFormat":"1","commonTrackFields":{"selectionParams":{"codec":"opus"}},
			      "tracks":[{"name":"a","selectionParams":{"samplerate":48000,"lang":"en"}},
			                {"name":"v","selectionParams":{"codec":"avc1","width":1280,"height":720,"mimeType":"video/mp4"}}]}`,
			want: []trackInfo{
				{Name: "a", Codec: "opus", HasCodec: true, Language: "en", HasLang: true, SampleRate: 48000},
				{Name: "v", Codec: "avc1", HasCodec: true, MimeType: "video/mp4", HasMime: true, Width: 1280, Height: 720},
			}},
		{name: "flat MSF with bad numbers",
			in:   `{"version":1,"tracks":[{"name":"x","width":-1,"height":1.5,"bitrate":"300","samplerate":4294967296},{"codec":"nameless"}]}`,
			want: []trackInfo{{Name: "x", Bitrate: 300}}},
		{name: "NUL in a string", in: `{"tracks":[{"name":"n","codec":"a\u0000b"}]}`, want: []trackInfo{{Name: "n"}}},
		{name: "empty track list", in: `{"version":1,"tracks":[]}`, want: []trackInfo{}},
		{name: "delta update", in: `[{"op":"add","path":"/tracks/-","value":{}}]`, wantErr: true},
		{name: "deltaUpdate flag", in: `{"deltaUpdate":true,"tracks":[]}`, wantErr: true},
		{name: "no tracks", in: `{"version":1}`, wantErr: true},
		{name: "tracks not objects", in: `{"tracks":[1,2]}`, wantErr: true},
		{name: "version object", in: `{"version":{},"tracks":[]}`, wantErr: true},
		{name: "not JSON", in: `{"tracks":`, wantErr: true},
		{name: "bad UTF-8", in: "{\"tracks\":[{\"name\":\"\xff\"}]}", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseCatalog([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d tracks %+v, want %d", len(got), got, len(tt.want))
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("track %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func FuzzParseCatalog(f *testing.F) {
	f.Add([]byte(`{"version":1,"tracks":[{"name":"v","selectionParams":{"width":1}}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseCatalog(b) // must not panic
	})
}

func TestParseNamespace(t *testing.T) {
	for _, s := range []string{"", "/", "/a", "a/", "a//b"} {
		if _, err := parseNamespace(s); err == nil {
			t.Errorf("parseNamespace(%q) accepted", s)
		}
	}
	ns, err := parseNamespace("a/b/c")
	if err != nil || len(ns) != 3 || ns[2] != "c" {
		t.Errorf("parseNamespace(a/b/c) = %v, %v", ns, err)
	}
}
