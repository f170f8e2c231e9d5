// The browser side of scripts/browser-test.sh: connects to our relay with
// @moq/lite over WebTransport (serverCertificateHashes), subscribes to one
// track, and reports every frame it receives to the driver that served it.
//
// Query string: relay (https URL), fp (SHA-256 hex), ns, track, count.
import { Connection, Path } from "@moq/lite";

const q = new URLSearchParams(location.search);
const relay = q.get("relay");
const fp = q.get("fp") ?? "";
const ns = q.get("ns") ?? "browser-test";
const trackName = q.get("track") ?? "data";
const want = Number(q.get("count") ?? "20");

const logEl = document.getElementById("log");
function post(path, body) {
	return fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
}
function log(msg) {
	logEl.textContent += msg + "\n";
	console.log("browser-test: " + msg);
	void post("/log", { msg }).catch(() => {});
}
async function finish(result) {
	document.title = `moq browser-test: ${result.ok ? "done" : "error"}`;
	log(`finish: ${JSON.stringify(result)}`);
	await post("/result", result);
}

function hexToBytes(hex) {
	const h = hex.replace(/[:\s]/g, "");
	if (!/^[0-9a-fA-F]{64}$/.test(h)) throw new Error(`fingerprint ${JSON.stringify(hex)}: want 64 hex digits`);
	const out = new Uint8Array(32);
	for (let i = 0; i < 32; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
	return out;
}

// Surface the library's own console lines (debug included) to the driver.
for (const level of ["debug", "warn", "error"]) {
	const orig = console[level].bind(console);
	console[level] = (...args) => {
		orig(...args);
		void post("/log", { msg: `[${level}] ${args.map((a) => (a instanceof Error ? a.stack : typeof a === "object" ? safeJSON(a) : String(a))).join(" ")}` }).catch(() => {});
	};
}
function safeJSON(v) {
	try {
		return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));
	} catch {
		return String(v);
	}
}

async function main() {
	if (!relay) throw new Error("no relay= in the query string");
	log(`connecting to ${relay} (WebTransport=${typeof WebTransport})`);
	const conn = await Connection.connect(new URL(relay), {
		websocket: { enabled: false },
		webtransport: { serverCertificateHashes: [{ algorithm: "sha-256", value: hexToBytes(fp) }] },
	});
	log(`connected: version=${conn.version}`);
	const broadcast = conn.consume(Path.from(ns));
	const track = broadcast.subscribe(trackName, 0);
	const frames = [];
	const decoder = new TextDecoder();
	while (frames.length < want) {
		const next = await track.readFrameSequence();
		if (next === undefined) throw new Error(`track ended after ${frames.length} frames`);
		const f = { group: next.group, frame: next.frame, text: decoder.decode(next.data) };
		frames.push(f);
		log(`frame ${frames.length}: group=${f.group} frame=${f.frame} text=${JSON.stringify(f.text)}`);
	}
	track.close();
	conn.close();
	await finish({ ok: true, version: conn.version, frames });
}

// describe renders an error for the report; Connection.connect races its
// transports with Promise.any, so its failures arrive as an AggregateError.
function describe(err) {
	if (err instanceof AggregateError) return `${err.message}: ${err.errors.map(describe).join("; ")}`;
	if (err instanceof Error) return err.stack?.includes(err.message) ? err.stack : `${err.name}: ${err.message}`;
	return String(err);
}

main().catch(async (err) => {
	await finish({ ok: false, error: describe(err) }).catch(() => {});
});
