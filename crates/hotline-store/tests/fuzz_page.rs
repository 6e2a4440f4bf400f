//! Property tests of page tokens: any text a client sends as a token either decodes to
//! a cursor that encodes back to a token decoding to the same cursor, or is refused
//! (`None`, which the stores turn into `page.page_token: not a token this server
//! issued`); every cursor the server issues decodes to itself. None panics.

use chrono::{DateTime, Utc};
use hotline_store::{
    DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, OrderCursor, PageRequest, decode_cursor, encode_cursor,
};
use proptest::prelude::*;
use uuid::Uuid;

fn config() -> ProptestConfig {
    // `PROPTEST_CASES` raises the count for a longer search.
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1024);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

fn cursor() -> impl Strategy<Value = OrderCursor> {
    (-8_000_000_000_000i64..8_000_000_000_000, 0u32..1_000_000_000, any::<u128>()).prop_map(|(s, n, id)| {
        OrderCursor { created_at: DateTime::<Utc>::from_timestamp(s, n).unwrap(), id: Uuid::from_u128(id) }
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn issued_cursors_round_trip(c in cursor()) {
        let token = encode_cursor(&c);
        prop_assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{token}");
        prop_assert!(token.len() <= 512, "the API accepts tokens of at most 512 characters");
        prop_assert_eq!(decode_cursor::<OrderCursor>(&token), Some(c));
    }

    #[test]
    fn any_token_decodes_or_is_refused(token in prop_oneof![any::<String>(), "[A-Za-z0-9_-]{0,120}"]) {
        if let Some(c) = decode_cursor::<OrderCursor>(&token) {
            prop_assert_eq!(decode_cursor::<OrderCursor>(&encode_cursor(&c)), Some(c));
        }
    }

    #[test]
    fn tampered_tokens_never_panic(c in cursor(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut raw = encode_cursor(&c).into_bytes();
        let i = at.index(raw.len());
        raw[i] = byte;
        if let Ok(token) = String::from_utf8(raw) {
            let _ = decode_cursor::<OrderCursor>(&token);
        }
    }

    #[test]
    fn page_sizes_stay_in_bounds(limit: u32) {
        let size = PageRequest { limit, cursor: None }.size();
        prop_assert!((1..=MAX_PAGE_SIZE).contains(&size));
        prop_assert_eq!(size, if limit == 0 { DEFAULT_PAGE_SIZE } else { limit.min(MAX_PAGE_SIZE) });
    }
}
