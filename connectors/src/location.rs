//! How a spec names its data: a data entry's `url` parsed into a [`Location`].
//!
//! The forms, in the order they are recognized:
//!
//! | url                                         | reads                                   |
//! |---------------------------------------------|-----------------------------------------|
//! | `table://NAME[?version=N]`                  | the catalog's table `NAME`              |
//! | `delta+SCHEME://...[?version=N\|?timestamp=T]` | a Delta table (`file`, `s3`, `gs`, `az`) |
//! | `parquet+SCHEME://...`                      | a Parquet file, directory or glob       |
//! | `file:///...`, `s3://...`, `gs://...`, `az://...`, `abfss://...`, `http(s)://...` | a file by its extension or `format.type` |
//! | anything without a scheme                   | a path relative to the data directory   |
//!
//! A scheme prefix decides the format whatever `format.type` says (Vega-Lite writes
//! `"json"` for any URL without a file extension).
//!
//! ```
//! use vegalake_connectors::location::{Location, Target, TableFormat, TimeTravel};
//! let loc = Location::parse("delta+s3://lake/flights?version=3").unwrap();
//! assert_eq!(loc.format, Some(TableFormat::Delta));
//! assert_eq!(loc.time_travel, TimeTravel::Version(3));
//! assert!(matches!(loc.target, Target::Url(ref u) if u.as_str() == "s3://lake/flights"));
//! ```

use crate::error::{ConnectorError, Result};
use url::Url;

/// The object-store schemes a URL may name.
pub const STORE_SCHEMES: &[&str] = &["file", "s3", "s3a", "gs", "az", "azure", "abfs", "abfss", "http", "https"];

/// A format decided by the URL rather than by `format.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    Parquet,
    Delta,
}

/// Which version of a Delta table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TimeTravel {
    #[default]
    Latest,
    Version(u64),
    /// The version current at an RFC 3339 instant.
    Timestamp(String),
}

/// What a URL points at, before the catalog and the data directory resolve it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A path relative to the data directory.
    Relative(String),
    /// An absolute URL of a store.
    Url(Url),
    /// A table of the catalog.
    Named(String),
}

/// A parsed data URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub target: Target,
    pub format: Option<TableFormat>,
    pub time_travel: TimeTravel,
}

impl Location {
    /// Parses a data entry's `url`.
    pub fn parse(url: &str) -> Result<Location> {
        let invalid = |m: String| ConnectorError::Invalid(format!("url '{url}': {m}"));
        if let Some(rest) = url.strip_prefix("table://") {
            let (name, query) = rest.split_once('?').unwrap_or((rest, ""));
            if name.is_empty() || name.contains('/') {
                return Err(invalid("a catalog table is named as table://NAME".into()));
            }
            return Ok(Location { target: Target::Named(name.to_string()), format: None, time_travel: time_travel(query).map_err(invalid)? });
        }
        let (format, rest) = if let Some(rest) = url.strip_prefix("delta+") {
            (Some(TableFormat::Delta), rest)
        } else if let Some(rest) = url.strip_prefix("parquet+") {
            (Some(TableFormat::Parquet), rest)
        } else {
            if let Some((prefix, _)) = url.split_once("://").and_then(|(scheme, _)| scheme.split_once('+')) {
                return Err(invalid(format!("unknown format prefix '{prefix}+' (delta+ or parquet+)")));
            }
            (None, url)
        };
        let Some((scheme, _)) = rest.split_once("://") else {
            if format.is_some() {
                return Err(invalid("a format prefix needs an absolute URL such as delta+file:///path".into()));
            }
            return Ok(Location { target: Target::Relative(url.to_string()), format: None, time_travel: TimeTravel::Latest });
        };
        if !STORE_SCHEMES.contains(&scheme) {
            return Err(invalid(format!("unsupported scheme '{scheme}' (supported: {})", STORE_SCHEMES.join(", "))));
        }
        let mut parsed = Url::parse(rest).map_err(|e| invalid(e.to_string()))?;
        let mut time = TimeTravel::Latest;
        if format == Some(TableFormat::Delta) {
            time = time_travel(parsed.query().unwrap_or("")).map_err(invalid)?;
            parsed.set_query(None);
        }
        Ok(Location { target: Target::Url(parsed), format, time_travel: time })
    }
}

/// `version=N` or `timestamp=RFC3339` from a URL's query.
fn time_travel(query: &str) -> std::result::Result<TimeTravel, String> {
    let mut out = TimeTravel::Latest;
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let next = match key.as_ref() {
            "version" => TimeTravel::Version(value.parse().map_err(|_| format!("version must be a whole number, got '{value}'"))?),
            "timestamp" => {
                chrono::DateTime::parse_from_rfc3339(&value).map_err(|e| format!("timestamp '{value}' is not RFC 3339: {e}"))?;
                TimeTravel::Timestamp(value.into_owned())
            }
            other => return Err(format!("unknown parameter '{other}' (version or timestamp)")),
        };
        if out != TimeTravel::Latest {
            return Err("give either version or timestamp, once".into());
        }
        out = next;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let l = Location::parse("table://flights?version=2").unwrap();
        assert_eq!((l.target, l.time_travel), (Target::Named("flights".into()), TimeTravel::Version(2)));
        let l = Location::parse("delta+file:///data/t?timestamp=2024-01-01T00:00:00Z").unwrap();
        assert_eq!(l.time_travel, TimeTravel::Timestamp("2024-01-01T00:00:00Z".into()));
        assert_eq!(l.target, Target::Url(Url::parse("file:///data/t").unwrap()));
        let l = Location::parse("parquet+s3://b/dir/").unwrap();
        assert_eq!(l.format, Some(TableFormat::Parquet));
        // Queries of plain URLs belong to the URL.
        let l = Location::parse("https://example.com/data.json?x=1").unwrap();
        assert_eq!(l.target, Target::Url(Url::parse("https://example.com/data.json?x=1").unwrap()));
        assert_eq!(Location::parse("data/cars.json").unwrap().target, Target::Relative("data/cars.json".into()));
    }

    #[test]
    fn errors_say_what() {
        let err = |u: &str| Location::parse(u).unwrap_err().to_string();
        assert!(err("ftp://host/x.csv").contains("unsupported scheme 'ftp'"));
        assert!(err("iceberg+s3://b/t").contains("unknown format prefix"));
        assert!(err("delta+s3://b/t?version=x").contains("whole number"));
        assert!(err("delta+s3://b/t?version=1&timestamp=2024-01-01T00:00:00Z").contains("either"));
        assert!(err("delta+s3://b/t?timestamp=yesterday").contains("RFC 3339"));
        assert!(err("delta+relative/path").contains("absolute URL"));
        assert!(err("table://").contains("table://NAME"));
    }
}
