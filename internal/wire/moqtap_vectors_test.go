package wire

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// moqtapMessageVector is one line of a testdata/moqtap messages.tsv
// extract (drafts whose vectors the shared moqtap copy does not hold; see
// testdata/moqtap/SOURCE.txt).
type moqtapMessageVector struct {
	file, id, expect string
	b                []byte
}

func loadMoqtapTSV(t testing.TB, draft string) []moqtapMessageVector {
	return loadMoqtapTSVFile(t, draft, "messages.tsv")
}

func loadMoqtapTSVFile(t testing.TB, draft, name string) []moqtapMessageVector {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "moqtap", "transport", draft, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var vs []moqtapMessageVector
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fs := strings.Split(line, "\t")
		if len(fs) != 4 {
			t.Fatalf("%s: bad line %q", draft, line)
		}
		b, err := hex.DecodeString(fs[3])
		if err != nil {
			t.Fatalf("%s %s: %v", fs[0], fs[1], err)
		}
		vs = append(vs, moqtapMessageVector{fs[0], fs[1], fs[2], b})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return vs
}

// checkMoqtapVector says why v does not pass in d ("" when it does): an ok
// vector decodes and re-encodes byte for byte, a non-canonical one
// decodes, an error one is refused.
func checkMoqtapVector(d Draft, v moqtapMessageVector) string {
	switch v.file {
	case "datagram.json", "subgroup.json", "fetch-header.json":
		out, err := recodeData(d, v.file, v.b)
		switch {
		case v.expect == "error" && err == nil:
			return "accepted"
		case v.expect == "error":
			return ""
		case err != nil:
			return err.Error()
		case v.expect == "ok" && !bytes.Equal(out, v.b):
			return "re-encoded " + hex.EncodeToString(out)
		}
		return ""
	}
	m, n, err := ParseMessage(v.b, d, nil)
	switch {
	case v.expect == "error" && err == nil:
		return "accepted"
	case v.expect == "error":
		return ""
	case err != nil:
		return err.Error()
	case n != len(v.b):
		return "used part of the frame"
	case v.expect == "noncanonical":
		return ""
	}
	enc, err := AppendMessage(nil, d, m)
	if err != nil {
		return "re-encoding: " + err.Error()
	}
	if !bytes.Equal(enc, v.b) {
		return "re-encoded " + hex.EncodeToString(enc)
	}
	return ""
}

// runMoqtapVectors runs the extract of draft and checks that exactly the
// vectors in known (file/id, or file/* for all of a file: the reason)
// fail. A known error vector that is refused anyway is not counted (it is
// refused for another reason than the vector's).
func runMoqtapVectors(t *testing.T, d Draft, draft string, known map[string]string) {
	runMoqtapTSV(t, d, draft, "messages.tsv", known)
}

func runMoqtapTSV(t *testing.T, d Draft, draft, name string, known map[string]string) {
	pass, failed, moot := 0, 0, 0
	for _, v := range loadMoqtapTSVFile(t, draft, name) {
		key := v.file + "/" + v.id
		why := checkMoqtapVector(d, v)
		reason, isKnown := known[key]
		if !isKnown {
			reason, isKnown = known[v.file+"/*"]
		}
		switch {
		case isKnown && v.expect == "error" && why == "":
			moot++
			t.Logf("not counted %s: refused, but %s", key, reason)
		case why == "" && isKnown:
			t.Errorf("%s now passes; drop it from the known differences (%s)", key, reason)
		case why != "" && !isKnown:
			t.Errorf("%s (%s): %s", key, v.expect, why)
		case why != "":
			failed++
			t.Logf("known difference %s: %s (%s)", key, why, reason)
		default:
			pass++
		}
	}
	t.Logf("moqtap %s %s: %d of %d vectors pass byte for byte, %d known differences, %d not counted", draft, name, pass, pass+failed, failed, moot)
}
