//! The catalog file, `vegalake.toml`: named tables, store options and roots a
//! process may read.
//!
//! ```toml
//! allow_roots = ["s3://lake/public"]
//!
//! [tables.flights]
//! url = "delta+s3://lake/flights"        # or a relative path: resolved against this file
//!
//! [stores."s3://lake"]                   # object_store configuration keys
//! endpoint = "http://127.0.0.1:9000"
//! region = "us-east-1"
//! allow_http = "true"
//! ```
//!
//! Specs name a table as `table://flights` (time travel: `table://flights?version=3`).

use crate::error::{ConnectorError, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The contents of a catalog file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    /// Store URLs or directories specs may read besides the data directory.
    #[serde(default)]
    pub allow_roots: Vec<String>,
    /// Named tables: `[tables.NAME] url = "..."`.
    #[serde(default)]
    pub tables: BTreeMap<String, CatalogTable>,
    /// Options of the store at a root URL (`s3://bucket`): object_store's
    /// configuration keys (`endpoint`, `region`, `access_key_id`, ...).
    #[serde(default)]
    pub stores: BTreeMap<String, BTreeMap<String, String>>,
    /// The directory relative table URLs resolve against.
    #[serde(skip)]
    pub base_dir: PathBuf,
}

/// One named table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogTable {
    /// Any data URL form except `table://`.
    pub url: String,
}

impl Catalog {
    /// Reads a catalog file.
    pub fn load(path: &Path) -> Result<Catalog> {
        let text = std::fs::read_to_string(path).map_err(|e| ConnectorError::Io { path: path.display().to_string(), source: e })?;
        let mut catalog: Catalog = toml::from_str(&text).map_err(|e| {
            let message = e.message().trim().to_string();
            let line = e.span().map(|s| text[..s.start].matches('\n').count() + 1);
            ConnectorError::Invalid(match line {
                Some(l) => format!("{}:{l}: {message}", path.display()),
                None => format!("{}: {message}", path.display()),
            })
        })?;
        catalog.base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        if let Some(name) = catalog.tables.iter().find(|(_, t)| t.url.starts_with("table://")).map(|(n, _)| n) {
            return Err(ConnectorError::Invalid(format!("{}: table '{name}' names another table; give its URL", path.display())));
        }
        Ok(catalog)
    }

    /// The table called `name`.
    pub fn table(&self, name: &str) -> Result<&CatalogTable> {
        self.tables.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.tables.keys().map(String::as_str).collect();
            let known =
                if known.is_empty() { "the catalog has no tables (pass --catalog vegalake.toml)".to_string() } else { format!("known: {}", known.join(", ")) };
            ConnectorError::Invalid(format!("table://{name}: no such table in the catalog; {known}"))
        })
    }

    /// The options of the store holding `url`: those of the longest matching root.
    pub fn store_options(&self, url: &url::Url) -> BTreeMap<String, String> {
        let u = url.as_str();
        self.stores
            .iter()
            .filter(|(root, _)| {
                let r = root.trim_end_matches('/');
                u == r || u.starts_with(&format!("{r}/"))
            })
            .max_by_key(|(root, _)| root.len())
            .map(|(_, o)| o.clone())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempdir::Dir, PathBuf) {
        let dir = tempdir::Dir::new();
        let path = dir.0.join("vegalake.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    mod tempdir {
        pub struct Dir(pub std::path::PathBuf);
        impl Dir {
            pub fn new() -> Dir {
                static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
                let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let p = std::env::temp_dir().join(format!("vegalake-catalog-{}-{n}", std::process::id()));
                std::fs::create_dir_all(&p).unwrap();
                Dir(p)
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    #[test]
    fn reads_tables_and_store_options() {
        let (_d, path) =
            write("[tables.f]\nurl = \"delta+s3://lake/f\"\n[stores.\"s3://lake\"]\nregion = \"eu\"\n[stores.\"s3://lake/private\"]\nregion = \"us\"\n");
        let c = Catalog::load(&path).unwrap();
        assert_eq!(c.table("f").unwrap().url, "delta+s3://lake/f");
        assert_eq!(c.store_options(&url::Url::parse("s3://lake/f/x.parquet").unwrap())["region"], "eu");
        assert_eq!(c.store_options(&url::Url::parse("s3://lake/private/x").unwrap())["region"], "us");
        assert!(c.store_options(&url::Url::parse("s3://lakehouse/x").unwrap()).is_empty());
        assert!(c.table("g").unwrap_err().to_string().contains("known: f"));
    }

    #[test]
    fn errors_name_the_line() {
        let (_d, path) = write("[tables.f]\nurl = \"x\"\nformat = 3\n");
        let e = Catalog::load(&path).unwrap_err().to_string();
        assert!(e.contains("vegalake.toml:3") && e.contains("format"), "{e}");
    }
}
