//! What a process may read: the data directory, the roots it was given
//! (`--allow-root`, the catalog's `allow_roots`) and the catalog's tables. Every URL
//! a spec names is checked here before any store is touched.

use crate::catalog::Catalog;
use crate::error::{ConnectorError, Result};
use crate::location::{Location, TableFormat, Target, TimeTravel};
use crate::memory::MemoryTables;
use crate::warehouse::WarehouseTables;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use url::Url;

/// Where data may come from, as configured for a process or a chart.
#[derive(Debug, Clone)]
pub struct DataAccess {
    /// Relative URLs resolve here, and cannot leave it.
    pub data_dir: PathBuf,
    /// Store URLs (`s3://bucket/prefix`) or directories specs may also read.
    pub allow_roots: Vec<String>,
    /// Named tables and store options.
    pub catalog: Arc<Catalog>,
    /// Tables handed over in memory (`vegalake+dataset://NAME`): readable by
    /// definition, since their owner gave them.
    pub memory: Arc<MemoryTables>,
    /// Tables of warehouses reached through their owner's connection, named like
    /// in-memory tables (`vegalake+dataset://NAME`).
    pub warehouse: Arc<WarehouseTables>,
    /// What becomes of a file vega.js would load itself (JSON, CSV, TopoJSON) that
    /// this policy forbids: left to the browser, with the reason (the default: the
    /// chart works as in vega.js), or an error (a service, whose callers must learn
    /// that the server refused). Lake tables outside the policy are always errors.
    pub forbidden_files: ForbiddenFiles,
}

/// See [`DataAccess::forbidden_files`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ForbiddenFiles {
    #[default]
    LeftToTheBrowser,
    Refused,
}

impl Default for DataAccess {
    fn default() -> Self {
        DataAccess::new(".")
    }
}

/// A URL resolved to a store location that the policy allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedUrl {
    /// An absolute URL (`file:///...` for local paths).
    pub url: Url,
    /// Decided by the URL's prefix (or the catalog's), else by `format.type`.
    pub format: Option<TableFormat>,
    pub time_travel: TimeTravel,
}

enum Root {
    Dir(PathBuf),
    Prefix(Url),
}

impl DataAccess {
    /// Access to one directory only.
    pub fn new(data_dir: impl Into<PathBuf>) -> DataAccess {
        DataAccess {
            data_dir: data_dir.into(),
            allow_roots: Vec::new(),
            catalog: Arc::new(Catalog::default()),
            memory: Arc::default(),
            warehouse: Arc::default(),
            forbidden_files: ForbiddenFiles::default(),
        }
    }

    /// Resolves a data URL through the catalog and the data directory, and checks
    /// that the result lies under an allowed root.
    pub fn resolve(&self, url: &str) -> Result<ResolvedUrl> {
        let loc = Location::parse(url)?;
        let (loc, from_catalog) = match &loc.target {
            Target::Named(name) => {
                let entry = self.catalog.table(name)?;
                let mut inner = Location::parse(&entry.url)?;
                if loc.time_travel != TimeTravel::Latest {
                    inner.time_travel = loc.time_travel.clone();
                }
                if let Target::Relative(rel) = &inner.target {
                    inner.target = Target::Url(file_url(&absolute(&self.catalog.base_dir.join(rel)))?);
                }
                (inner, true)
            }
            _ => (loc, false),
        };
        let url = match loc.target {
            Target::Relative(rel) => self.relative(&rel, url)?,
            Target::Url(u) => u,
            Target::Named(_) => unreachable!("catalog entries name URLs"),
        };
        // The catalog is configuration: its tables are readable by definition.
        if !from_catalog {
            self.check(&url)?;
        }
        Ok(ResolvedUrl { url, format: loc.format, time_travel: loc.time_travel })
    }

    /// A path under the data directory as a `file:` URL.
    fn relative(&self, rel: &str, original: &str) -> Result<Url> {
        let Some(rel_path) = lexical_normal(Path::new(rel)) else {
            return Err(ConnectorError::Forbidden(format!("url '{original}' leaves the data directory {}", self.data_dir.display())));
        };
        // Canonical: a data directory given as `../data` makes URLs without `..`.
        let dir = canonical_or_absolute(&self.data_dir);
        let mut path = dir.join(rel_path);
        if rel.ends_with('/') {
            path.as_mut_os_string().push("/");
        }
        // A symbolic link inside the data directory may still point outside it.
        if let (Ok(canonical), Ok(root)) = (existing_prefix(&path).canonicalize(), dir.canonicalize()) {
            if !canonical.starts_with(&root) {
                return Err(ConnectorError::Forbidden(format!("url '{original}' leaves the data directory {}", self.data_dir.display())));
            }
        }
        file_url(&path)
    }

    /// Errs unless `url` lies under the data directory or an allowed root.
    pub fn check(&self, url: &Url) -> Result<()> {
        let roots = self.roots()?;
        let allowed = if url.scheme() == "file" {
            let path = url.to_file_path().map_err(|_| ConnectorError::Invalid(format!("url '{url}' is not a local path")))?;
            let canonical = existing_prefix(&path).canonicalize().ok();
            roots.iter().any(|r| match r {
                Root::Dir(dir) => path.starts_with(dir) || canonical.as_ref().is_some_and(|c| c.starts_with(dir)),
                Root::Prefix(_) => false,
            })
        } else {
            if url.path_segments().into_iter().flatten().any(|s| s == ".." || s == ".") {
                return Err(ConnectorError::Forbidden(format!("url '{url}' has '.' or '..' segments")));
            }
            roots.iter().any(|r| match r {
                Root::Prefix(root) => under(url, root),
                Root::Dir(_) => false,
            })
        };
        if allowed {
            return Ok(());
        }
        let mut listed: Vec<String> = vec![self.data_dir.display().to_string()];
        listed.extend(self.allow_roots.iter().chain(&self.catalog.allow_roots).cloned());
        Err(ConnectorError::Forbidden(format!("url '{url}' is outside the allowed roots ({}); allow it with --allow-root or the catalog", listed.join(", "))))
    }

    fn roots(&self) -> Result<Vec<Root>> {
        let mut roots = vec![Root::Dir(canonical_or_absolute(&self.data_dir))];
        for r in self.allow_roots.iter().chain(&self.catalog.allow_roots) {
            roots.push(match r.split_once("://") {
                Some(("file", _)) => {
                    let u = Url::parse(r).map_err(|e| ConnectorError::Invalid(format!("allowed root '{r}': {e}")))?;
                    Root::Dir(canonical_or_absolute(&u.to_file_path().map_err(|_| ConnectorError::Invalid(format!("allowed root '{r}' is not a local path")))?))
                }
                Some(_) => Root::Prefix(Url::parse(r).map_err(|e| ConnectorError::Invalid(format!("allowed root '{r}': {e}")))?),
                None => Root::Dir(canonical_or_absolute(&self.catalog.base_dir.join(r))),
            });
        }
        Ok(roots)
    }
}

/// True if `url` is `root` or below it (whole path segments).
fn under(url: &Url, root: &Url) -> bool {
    if url.scheme() != root.scheme() || url.host_str() != root.host_str() || url.port() != root.port() {
        return false;
    }
    let prefix = root.path().trim_end_matches('/');
    let path = url.path();
    path == prefix || path.starts_with(&format!("{prefix}/")) || prefix.is_empty()
}

/// A relative path without `.` and `..`, or `None` if it is absolute or climbs
/// above its start.
fn lexical_normal(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// The longest leading part of a path without glob characters (what exists on disk).
fn existing_prefix(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        if c.as_os_str().to_string_lossy().contains(['*', '?', '[']) {
            break;
        }
        out.push(c);
    }
    out
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

fn canonical_or_absolute(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| absolute(path))
}

fn file_url(path: &Path) -> Result<Url> {
    // Keep a trailing slash: it marks a directory (a partitioned dataset).
    let trailing = path.as_os_str().to_string_lossy().ends_with('/');
    let mut url = Url::from_file_path(path).map_err(|_| ConnectorError::Invalid(format!("path {} is not absolute", path.display())))?;
    if trailing && !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access() -> DataAccess {
        let dir = std::env::temp_dir().join(format!("vegalake-access-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/a.json"), "[]").unwrap();
        DataAccess { allow_roots: vec!["s3://lake/public".into(), "https://example.com/data".into()], ..DataAccess::new(dir) }
    }

    fn forbidden(a: &DataAccess, url: &str) -> String {
        match a.resolve(url) {
            Err(e @ ConnectorError::Forbidden(_)) => e.to_string(),
            other => panic!("{url}: expected forbidden, got {other:?}"),
        }
    }

    #[test]
    fn relative_urls_stay_in_the_data_dir() {
        let a = access();
        assert!(a.resolve("sub/a.json").unwrap().url.path().ends_with("/sub/a.json"));
        assert!(a.resolve("sub/../sub/a.json").is_ok());
        assert!(forbidden(&a, "../../etc/passwd").contains("leaves the data directory"));
        assert!(forbidden(&a, "sub/../../x.json").contains("leaves the data directory"));
    }

    #[test]
    fn absolute_urls_need_a_root() {
        let a = access();
        assert!(forbidden(&a, "file:///etc/passwd").contains("outside the allowed roots"));
        assert!(a.resolve("s3://lake/public/t.parquet").is_ok());
        assert!(a.resolve("delta+s3://lake/public/t?version=1").is_ok());
        forbidden(&a, "s3://lake/private/t.parquet");
        forbidden(&a, "s3://lake/publicity/t.parquet");
        forbidden(&a, "s3://other/public/t.parquet");
        forbidden(&a, "s3://lake/public/../private/t.parquet");
        assert!(a.resolve("https://example.com/data/x.csv").is_ok());
        forbidden(&a, "https://example.com/secret/x.csv");
        forbidden(&a, "https://example.com/data/../secret/x.csv");
        let inside = format!("file://{}/sub/a.json", a.data_dir.display());
        assert!(a.resolve(&inside).is_ok());
    }

    #[test]
    fn catalog_tables_resolve_relative_to_the_catalog() {
        let mut catalog = Catalog { base_dir: PathBuf::from("/lake"), ..Catalog::default() };
        catalog.tables.insert("t".into(), crate::catalog::CatalogTable { url: "delta+s3://private/t".into() });
        catalog.tables.insert("local".into(), crate::catalog::CatalogTable { url: "flights/".into() });
        let a = DataAccess { catalog: Arc::new(catalog), ..access() };
        let r = a.resolve("table://t?version=4").unwrap();
        assert_eq!((r.url.as_str(), r.format, r.time_travel), ("s3://private/t", Some(TableFormat::Delta), TimeTravel::Version(4)));
        assert_eq!(a.resolve("table://local").unwrap().url.as_str(), "file:///lake/flights/");
    }
}
