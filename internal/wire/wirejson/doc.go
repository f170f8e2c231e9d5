// Package wirejson converts MoQT wire units (control messages, subgroup and
// fetch streams, datagrams) to JSON and back, for drafts 07, 07cf, 14 and
// 16.
//
// The JSON is the "decoded" form of the moqtap conformance vectors
// (testdata/moqtap), extended where the vectors are silent:
//
//   - Field names are snake_case as the draft names them; where the two
//     drafts differ, each draft uses its own names ("subscribe_id" in 07,
//     "request_id" in 14; "announce" in 07 is "publish_namespace" in 14).
//   - Every integer is a decimal string ("128"). When reading, JSON numbers
//     and "0x"-prefixed hex strings are accepted too; one-byte flags also
//     accept true and false.
//   - Byte strings (namespace fields, track names, reason phrases, URIs,
//     string parameters) are JSON strings when they are valid UTF-8, and
//     {"hex": "..."} otherwise, so that every byte string round-trips.
//   - Payloads are "payload_hex". Extension headers are
//     "extension_headers": [{"type": "60", "value": "1"}, {"type": "11",
//     "value_hex": "..."}] (even types carry an integer, odd types bytes) in
//     subgroup streams and datagrams, and "extension_headers_hex" (raw) in
//     fetch streams, as in the vectors; a block that would not re-encode to
//     the same bytes is always given raw.
//   - Parameters are an object whose members are the parameters in wire
//     order, under their names for the draft and context (setup or message):
//     07 setup: role, path, max_subscribe_id; 07 message: authorization_info,
//     delivery_timeout, max_cache_duration; 14 setup: path, max_request_id,
//     authorization_token, max_auth_token_cache_size, authority,
//     moqt_implementation (0x07); 14 message: delivery_timeout,
//     authorization_token, max_cache_duration. A draft-14 authorization token
//     is {"alias_type", "token_alias", "token_type", "token_value" (hex)}
//     with the members its alias type uses, or {"raw_hex": ...} when it does
//     not parse (or would not re-encode identically). Other parameters go in
//     "unknown": [{"id": "0x21", "length": "4", "raw_hex": "..."}] (draft-14
//     even types: {"id": "0x20", "value": "7"}). To keep the wire order, a
//     name appears again when a parameter repeats or when unknown parameters
//     sit on both sides of a known one; readers take the members in document
//     order (standard JSON decoders that build maps keep only the last of
//     repeated names).
//   - A control message names its type in "message_type", the first member
//     (the vector files give it at file level). Data units carry
//     "stream_type" (and, in draft-14 subgroup streams and datagrams,
//     "stream_type_id", the wire type) as the vectors do. A draft-07cf
//     subgroup stream or datagram also has "subscribe_id".
//
// Draft-16 has its own forms (messages16.go, data16.go), as its vectors do:
// most fields that draft-14 had in fixed positions are draft-16 parameters,
// shown by name under "parameters" (delivery_timeout, authorization_token,
// expires, largest_object {"group","object"}, forward, subscriber_priority,
// subscription_filter {"filter_type", "start_group", "start_object",
// "end_group"}, group_order, new_group_request), track extensions under
// "track_extensions" and object extension headers under
// "extension_headers", both by name (delivery_timeout, max_cache_duration,
// default_publisher_priority, default_publisher_group_order,
// dynamic_groups, prior_group_id_gap, prior_object_id_gap). Unknown
// draft-16 message parameters are shown (a session would refuse them).
// Four draft-16 vectors decode otherwise than their JSON says, because the
// draft text does (delta-coded parameter types, object ID delta + 1); see
// againstText in vectors_test.go.
//
// Decoding is strict about the input being one whole unit and reports an
// *Error naming the field at fault. Encoding rejects members the unit does
// not have (given the draft and the other fields), so typos do not pass
// silently; lengths ("payload_length", "extension_headers_length",
// "length") may be left out and are checked when present; a draft-14
// "stream_type_id" left out is derived from the other members.
package wirejson
