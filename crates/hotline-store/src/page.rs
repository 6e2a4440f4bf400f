//! Cursor pagination shared by every list.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

/// Largest page any list returns.
pub const MAX_PAGE_SIZE: u32 = 500;
/// Page size when the client asks for none.
pub const DEFAULT_PAGE_SIZE: u32 = 50;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// 1..=MAX_PAGE_SIZE; 0 means the default.
    pub limit: u32,
    /// Opaque cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

impl PageRequest {
    pub fn first(limit: u32) -> Self {
        Self { limit, cursor: None }
    }

    /// The page size to use, within bounds.
    pub fn size(&self) -> u32 {
        match self.limit {
            0 => DEFAULT_PAGE_SIZE,
            n => n.min(MAX_PAGE_SIZE),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Present when there may be more.
    pub next_cursor: Option<String>,
}

/// Encodes a cursor value as opaque URL-safe text.
pub fn encode_cursor<T: Serialize>(value: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("cursor serializes"))
}

/// Decodes a cursor made by [`encode_cursor`]; `None` for anything else.
pub fn decode_cursor<T: for<'de> Deserialize<'de>>(text: &str) -> Option<T> {
    let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Position in the order list: the last item's creation time and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCursor {
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub id: uuid::Uuid,
}
