//! Bearer tokens: kept as their BLAKE3 hashes, compared in constant time.

use crate::error::{Kind, ServeError};

/// Who a request is: the hash of its token (sessions belong to it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Caller(blake3::Hash);

/// The tokens the server accepts.
#[derive(Clone, Default)]
pub struct Tokens {
    hashes: Vec<blake3::Hash>,
}

/// Never prints the hashes.
impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tokens({} accepted)", self.hashes.len())
    }
}

impl Tokens {
    /// From lines of a token file: a token, or `blake3:HEX` (its hash); blank
    /// lines and `#` comments are skipped.
    pub fn parse(text: &str) -> Result<Tokens, String> {
        let mut hashes = Vec::new();
        for (i, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let hash = match line.strip_prefix("blake3:") {
                Some(hex) => blake3::Hash::from_hex(hex).map_err(|e| format!("line {i}: {e}"))?,
                None if line.len() < 16 => return Err(format!("line {i}: a token needs at least 16 characters")),
                None => blake3::hash(line.as_bytes()),
            };
            hashes.push(hash);
        }
        if hashes.is_empty() {
            return Err("no tokens".into());
        }
        Ok(Tokens { hashes })
    }

    /// Accepts no token at all (`--insecure` on loopback): every caller is one.
    pub fn open() -> Tokens {
        Tokens::default()
    }

    pub fn required(&self) -> bool {
        !self.hashes.is_empty()
    }

    /// The caller of a request with this `Authorization` header value.
    pub fn check(&self, authorization: Option<&str>) -> Result<Caller, ServeError> {
        if !self.required() {
            return Ok(Caller(blake3::hash(b"")));
        }
        let token = authorization.and_then(|h| h.strip_prefix("Bearer ")).map(str::trim);
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            return Err(ServeError::new(Kind::Unauthenticated, "a bearer token is required (Authorization: Bearer TOKEN)"));
        };
        let hash = blake3::hash(token.as_bytes());
        // blake3::Hash's equality is constant-time; every stored hash is compared.
        let known = self.hashes.iter().fold(false, |found, h| found | (*h == hash));
        if known {
            Ok(Caller(hash))
        } else {
            Err(ServeError::new(Kind::Unauthenticated, "unknown token"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_checked_and_hashed_tokens_accepted() {
        let hashed = blake3::hash(b"second-token-0123456789").to_hex();
        let tokens = Tokens::parse(&format!("# team\nfirst-token-0123456789\n\nblake3:{hashed}\n")).unwrap();
        let first = tokens.check(Some("Bearer first-token-0123456789")).unwrap();
        let second = tokens.check(Some("Bearer second-token-0123456789")).unwrap();
        assert_ne!(first, second, "each token is its own caller");
        for bad in [None, Some("Bearer "), Some("Bearer nope-nope-nope-nope"), Some("first-token-0123456789")] {
            assert_eq!(tokens.check(bad).unwrap_err().kind, Kind::Unauthenticated, "{bad:?}");
        }
        assert!(Tokens::parse("short").unwrap_err().contains("at least 16"));
        assert!(Tokens::parse("# nothing\n").is_err());
    }
}
